#pragma once
// Energy of one layer (or a sum of layers) by component, with the power and
// efficiency figures derived from it. Units: pJ, ns, mW (1 pJ/ns = 1 mW).
#include <array>
#include <cstdint>

#include "pcnn/energy/component.hpp"

namespace pcnn {

struct EnergyReport {
  std::array<double, kComponentCount> dynamic_pj{};  // actions times energy per action
  std::array<double, kComponentCount> leakage_pj{};  // leakage power times time
  double time_ns = 0.0;
  // Operations, 2 per MAC: effective = the MACs the lanes issued; dense
  // equivalent = the MACs of the layer computed dense (M * C/groups * K * OH * OW),
  // the paper's convention for TOPS/W.
  double effective_ops = 0.0;
  double dense_equivalent_ops = 0.0;

  double component_pj(Component c) const {
    return dynamic_pj[index_of(c)] + leakage_pj[index_of(c)];
  }
  double on_chip_pj() const;  // Table IX's five and the post-processing unit
  double dram_pj() const { return component_pj(Component::dram); }
  double total_pj() const { return on_chip_pj() + dram_pj(); }
  double on_chip_leakage_pj() const;
  // Average power over time_ns; 0 when no time passed.
  double power_mw(Component c) const;
  double on_chip_power_mw() const;
  // Operations per on-chip pJ = TOPS/W (DRAM excluded, as in the paper).
  double tops_per_w_effective() const;
  double tops_per_w_dense_equivalent() const;

  EnergyReport& operator+=(const EnergyReport& o);
};

}  // namespace pcnn
