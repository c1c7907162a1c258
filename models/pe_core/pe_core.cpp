#include "models/pe_core/pe_core.hpp"

#include <algorithm>
#include <string>

#include "pcnn/core/error.hpp"

namespace pcnn {

PeCore::PeCore(const ArchConfig& arch, PeCorePorts& ports)
    : ports_(ports),
      P_(arch.pe_count),
      regw_(arch.kernel_register_words),
      double_registers_(arch.kernel_register_double_buffering),
      kreg_(arch.pe_count, arch.kernel_register_words),
      mac_(arch.lanes_per_pe),
      psum_(arch.pe_count) {
  for (PointerStream& s : dyn_stream_) s.resize(P_, regw_);
  for (std::vector<std::uint16_t>& c : step_issued_) c.assign(static_cast<std::size_t>(P_), 0);
}

void PeCore::start(const SpmLayer& layer, const TilePlan& plan, const PatternTable& pac,
                   ActMode mode) {
  PeLayer& L = L_;
  L.layer = &layer;
  L.plan = &plan;
  L.pac = &pac;
  L.mode = mode;
  // n, V and K come from Pattern Config; the host's plan must agree with them.
  L.K = pac.kernel_size;
  L.n = pac.n;
  L.V = static_cast<int>(pac.masks.size());
  const std::string where = "top.pe_group";
  if (L.n < 1 || L.n > regw_ || L.K < 1 || L.K > kMaxKernelPositions || L.n > L.K)
    throw Error(where, "Pattern Config holds n = " + std::to_string(L.n) +
                           ", K = " + std::to_string(L.K) + ", which the datapath cannot run");
  L.kpr = regw_ / L.n;
  L.index_bits = L.V > 1 ? ceil_log2(static_cast<std::uint32_t>(L.V)) : 0;
  if (L.K != layer.geom.kernel_size() || L.kpr != plan.channels_per_group ||
      L.index_bits != plan.index_bits)
    throw Error(where, "Pattern Config (n, V, K) disagrees with the tile plan of layer '" +
                           layer.name + "'");
  L.C = layer.geom.in_channels;
  L.M = layer.geom.out_channels;
  L.OW = layer.geom.out_w();
  L.pe_count = P_;
  L.passes = static_cast<int>(plan.bands.size()) * plan.tiles * plan.groups;

  ctrl_.start_layer(double_registers_);
  kreg_.start_layer(L);
  // Stage 2 of gate and skip packs the masks from the window itself; only the
  // full streams and the trace read them per channel.
  win_.start_layer(L, (mode != ActMode::off && stream_detail_) || trace_on_);
  psum_.start_layer(L);
  ptr_.start_layer(L);
  s1_ = s2_ = s3_ = Item{};
  s1_next_pass_ = 0;
  s1_next_pos_ = 0;
  s1_wait_dram_ = false;
  s1_release_band_ = false;
  running_ = true;
}

void PeCore::reset_stats() {
  stats_ = PeCoreStats{};
  ctrl_.reset_counters();
  kreg_.reset_counters();
  win_.reset_counters();
  ptr_.sparsity_io.reset_counters();
  mac_.reset_counters();
  psum_.reset_counters();
}

nlohmann::json PeCore::block_counters() const {
  return {{"kernel_register", {{"write_bytes", kreg_.write_bytes()}, {"reads", kreg_.reads()}}},
          {"window_register",
           {{"write_bytes", win_.write_bytes()},
            {"shift_bytes", win_.shift_bytes()},
            {"reads", win_.reads()}}},
          {"spm_decoder", {{"decodes", kreg_.spm_decoder.decodes()}}},
          {"pointer_generator", {{"generations", ptr_.sparsity_io.generations()}}},
          {"mac_lanes",
           {{"macs_issued", mac_.macs_issued()}, {"macs_effectual", mac_.macs_effectual()}}},
          {"partial_sums", {{"reads", psum_.reads()}, {"writes", psum_.writes()}}},
          {"requantiser", {{"requantisations", psum_.requantisations()}}}};
}

void PeCore::tick() {
  ++cycle_;
  ++stats_.cycles;
  if (trace_on_) {
    tr_.wsram = tr_.psram = tr_.dsram = false;
    tr_.lanes_used = 0;
    tr_.macs = 0;
  }
  const std::uint64_t refills = ctrl_.refills();
  ctrl_.step(cycle_, L_, ports_, *this);
  stats_.refills += ctrl_.refills() - refills;
  bool mac = false;
  if (s3_.valid) {
    mac_cycle();
    mac = true;
  }
  advance_stage3();
  advance_stage2();
  advance_stage1();
  if (mac) {
    ++stats_.mac_cycles;
  } else {
    PipelineView v;
    v.s1_valid = s1_.valid;
    v.s1_first = s1_.pos == 0;
    v.s2_valid = s2_.valid;
    v.s1_wait_dram = s1_wait_dram_;
    v.ctrl_active = ctrl_.active();
    attribute_stall(ctrl_.reason(), v, stats_.stalls);
  }
  if (ctrl_.done()) running_ = false;
}

std::uint64_t PeCore::mac_only_edges_ahead() const {
  // Every stage holds an item (or stage 1 has no work left), so no stage can
  // advance; the controller is active, so it polls no handshake. Each such edge
  // would only count down the step whose MACs execute() already summed.
  if (!running_ || !ctrl_.active() || !s3_.valid || !s2_.valid) return 0;
  if (!s1_.valid && s1_next_pass_ < L_.passes) return 0;  // stage 1 may still load
  const int left = s3_.cycles - s3_.t;
  if (left <= 1) return 0;
  // Double-buffered registers: the next pass's load must not be skipped over.
  return std::min<std::uint64_t>(static_cast<std::uint64_t>(left - 1),
                                 ctrl_.quiet_edges(cycle_, L_));
}

void PeCore::book_mac_edges(std::uint64_t edges) {
  cycle_ += edges;
  stats_.cycles += edges;
  stats_.mac_cycles += edges;
  s3_.t += static_cast<int>(edges);
}

bool PeCore::next_edge_needs_host() const {
  if (!running_) return false;
  if (ctrl_.needs_host(cycle_ + 1, L_, ports_)) return true;
  if (s1_release_band_) return true;  // the band's last window may move on
  // Stage 1 may load its next window: a band that is in stays in until released.
  return s1_next_pass_ < L_.passes && !ports_.input_band_ready(L_.pass_band(s1_next_pass_));
}

PeWait PeCore::waiting_for() const {
  if (!running_ || s3_.valid || s2_.valid) return PeWait::none;
  if (ctrl_.load_waits_apart()) return PeWait::none;  // a chunk and another buffer: tick
  const bool s1_blocked =
      s1_.valid ? cycle_ >= s1_.ready : (s1_wait_dram_ || s1_next_pass_ >= L_.passes);
  if (!s1_blocked) return PeWait::none;
  if (ctrl_.reason() == &StallCycles::dram && !s1_wait_dram_) {
    if (ctrl_.state() == PassController::State::wait_refill) return PeWait::weight_chunk;
    if (ctrl_.state() == PassController::State::wait_writeback) return PeWait::output_band;
  }
  // Idle time costs nothing: waiting for a refill and an input band at once
  // sleeps until either arrives instead of ticking every edge.
  if (ctrl_.reason() == &StallCycles::dram && s1_wait_dram_ && !s1_.valid &&
      ctrl_.state() == PassController::State::wait_refill)
    return PeWait::weight_chunk_or_input_band;
  if (ctrl_.active() && s1_wait_dram_ && !s1_.valid) return PeWait::input_band;
  return PeWait::none;
}

void PeCore::book_dram_stalls(std::uint64_t edges) {
  cycle_ += edges;
  stats_.cycles += edges;
  stats_.stalls.dram += edges;
}

RefillTiming PeCore::start_refill(int q) {
  const std::uint64_t decodes = kreg_.spm_decoder.decodes();
  const RefillTiming t = kreg_.refill(L_, q, ports_);
  stats_.spm_decodes += kreg_.spm_decoder.decodes() - decodes;
  // Mode off ignores the activation mask: its pointers are fixed for the group.
  ptr_.load_group(L_, q, kreg_, L_.mode == ActMode::off, stream_detail_ || trace_on_);
  if (trace_on_) {
    tr_.wsram = true;
    tr_.waddr = t.weight_address;
    tr_.psram = L_.index_bits > 0;
    tr_.paddr = t.pattern_address;
  }
  return t;
}

void PeCore::start_pass(int q) {
  if (L_.pass_group(q) == 0) psum_.clear();  // first group of a tile
}

std::uint64_t PeCore::start_writeback(int q) {
  std::uint64_t address = 0;
  const std::uint64_t cycles = psum_.write_back(L_, q, ports_, &address);
  if (trace_on_) {
    tr_.dsram = true;
    tr_.dsram_write = true;
    tr_.daddr = address;
  }
  return cycles;
}

// One stage-3 cycle: lanes_per_pe MACs of every PE's stream.
void PeCore::mac_cycle() {
  if (trace_on_ && s3_.stream) {
    tr_.s3_pos = s3_.pos;
    tr_.s3_t = s3_.t;
    const PointerStream& st = *s3_.stream;
    const std::int8_t* win = win_.window(s3_.window);
    const int lanes = mac_.lanes();
    const int base = s3_.t * lanes;
    const int pes = L_.active_pes(L_.pass_tile(s3_.pass));
    tr_.macs = 0;
    for (int pe = 0; pe < pes; ++pe)
      tr_.macs += std::max(0, std::min<int>(st.count[pe], base + lanes) - base);
    tr_.lanes_used = 0;
    const int pe = traced_pe_;
    if (pe < pes) {
      const int end = std::min<int>(st.count[pe], base + lanes);
      tr_.lanes_used = std::max(0, end - base);
      for (int i = base; i < end && i - base < 8; ++i) {
        tr_.lane_w[i - base] = st.wval[static_cast<std::size_t>(pe) * st.stride + i];
        tr_.lane_a[i - base] = win[st.act[static_cast<std::size_t>(pe) * st.stride + i]];
        tr_.psum_before += tr_.lane_w[i - base] * tr_.lane_a[i - base];
      }
    }
  }
  if (++s3_.t == s3_.cycles) {
    s3_.valid = false;
    ctrl_.position_done(L_, *this);
  }
}

void PeCore::advance_stage3() {
  if (s3_.valid || !s2_.valid || cycle_ < s2_.ready) return;
  s3_ = s2_;
  s3_.t = 0;
  s2_.valid = false;
  ++stats_.steps;
  const int pes = L_.active_pes(L_.pass_tile(s3_.pass));
  if (trace_on_ && traced_pe_ < pes) tr_.psum_before = psum_.entry(traced_pe_, s3_.pos);
  const std::uint64_t issued = mac_.macs_issued(), effectual = mac_.macs_effectual();
  mac_.execute(ptr_.group_stream(s3_.pass), s3_.issued, win_.window(s3_.window), pes, s3_.pos,
               L_.pass_group(s3_.pass) == 0, psum_);
  const std::uint64_t step_issued = mac_.macs_issued() - issued;
  stats_.macs_issued += step_issued;
  stats_.macs_effectual += mac_.macs_effectual() - effectual;
  kreg_.count_reads(step_issued);
  win_.count_reads(step_issued);
}

void PeCore::advance_stage2() {
  if (s2_.valid || !s1_.valid || cycle_ < s1_.ready) return;
  if (!ctrl_.active() || s1_.pass != ctrl_.pass()) return;  // registers not loaded yet
  if (s1_release_band_) {  // the band's last window has left stage 1
    ports_.release_input_band();
    s1_release_band_ = false;
  }
  s2_ = s1_;
  s1_.valid = false;
  int longest = 0;
  if (L_.mode == ActMode::off) {
    s2_.stream = &ptr_.group_stream(s2_.pass);
    s2_.issued = s2_.stream->count.data();
  } else if (stream_detail_) {
    PointerStream& s = dyn_stream_[dyn_next_];
    dyn_next_ ^= 1;
    ptr_.build(L_, s2_.pass, kreg_, win_.act_masks(s2_.window), s);
    s2_.stream = &s;
    s2_.issued = s.count.data();
    longest = s.longest();
  } else {
    std::uint16_t* issued = step_issued_[dyn_next_].data();
    dyn_next_ ^= 1;
    longest = ptr_.step_counts(L_, s2_.pass, win_.window(s2_.window), issued);
    s2_.stream = nullptr;
    s2_.issued = issued;
  }
  s2_.cycles = mac_.step_cycles(L_, s2_.pass, longest);
  s2_.ready = cycle_ + 1;
  if (trace_on_ && s2_.stream) {
    const int pe = std::min(traced_pe_, P_ - 1);
    tr_.s2_wmask = kreg_.weight_mask(s2_.pass, pe, 0);
    tr_.s2_amask = L_.mode == ActMode::off ? (1u << L_.K) - 1 : win_.act_masks(s2_.window)[0];
    tr_.s2_smask = tr_.s2_wmask & tr_.s2_amask;
    tr_.s2_count = s2_.stream->count[pe];
  }
}

void PeCore::advance_stage1() {
  s1_wait_dram_ = false;
  if (s1_.valid || s1_next_pass_ >= L_.passes) return;
  const int q = s1_next_pass_;
  const int band = L_.pass_band(q);
  if (!ports_.input_band_ready(band)) {
    s1_wait_dram_ = true;
    return;
  }
  const int pos = s1_next_pos_;
  const WindowLoad w = win_.load(L_, q, pos, ports_);
  if (trace_on_ && w.read) {
    tr_.dsram = true;
    tr_.dsram_write = false;
    tr_.daddr = w.address;
  }
  s1_.valid = true;
  s1_.pass = q;
  s1_.pos = pos;
  s1_.window = w.window;
  s1_.ready = cycle_ + w.fetch_cycles;
  if (pos + 1 == L_.band_positions(band)) {
    if (q == (band + 1) * L_.plan->groups * L_.plan->tiles - 1) s1_release_band_ = true;
    s1_next_pass_ = q + 1;
    s1_next_pos_ = 0;
  } else {
    s1_next_pos_ = pos + 1;
  }
}

}  // namespace pcnn
