#pragma once
// A read that gathers several address ranges in one transaction: the PE group
// loads an activation window (one slice of channels per pixel) this way, so one
// window costs one b_transport. The data pointer receives the segments back to
// back; data_length is their total.
#include <cstdint>
#include <vector>

#include <tlm>

#include "models/pe_core/pe_core_ports.hpp"

namespace pcnn {

struct GatherExtension : tlm::tlm_extension<GatherExtension> {
  using Segment = MemSegment;
  std::vector<Segment> segments;

  tlm::tlm_extension_base* clone() const override { return new GatherExtension(*this); }
  void copy_from(const tlm::tlm_extension_base& other) override {
    segments = static_cast<const GatherExtension&>(other).segments;
  }
};

}  // namespace pcnn
