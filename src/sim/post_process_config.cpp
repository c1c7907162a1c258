#include "pcnn/sim/post_process_config.hpp"

#include "pcnn/core/error.hpp"

namespace pcnn {

void PostProcessConfig::validate(const std::string& where, const std::string& key_prefix) const {
  auto need = [&](int value, long long lo, long long hi, const std::string& key,
                  const std::string& why) {
    if (value < lo || value > hi)
      throw Error(where, key_prefix + key + ": must be in " + std::to_string(lo) + ".." +
                             std::to_string(hi) + why);
  };
  need(lanes, 1, 4096, "lanes", "");
  // Upper limits bound the simulated time and the bytes one step moves: an
  // on-chip line buffer beyond 16 MiB is not what this unit is.
  need(line_buffer_bytes, 64, 1 << 24, "line_buffer_bytes", " (16 MiB)");
  need(dram_burst_bytes, 1, 1 << 20, "dram_burst_bytes", " (1 MiB)");
  need(setup_cycles, 0, 1000000, "setup_cycles", "");
  need(register_write_cycles, 0, 1000, "register_write_cycles", "");
}

}  // namespace pcnn
