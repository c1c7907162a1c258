#include "pcnn/sim/sim_types.hpp"

#include "pcnn/core/error.hpp"

namespace pcnn {

ActMode parse_act_mode(const std::string& text) {
  if (text == "off") return ActMode::off;
  if (text == "gate") return ActMode::gate;
  if (text == "skip") return ActMode::skip;
  throw Error("--act-mode", "'" + text + "' is not one of off, gate, skip");
}

const char* to_string(ActMode mode) {
  switch (mode) {
    case ActMode::off:
      return "off";
    case ActMode::gate:
      return "gate";
    case ActMode::skip:
      return "skip";
  }
  return "off";
}

Timing parse_timing(const std::string& text) {
  if (text == "cycle") return Timing::cycle;
  if (text == "lt") return Timing::lt;
  throw Error("--timing", "'" + text + "' is not one of cycle, lt");
}

const char* to_string(Timing timing) { return timing == Timing::lt ? "lt" : "cycle"; }

}  // namespace pcnn
