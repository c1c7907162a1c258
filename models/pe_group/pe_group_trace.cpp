// VCD tracing of the PE group: one PE's lanes and masks plus group-level
// pipeline and SRAM strobe signals, written only inside the cycle window.
#include <algorithm>
#include <string>

#include "models/pe_group/pe_group.hpp"
#include "models/trace/vcd_writer.hpp"

namespace pcnn {

void PeGroup::attach_tracer(VcdWriter* vcd, std::uint64_t from, std::uint64_t to, int traced_pe) {
  vcd_ = vcd;
  trace_from_ = from;
  trace_to_ = to;
  traced_pe_ = std::clamp(traced_pe, 0, pe_count_ - 1);
  core_.set_stream_detail(vcd_ != nullptr);  // the trace shows each step's pointers
  if (vcd_) setup_tracer();
}

void PeGroup::setup_tracer() {
  TraceIds& t = ids_;
  VcdWriter& v = *vcd_;
  using F = TraceFormat;
  const std::string g = "top.pe_group.";
  const std::string ctl = "controller", st1 = "stage 1: window fetch",
                    st2 = "stage 2: masks and pointers (PE " + std::to_string(traced_pe_) + ")",
                    st3 = "stage 3: MAC lanes (PE " + std::to_string(traced_pe_) + ")",
                    sram = "SRAM strobes", dma = "host DMA buffers";
  t.state = v.add(g + "controller_state", 3, ctl, F::decimal);
  // The pass controller's states in order (models/pe_core/pass_controller.hpp).
  v.set_value_names(t.state, {"wait_weight_chunk", "refilling", "computing",
                              "wait_output_buffer", "writeback", "done"});
  t.band = v.add(g + "band", 16, ctl, F::decimal);
  t.tile = v.add(g + "tile", 16, ctl, F::decimal);
  t.group = v.add(g + "group", 16, ctl, F::decimal);
  // The host controller's DMA as the PE group sees it: buffers filled and
  // released so far in the current layer (TileHandshake rings).
  const std::string h = "top.host_controller.dma.";
  t.weight_chunks_filled = v.add(h + "weight_chunks_filled", 16, dma, F::decimal);
  t.weight_chunks_released = v.add(h + "weight_chunks_released", 16, dma, F::decimal);
  t.input_bands_filled = v.add(h + "input_bands_filled", 16, dma, F::decimal);
  t.input_bands_released = v.add(h + "input_bands_released", 16, dma, F::decimal);
  t.output_bands_filled = v.add(h + "output_bands_filled", 16, dma, F::decimal);
  t.output_bands_released = v.add(h + "output_bands_released", 16, dma, F::decimal);
  t.s1_valid = v.add(g + "stage1.valid", 1, st1);
  t.s1_busy = v.add(g + "stage1.fetch_busy", 1, st1);
  t.s1_pos = v.add(g + "stage1.position", 20, st1, F::decimal);
  t.s1_amask = v.add(g + "stage1.activation_mask", 16, st1, F::binary);
  t.s2_valid = v.add(g + "stage2.valid", 1, st2);
  t.s2_pos = v.add(g + "stage2.position", 20, st2, F::decimal);
  const std::string pe = g + "stage2.pe" + std::to_string(traced_pe_) + ".";
  t.s2_wmask = v.add(pe + "weight_mask", 16, st2, F::binary);
  t.s2_amask = v.add(pe + "activation_mask", 16, st2, F::binary);
  t.s2_smask = v.add(pe + "sparsity_mask", 16, st2, F::binary);
  t.s2_count = v.add(pe + "effectual_macs", 16, st2, F::decimal);
  for (int p = 0; p < kMaxKernelPositions; ++p)
    t.s2_offset[p] =
        p < 9 ? v.add(pe + "pointer_offset" + std::to_string(p), 4, st2, F::decimal) : -1;
  t.s3_valid = v.add(g + "stage3.valid", 1, st3);
  t.s3_pos = v.add(g + "stage3.position", 20, st3, F::decimal);
  t.s3_cycle = v.add(g + "stage3.step_cycle", 16, st3, F::decimal);
  t.macs = v.add(g + "stage3.macs_issued", 16, st3, F::decimal);
  const std::string pe3 = g + "stage3.pe" + std::to_string(traced_pe_) + ".";
  for (int l = 0; l < 8; ++l) {
    t.lane_w[l] = t.lane_a[l] = t.lane_p[l] = -1;
    if (l >= lanes_) continue;
    const std::string lane = pe3 + "lane" + std::to_string(l) + "_";
    t.lane_w[l] = v.add(lane + "weight", 8, st3, F::signed_decimal);
    t.lane_a[l] = v.add(lane + "activation", 8, st3, F::signed_decimal);
    t.lane_p[l] = v.add(lane + "product", 16, st3, F::signed_decimal);
  }
  t.psum = v.add(pe3 + "partial_sum", 32, st3, F::signed_decimal);
  t.w_strobe = v.add("top.weight_sram.strobe", 1, sram);
  t.w_addr = v.add("top.weight_sram.address", 32, sram);
  t.p_strobe = v.add("top.pattern_sram.strobe", 1, sram);
  t.p_addr = v.add("top.pattern_sram.address", 32, sram);
  t.d_strobe = v.add("top.data_sram.strobe", 1, sram);
  t.d_write = v.add("top.data_sram.write", 1, sram);
  t.d_addr = v.add("top.data_sram.address", 32, sram);
}

void PeGroup::trace_cycle(bool mac) {
  const TraceIds& t = ids_;
  auto bits = [](std::int64_t v, int width) {
    return static_cast<std::uint64_t>(v) & ((std::uint64_t{1} << width) - 1);
  };
  const PeCore& c = core_;
  const PeCoreTrace& tr_ = c.trace();
  const PeLayer& L = c.layer();
  const int q = c.controller_pass();
  vcd_->begin_cycle(c.cycle());
  vcd_->set(t.state, static_cast<std::uint64_t>(c.controller_state()));
  vcd_->set(t.band, static_cast<std::uint64_t>(L.pass_band(q)));
  vcd_->set(t.tile, static_cast<std::uint64_t>(L.pass_tile(q)));
  vcd_->set(t.group, static_cast<std::uint64_t>(L.pass_group(q)));
  vcd_->set(t.s1_valid, c.s1_valid());
  vcd_->set(t.s1_busy, c.s1_busy());
  vcd_->set(t.s1_pos, static_cast<std::uint64_t>(c.s1_pos()));
  vcd_->set(t.s1_amask, c.s1_act_mask());
  vcd_->set(t.s2_valid, c.s2_valid());
  vcd_->set(t.s2_pos, static_cast<std::uint64_t>(c.s2_pos()));
  vcd_->set(t.s2_wmask, tr_.s2_wmask);
  vcd_->set(t.s2_amask, tr_.s2_amask);
  vcd_->set(t.s2_smask, tr_.s2_smask);
  vcd_->set(t.s2_count, tr_.s2_count);
  std::uint8_t offsets[kMaxKernelPositions] = {};
  pointer_offsets(tr_.s2_smask, L.K, offsets);
  for (int p = 0; p < L.K && p < kMaxKernelPositions; ++p)
    if (t.s2_offset[p] >= 0) vcd_->set(t.s2_offset[p], offsets[p]);
  vcd_->set(t.s3_valid, mac);
  vcd_->set(t.s3_pos, static_cast<std::uint64_t>(tr_.s3_pos));
  vcd_->set(t.s3_cycle, static_cast<std::uint64_t>(tr_.s3_t));
  vcd_->set(t.macs, static_cast<std::uint64_t>(tr_.macs));
  for (int l = 0; l < lanes_ && l < 8; ++l) {
    const bool used = mac && l < tr_.lanes_used;
    const std::int32_t w = used ? tr_.lane_w[l] : 0;
    const std::int32_t a = used ? tr_.lane_a[l] : 0;
    vcd_->set(t.lane_w[l], bits(w, 8));
    vcd_->set(t.lane_a[l], bits(a, 8));
    vcd_->set(t.lane_p[l], bits(w * a, 16));
  }
  vcd_->set(t.psum, bits(tr_.psum_before, 32));  // running partial sum of the traced PE
  vcd_->set(t.w_strobe, tr_.wsram);
  if (tr_.wsram) vcd_->set(t.w_addr, tr_.waddr);
  vcd_->set(t.p_strobe, tr_.psram);
  if (tr_.psram) vcd_->set(t.p_addr, tr_.paddr);
  vcd_->set(t.d_strobe, tr_.dsram);
  if (tr_.dsram) {
    vcd_->set(t.d_write, tr_.dsram_write);
    vcd_->set(t.d_addr, tr_.daddr);
  }
  auto count = [&](std::int64_t v) { return bits(v, 16); };
  vcd_->set(t.weight_chunks_filled, count(handshake_.weight_chunks.filled()));
  vcd_->set(t.weight_chunks_released, count(handshake_.weight_chunks.released()));
  vcd_->set(t.input_bands_filled, count(handshake_.input_bands.filled()));
  vcd_->set(t.input_bands_released, count(handshake_.input_bands.released()));
  vcd_->set(t.output_bands_filled, count(handshake_.output_bands.filled()));
  vcd_->set(t.output_bands_released, count(handshake_.output_bands.released()));
}

}  // namespace pcnn
