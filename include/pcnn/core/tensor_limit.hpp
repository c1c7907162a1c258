#pragma once
// One size limit for every tensor the programs allocate from a shape they were
// given rather than from bytes they read: the graph input of --input-shape, the
// activations shape inference and the float interpreter compute, the int8
// network description, the layers of an image set, and the network inputs and
// tensor files (.npy, PGM/PPM, PNG, PCNT). The pruner and the simulator check
// against the same number, before anything of that size is allocated.
//
// The limit counts values (elements), not bytes: 2^26 by default (256 MiB as
// float, 64 MiB as int8; 1x64x1024x1024 still fits). The environment variable
// PCNN_MAX_TENSOR_VALUES sets another one (1 .. 2^40) for larger inputs; a sweep's
// child processes inherit it.
#include <cstdint>
#include <string>
#include <vector>

namespace pcnn {

inline constexpr std::int64_t kDefaultMaxTensorValues = std::int64_t{1} << 26;
inline constexpr const char* kMaxTensorValuesVariable = "PCNN_MAX_TENSOR_VALUES";

// The limit in force. Throws pcnn::Error("PCNN_MAX_TENSOR_VALUES", ...) when the
// variable is set but is not an integer in 1..2^40.
std::int64_t max_tensor_values();

// The product of `dims`, saturated at INT64_MAX (so a product that would overflow
// still compares as over any limit); a negative dimension counts as 0.
std::int64_t tensor_values(const std::vector<std::int64_t>& dims);

// "[1,3,224,224]"
std::string tensor_shape_text(const std::vector<std::int64_t>& dims);

// Throws pcnn::Error(where, subject + " holds N values, more than the limit of L
// values per tensor (PCNN_MAX_TENSOR_VALUES raises it)") when `values` is over
// the limit. `subject` names the tensor, e.g. "tensor 'x' [1,3,20000,20000]".
void check_tensor_values(const std::string& where, const std::string& subject, std::int64_t values);
// The same for a shape: the subject becomes "<what> [d0,d1,...]".
void check_tensor_shape(const std::string& where, const std::string& what,
                        const std::vector<std::int64_t>& dims);

}  // namespace pcnn
