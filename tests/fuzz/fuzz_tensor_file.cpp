// libFuzzer target: the int8 tensor file reader (pcnn-sim --input / --dump).
// A file the reader accepts must survive a write/read round trip unchanged.
#include <cstdint>
#include <cstdlib>

#include "fuzz_scratch.hpp"
#include "pcnn/core/error.hpp"
#include "pcnn/sim/tensor_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = pcnn::fuzz::write_scratch("input.pcnt", data, size);
  pcnn::Int8Tensor t;
  try {
    t = pcnn::read_tensor_file(path);
  } catch (const pcnn::Error&) {
    return 0;  // rejected with a message: the expected outcome for most inputs
  }
  if (static_cast<std::int64_t>(t.data.size()) != std::int64_t{t.c} * t.h * t.w) std::abort();
  const std::string copy = pcnn::fuzz::scratch_dir() + "/copy.pcnt";
  pcnn::write_tensor_file(copy, t);
  const pcnn::Int8Tensor back = pcnn::read_tensor_file(copy);
  if (back.c != t.c || back.h != t.h || back.w != t.w || back.data != t.data) std::abort();
  return 0;
}
