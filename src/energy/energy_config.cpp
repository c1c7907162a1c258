#include "pcnn/energy/energy_config.hpp"

#include <cmath>
#include <utility>

#include "pcnn/core/error.hpp"
#include "pcnn/core/json_object_reader.hpp"

namespace pcnn {

namespace {

std::size_t action_index(const char* key) {
  for (std::size_t i = 0; i < kActions.size(); ++i)
    if (std::string(kActions[i].key) == key) return i;
  throw Error("energy model", std::string("no action named '") + key + "'");
}

// Actions whose energy the `energy` section holds (DRAM's is in dram.*).
bool configured_here(const ActionField& a) {
  return a.energy_key != nullptr && a.component != Component::dram;
}

}  // namespace

bool is_sram(Component c) {
  return c == Component::data_sram || c == Component::weight_sram || c == Component::pattern_sram;
}

double EnergyConfig::pj(const char* action_key) const {
  return action_pj[action_index(action_key)];
}

EnergyConfig default_energy_config() {
  // Calibrated to Table IX (55 nm, 300 MHz, 1 V) with the activity of
  // VGG-16-CIFAR dense on the default architecture, rounded to 4 digits; the
  // derivation is tools/energy/calibrate.py, its assumptions docs/energy.md.
  // Energies in pJ per action unit, leakage in mW, area in mm^2 (Table IX).
  EnergyConfig e;
  auto set = [&](const char* key, double pj) { e.action_pj[action_index(key)] = pj; };
  set("data_sram_read_bytes", 0.6761);
  set("data_sram_write_bytes", 0.6761);
  set("weight_sram_read_bytes", 0.6047);
  set("weight_sram_write_bytes", 0.6047);
  set("pattern_sram_read_bytes", 0.1069);
  set("pattern_sram_write_bytes", 0.1069);
  set("kernel_register_write_bytes", 0.07179);
  set("kernel_register_reads", 0.07179);
  set("window_write_bytes", 0.07179);
  set("window_shift_bytes", 0.07179);
  set("window_reads", 0.07179);
  set("psum_reads", 0.2871);
  set("psum_writes", 0.2871);
  set("macs_issued", 0.05604);
  set("spm_decodes", 0.05604);
  set("pointer_generations", 0.05604);
  set("requantisations", 0.8967);
  // The post-processing unit is not in Table IX; its values follow stated rules
  // (docs/energy.md, "Post-processing unit"): its 16 KiB line buffer is priced
  // as an SRAM scaled from the Data SRAM (0.6761 x sqrt(16 / 160); the Pattern
  // SRAM's 0.1069 x sqrt(16 / 4) gives the same 0.2138), an element op as one
  // 8x8-bit MAC, leakage and area as 16 KiB of Data SRAM plus 32 of the PE
  // group's 256 MAC lanes. The values belong to the default unit (16 KiB).
  set("post_process_line_buffer_read_bytes", 0.2138);
  set("post_process_line_buffer_write_bytes", 0.2138);
  set("post_process_element_ops", 0.05604);
  auto component = [&](Component c, double leakage_mw, double area_mm2) {
    e.leakage_mw[index_of(c)] = leakage_mw;
    e.area_mm2[index_of(c)] = area_mm2;
  };
  component(Component::data_sram, 13.34, 3.25);
  component(Component::weight_sram, 10.67, 2.48);
  component(Component::pattern_sram, 0.90, 0.19);
  component(Component::register_file, 1.36, 1.58);
  component(Component::pe_group, 0.49, 0.50);
  component(Component::post_process, 1.395, 0.3875);  // 1.334 + 0.06125 mW, 0.325 + 0.0625 mm^2
  // The SRAM values belong to the default architecture's macros (Table IX's chip).
  auto reference = [&](Component c, std::int64_t size, int word_bytes, int banks) {
    e.reference_size_bytes[index_of(c)] = size;
    e.reference_word_bytes[index_of(c)] = word_bytes;
    e.reference_banks[index_of(c)] = banks;
  };
  reference(Component::data_sram, 160 * 1024, 16, 8);
  reference(Component::weight_sram, 128 * 1024, 64, 4);
  reference(Component::pattern_sram, 4 * 1024, 32, 4);
  return e;
}

void EnergyConfig::validate(const std::string& where) const {
  for (std::size_t i = 0; i < kActions.size(); ++i) {
    if (!configured_here(kActions[i])) continue;
    const double v = action_pj[i];
    if (!(std::isfinite(v) && v >= 0.0))
      throw Error(where, std::string("energy.") + kComponents[index_of(kActions[i].component)].key +
                             "." + kActions[i].energy_key + ": must be a finite number >= 0");
  }
  for (const ComponentInfo& c : kComponents) {
    if (!c.on_chip) continue;
    const std::string prefix = std::string("energy.") + c.key + ".";
    const std::size_t k = index_of(c.id);
    if (!(std::isfinite(leakage_mw[k]) && leakage_mw[k] >= 0.0))
      throw Error(where, prefix + "leakage_mw: must be a finite number >= 0");
    if (!(std::isfinite(area_mm2[k]) && area_mm2[k] >= 0.0))
      throw Error(where, prefix + "area_mm2: must be a finite number >= 0");
    if (!is_sram(c.id)) continue;
    if (reference_size_bytes[k] <= 0)
      throw Error(where, prefix + "reference_size_bytes: must be positive");
    if (reference_word_bytes[k] <= 0)
      throw Error(where, prefix + "reference_word_bytes: must be positive");
    if (reference_banks[k] <= 0) throw Error(where, prefix + "reference_banks: must be positive");
  }
  const SramScaling& x = sram_scaling;
  if (!(std::isfinite(x.access_fixed_bytes) && x.access_fixed_bytes >= 0.0 &&
        x.access_fixed_bytes <= 1e6))
    throw Error(where, "energy.sram_scaling.access_fixed_bytes: must be in 0..1000000");
  for (const auto& [key, share] :
       {std::pair<const char*, double>{"bank_periphery_share", x.bank_periphery_share},
        {"width_periphery_share", x.width_periphery_share}})
    if (!(std::isfinite(share) && share >= 0.0 && share < 1.0))
      throw Error(where, std::string("energy.sram_scaling.") + key + ": must be in [0, 1)");
  if (!(x.bank_periphery_share + x.width_periphery_share < 1.0))
    throw Error(where,
                "energy.sram_scaling: bank_periphery_share + width_periphery_share must be "
                "below 1 (the rest is the bit cells)");
}

void read_energy_config(const nlohmann::json& j, const std::string& where, EnergyConfig& e) {
  JsonObjectReader top(j, where, "energy.");
  for (const ComponentInfo& c : kComponents) {
    if (!c.on_chip) continue;
    const nlohmann::json* section = top.object(c.key);
    if (!section) continue;
    JsonObjectReader r(*section, where, std::string("energy.") + c.key + ".");
    for (std::size_t i = 0; i < kActions.size(); ++i)
      if (kActions[i].component == c.id && configured_here(kActions[i]))
        r.get(kActions[i].energy_key, e.action_pj[i]);
    r.get("leakage_mw", e.leakage_mw[index_of(c.id)]);
    r.get("area_mm2", e.area_mm2[index_of(c.id)]);
    if (is_sram(c.id)) {
      r.get("reference_size_bytes", e.reference_size_bytes[index_of(c.id)]);
      r.get("reference_word_bytes", e.reference_word_bytes[index_of(c.id)]);
      r.get("reference_banks", e.reference_banks[index_of(c.id)]);
    }
    r.finish();
  }
  if (const nlohmann::json* x = top.object("sram_scaling")) {
    JsonObjectReader r(*x, where, "energy.sram_scaling.");
    r.get("access_fixed_bytes", e.sram_scaling.access_fixed_bytes);
    r.get("bank_periphery_share", e.sram_scaling.bank_periphery_share);
    r.get("width_periphery_share", e.sram_scaling.width_periphery_share);
    r.finish();
  }
  top.finish();
}

nlohmann::json energy_config_to_json(const EnergyConfig& e) {
  nlohmann::json j = nlohmann::json::object();
  for (const ComponentInfo& c : kComponents) {
    if (!c.on_chip) continue;
    nlohmann::json s = nlohmann::json::object();
    for (std::size_t i = 0; i < kActions.size(); ++i)
      if (kActions[i].component == c.id && configured_here(kActions[i]))
        s[kActions[i].energy_key] = e.action_pj[i];
    s["leakage_mw"] = e.leakage_mw[index_of(c.id)];
    s["area_mm2"] = e.area_mm2[index_of(c.id)];
    if (is_sram(c.id)) {
      s["reference_size_bytes"] = e.reference_size_bytes[index_of(c.id)];
      s["reference_word_bytes"] = e.reference_word_bytes[index_of(c.id)];
      s["reference_banks"] = e.reference_banks[index_of(c.id)];
    }
    j[c.key] = s;
  }
  j["sram_scaling"] = {{"access_fixed_bytes", e.sram_scaling.access_fixed_bytes},
                       {"bank_periphery_share", e.sram_scaling.bank_periphery_share},
                       {"width_periphery_share", e.sram_scaling.width_periphery_share}};
  return j;
}

}  // namespace pcnn
