#include "pcnn/energy/energy_model.hpp"

#include <cmath>
#include <cstring>

namespace pcnn {

namespace {

const SramConfig& sram_of(const ArchConfig& arch, Component c) {
  switch (c) {
    case Component::data_sram:
      return arch.data_sram;
    case Component::weight_sram:
      return arch.weight_sram;
    default:
      return arch.pattern_sram;
  }
}

std::int64_t mac_lanes(const ArchConfig& arch) {
  return static_cast<std::int64_t>(arch.pe_count) * arch.lanes_per_pe;
}

}  // namespace

std::int64_t register_file_bytes(const ArchConfig& arch) {
  const std::int64_t kernel_sets = arch.kernel_register_double_buffering ? 2 : 1;
  const std::int64_t per_pe =
      kernel_sets * arch.kernel_register_words + 4LL * arch.psum_entries_per_pe;
  return arch.pe_count * per_pe + 9LL * arch.kernel_register_words;
}

SramScale sram_scale(const SramConfig& sram, const EnergyConfig& cfg, Component c) {
  const std::size_t k = index_of(c);
  const double size = static_cast<double>(sram.size_bytes);
  const double size0 = static_cast<double>(cfg.reference_size_bytes[k]);
  const double width = sram.word_bytes, width0 = cfg.reference_word_bytes[k];
  const double banks = sram.banks, banks0 = cfg.reference_banks[k];
  const SramScaling& x = cfg.sram_scaling;
  SramScale s;
  // One access: the decoder and word line (k bytes' worth) plus w bytes of bit
  // lines, all along lines that grow with the square root of the bank's capacity.
  const double bank_ratio = (size / banks) / (size0 / banks0);
  s.energy_per_byte = std::sqrt(bank_ratio) * (x.access_fixed_bytes / width + 1.0) /
                      (x.access_fixed_bytes / width0 + 1.0);
  const double cells = 1.0 - x.bank_periphery_share - x.width_periphery_share;
  s.leakage_and_area = cells * size / size0 + x.bank_periphery_share * banks / banks0 +
                       x.width_periphery_share * (banks * width) / (banks0 * width0);
  return s;
}

ResolvedEnergy resolve_energy(const ArchConfig& arch, bool with_post_process_unit) {
  const EnergyConfig& cfg = arch.energy;
  const ArchConfig reference;  // the sizes the register-file and PE-group values belong to
  ResolvedEnergy r;
  r.leakage_mw = cfg.leakage_mw;
  r.area_mm2 = cfg.area_mm2;
  std::array<double, kComponentCount> energy_scale;
  energy_scale.fill(1.0);
  for (const ComponentInfo& c : kComponents) {
    const std::size_t k = index_of(c.id);
    double size_scale = 1.0;
    if (is_sram(c.id)) {
      const SramScale scale = sram_scale(sram_of(arch, c.id), cfg, c.id);
      size_scale = scale.leakage_and_area;
      energy_scale[k] = scale.energy_per_byte;
    } else if (c.id == Component::register_file) {
      size_scale = static_cast<double>(register_file_bytes(arch)) /
                   static_cast<double>(register_file_bytes(reference));
    } else if (c.id == Component::pe_group) {
      size_scale = static_cast<double>(mac_lanes(arch)) / static_cast<double>(mac_lanes(reference));
    } else if (c.id == Component::post_process) {
      const double buffer = static_cast<double>(arch.post_process.line_buffer_bytes) /
                            static_cast<double>(reference.post_process.line_buffer_bytes);
      const double lanes = static_cast<double>(arch.post_process.lanes) /
                           static_cast<double>(reference.post_process.lanes);
      energy_scale[k] = std::sqrt(buffer);  // its line-buffer bytes only, not the lane ops
      // The default unit's leakage and area are its line buffer's and its lanes'
      // in these shares (docs/energy.md); each part follows its own size.
      const double unit = with_post_process_unit ? 1.0 : 0.0;
      r.leakage_mw[k] *= unit * (kPostProcessBufferLeakageShare * buffer +
                                 (1.0 - kPostProcessBufferLeakageShare) * lanes);
      r.area_mm2[k] *= unit * (kPostProcessBufferAreaShare * buffer +
                               (1.0 - kPostProcessBufferAreaShare) * lanes);
    }
    r.leakage_mw[k] *= size_scale;
    r.area_mm2[k] *= size_scale;
  }
  for (std::size_t i = 0; i < kActions.size(); ++i) {
    const ActionField& a = kActions[i];
    if (!a.energy_key) continue;
    const bool lane_op = a.component == Component::post_process && std::strcmp(a.unit, "byte") != 0;
    r.action_pj[i] = a.component == Component::dram
                         ? arch.dram.energy_pj_per_byte
                         : cfg.action_pj[i] * (lane_op ? 1.0 : energy_scale[index_of(a.component)]);
  }
  r.leakage_mw[index_of(Component::dram)] = 0.0;
  r.area_mm2[index_of(Component::dram)] = 0.0;
  return r;
}

double ResolvedEnergy::on_chip_area_mm2() const {
  double sum = 0.0;
  for (const ComponentInfo& c : kComponents)
    if (c.on_chip) sum += area_mm2[index_of(c.id)];
  return sum;
}

EnergyReport layer_energy(const LayerStats& s, const ResolvedEnergy& e) {
  EnergyReport r;
  for (std::size_t i = 0; i < kActions.size(); ++i)
    r.dynamic_pj[index_of(kActions[i].component)] +=
        static_cast<double>(kActions[i].count(s)) * e.action_pj[i];
  for (std::size_t k = 0; k < kComponentCount; ++k) r.leakage_pj[k] = e.leakage_mw[k] * s.time_ns;
  r.time_ns = s.time_ns;
  r.effective_ops = 2.0 * static_cast<double>(s.macs_issued);
  r.dense_equivalent_ops = 2.0 * static_cast<double>(s.dense_macs);
  return r;
}

EnergyReport energy_at_full_utilisation(const LayerStats& s, const ResolvedEnergy& e,
                                        const ArchConfig& arch) {
  LayerStats busy = s;
  busy.time_ns = static_cast<double>(s.macs_issued) / static_cast<double>(mac_lanes(arch)) *
                 arch.clock_period_ns();
  return layer_energy(busy, e);
}

double EnergyReport::on_chip_pj() const {
  double sum = 0.0;
  for (const ComponentInfo& c : kComponents)
    if (c.on_chip) sum += component_pj(c.id);
  return sum;
}

double EnergyReport::on_chip_leakage_pj() const {
  double sum = 0.0;
  for (const ComponentInfo& c : kComponents)
    if (c.on_chip) sum += leakage_pj[index_of(c.id)];
  return sum;
}

double EnergyReport::power_mw(Component c) const {
  return time_ns > 0.0 ? component_pj(c) / time_ns : 0.0;
}

double EnergyReport::on_chip_power_mw() const {
  return time_ns > 0.0 ? on_chip_pj() / time_ns : 0.0;
}

double EnergyReport::tops_per_w_effective() const {
  const double pj = on_chip_pj();
  return pj > 0.0 ? effective_ops / pj : 0.0;
}

double EnergyReport::tops_per_w_dense_equivalent() const {
  const double pj = on_chip_pj();
  return pj > 0.0 ? dense_equivalent_ops / pj : 0.0;
}

EnergyReport& EnergyReport::operator+=(const EnergyReport& o) {
  for (std::size_t k = 0; k < kComponentCount; ++k) {
    dynamic_pj[k] += o.dynamic_pj[k];
    leakage_pj[k] += o.leakage_pj[k];
  }
  time_ns += o.time_ns;
  effective_ops += o.effective_ops;
  dense_equivalent_ops += o.dense_equivalent_ops;
  return *this;
}

nlohmann::json energy_report_json(const EnergyReport& r) {
  nlohmann::json components = nlohmann::json::object();
  for (const ComponentInfo& c : kComponents) {
    const std::size_t k = index_of(c.id);
    components[c.key] = {{"dynamic_pj", r.dynamic_pj[k]},
                         {"leakage_pj", r.leakage_pj[k]},
                         {"total_pj", r.component_pj(c.id)},
                         {"power_mw", r.power_mw(c.id)}};
  }
  return {{"components", components},
          {"on_chip_pj", r.on_chip_pj()},
          {"on_chip_leakage_pj", r.on_chip_leakage_pj()},
          {"dram_pj", r.dram_pj()},
          {"total_pj", r.total_pj()},
          {"on_chip_power_mw", r.on_chip_power_mw()},
          {"time_ns", r.time_ns},
          {"effective_ops", r.effective_ops},
          {"dense_equivalent_ops", r.dense_equivalent_ops},
          {"tops_per_w_effective", r.tops_per_w_effective()},
          {"tops_per_w_dense_equivalent", r.tops_per_w_dense_equivalent()}};
}

EnergyReport energy_report_from_json(const nlohmann::json& j) {
  EnergyReport r;
  const nlohmann::json& components = j.at("components");
  for (const ComponentInfo& c : kComponents) {
    const nlohmann::json& x = components.at(c.key);
    r.dynamic_pj[index_of(c.id)] = x.at("dynamic_pj").get<double>();
    r.leakage_pj[index_of(c.id)] = x.at("leakage_pj").get<double>();
  }
  r.time_ns = j.at("time_ns").get<double>();
  r.effective_ops = j.at("effective_ops").get<double>();
  r.dense_equivalent_ops = j.at("dense_equivalent_ops").get<double>();
  return r;
}

nlohmann::json area_json(const ResolvedEnergy& e) {
  nlohmann::json j = nlohmann::json::object();
  for (const ComponentInfo& c : kComponents)
    if (c.on_chip) j[c.key] = e.area_mm2[index_of(c.id)];
  j["on_chip"] = e.on_chip_area_mm2();
  return j;
}

IndexOverhead index_overhead(const SpmLayer& layer) {
  IndexOverhead o;
  o.index_bits = static_cast<std::uint64_t>(layer.geom.kernel_count()) *
                 static_cast<std::uint64_t>(layer.index_bits());
  o.weight_bits = 8ULL * layer.weight_image_bytes();
  return o;
}

nlohmann::json index_overhead_json(const IndexOverhead& o) {
  return {{"pattern_sram_bits", o.index_bits},
          {"weight_sram_bits", o.weight_bits},
          {"ratio", o.ratio()}};
}

}  // namespace pcnn
