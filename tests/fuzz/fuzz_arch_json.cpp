// libFuzzer target: the architecture JSON reader (pcnn-sim --arch, sweep "arch").
// An accepted architecture must survive arch_to_json / arch_from_json unchanged.
#include <cstdint>
#include <cstdlib>

#include "fuzz_scratch.hpp"
#include "pcnn/core/error.hpp"
#include "pcnn/sim/arch_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = pcnn::fuzz::write_scratch("arch.json", data, size);
  pcnn::ArchConfig arch;
  try {
    arch = pcnn::read_arch_file(path);
  } catch (const pcnn::Error&) {
    return 0;
  }
  const nlohmann::json j = pcnn::arch_to_json(arch);
  const nlohmann::json again = pcnn::arch_to_json(pcnn::arch_from_json(j, "round trip"));
  if (again != j) std::abort();
  return 0;
}
