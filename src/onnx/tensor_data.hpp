#pragma once
// Decoding and encoding of ONNX tensor payloads: raw_data, the typed *_data
// fields and external-data files, for the element types the pruner reads.
#include <cstdint>
#include <string>
#include <vector>

#include "onnx/onnx_pb.h"

namespace pcnn::onnx_detail {

// Where a tensor comes from, for error messages and external data.
struct TensorContext {
  std::string model_path;  // the .onnx file; errors name it
  std::string model_dir;   // external-data locations are relative to it
};

// "FLOAT", "FLOAT16", ... for messages.
std::string data_type_name(int data_type);

// True for the element types decode_float_tensor accepts.
bool is_float_type(int data_type);

// Number of elements the dims describe; throws on negative or overflowing dims.
std::int64_t element_count(const onnx::TensorProto& tensor, const TensorContext& ctx);

// Values of a FLOAT, FLOAT16, BFLOAT16 or DOUBLE tensor as float.
std::vector<float> decode_float_tensor(const onnx::TensorProto& tensor, const TensorContext& ctx);

// Values of an INT64 or INT32 tensor (e.g. a Reshape shape).
std::vector<std::int64_t> decode_int_tensor(const onnx::TensorProto& tensor,
                                            const TensorContext& ctx);

// The raw little-endian bytes of an external-data tensor of any fixed-width type.
std::string read_external_payload(const onnx::TensorProto& tensor, const TensorContext& ctx);

// Drops the tensor's payload (all data fields, external-data entries) and frees
// the memory it held; dims, name and data_type stay.
void drop_tensor_payload(onnx::TensorProto& tensor);

// Size in bytes of `count` elements of `data_type` when stored as raw_data.
std::uint64_t raw_byte_count(int data_type, std::uint64_t count);

// Appends the little-endian raw_data encoding of `values` as `data_type`.
void encode_raw(const float* values, std::size_t count, int data_type, std::string& out);

// A zero-filled vector of `count` floats. Large ones are backed by transparent
// huge pages where the kernel offers them (madvise), which makes touching a
// model's worth of fresh memory several times cheaper.
std::vector<float> allocate_floats(std::size_t count);

// IEEE half precision conversions (round to nearest even).
float half_to_float(std::uint16_t h);
std::uint16_t float_to_half(float f);
float bfloat16_to_float(std::uint16_t b);
std::uint16_t float_to_bfloat16(float f);

}  // namespace pcnn::onnx_detail
