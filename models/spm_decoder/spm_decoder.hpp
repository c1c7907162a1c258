#pragma once
// SPM decoder: turns the SPM indices of a kernel-register refill into 9-bit
// weight masks through the table in Pattern Config. Combinational; the PE
// group calls it during a refill and it counts its decodes.
#include <cstdint>

#include <systemc>

#include "models/pattern_config/pattern_config.hpp"
#include "models/spm_decoder/spm_decoder_logic.hpp"
#include "pcnn/sim/stats_source.hpp"

namespace pcnn {

class SpmDecoder : public sc_core::sc_module, public StatsSource {
 public:
  SpmDecoder(const sc_core::sc_module_name& name, const PatternConfig& pac)
      : sc_core::sc_module(name), pac_(pac) {}

  // Index beyond the table: reported through SC_REPORT_ERROR (the images were
  // validated, so this means a broken model), decoded as an empty mask.
  std::uint16_t decode(std::uint32_t index) {
    ++decodes_;
    const PatternTable& t = pac_.table();
    if (!t.dense() && index >= t.masks.size())
      SC_REPORT_ERROR(name(), "SPM index beyond the Pattern Config table");
    return t.decode(index);
  }
  const PatternTable& table() const { return pac_.table(); }
  std::uint64_t decodes() const { return decodes_; }
  void reset_stats() { decodes_ = 0; }
  nlohmann::json stats_json() const override { return {{"decodes", decodes_}}; }

 private:
  const PatternConfig& pac_;
  std::uint64_t decodes_ = 0;
};

}  // namespace pcnn
