#include "models/pe_group/pe_group.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "models/pe_group/pe_logic.hpp"
#include "models/sram/gather_extension.hpp"
#include "models/trace/vcd_writer.hpp"
#include "pcnn/sim/layer_lowering.hpp"

namespace pcnn {

// The host lowers larger kernels to what the pointer generator handles.
static_assert(kMaxKernelPositions == kAcceleratorMaxKernelPositions);


PeGroup::PeGroup(const sc_core::sc_module_name& name, const ArchConfig& arch,
                 const PatternConfig& pac, TileHandshake& handshake)
    : sc_core::sc_module(name),
      weight_initiator_socket("weight_initiator_socket"),
      pattern_initiator_socket("pattern_initiator_socket"),
      data_initiator_socket("data_initiator_socket"),
      spm_decoder("spm_decoder", pac),
      sparsity_io("sparsity_io"),
      arch_(arch),
      handshake_(handshake),
      period_(arch.clock_period_ns(), sc_core::SC_NS),
      P_(arch.pe_count),
      lanes_(arch.lanes_per_pe),
      regw_(arch.kernel_register_words) {
  kreg_.assign(static_cast<std::size_t>(P_) * regw_, 0);
  for (Stream* s : {&static_stream_, &dyn_stream_[0], &dyn_stream_[1]}) {
    s->count.assign(P_, 0);
    s->weight.assign(static_cast<std::size_t>(P_) * regw_, 0);
    s->act.assign(static_cast<std::size_t>(P_) * regw_, 0);
    s->wval.assign(static_cast<std::size_t>(P_) * regw_, 0);
  }
  SC_METHOD(on_clock);  // first run at time 0 only arms the start event
}

PeGroup::~PeGroup() = default;

nlohmann::json PeGroup::stats_json() const {
  const StallCycles& st = stats_.stalls;
  return {{"cycles", stats_.cycles},
          {"mac_cycles", stats_.mac_cycles},
          {"macs_issued", stats_.macs_issued},
          {"macs_effectual", stats_.macs_effectual},
          {"refills", stats_.refills},
          {"steps", stats_.steps},
          {"stall_cycles",
           {{"weight_sram", st.weight_sram},
            {"pattern_sram", st.pattern_sram},
            {"register_refill", st.register_refill},
            {"data_sram", st.data_sram},
            {"dram", st.dram},
            {"fill_drain", st.fill_drain},
            {"writeback", st.writeback}}}};
}

int PeGroup::band_positions(int band) const {
  const BandPlan& b = plan_->bands[band];
  return (b.out_row_end - b.out_row_begin) * OW_;
}

int PeGroup::active_pes(int tile) const { return std::min(P_, M_ - tile * P_); }

std::int64_t PeGroup::chunk_seq(int q) const {
  return plan_->chunk_sequence(pass_band(q), pass_tile(q), pass_group(q) / plan_->groups_per_chunk);
}

std::uint64_t PeGroup::to_cycles(const sc_core::sc_time& t) const {
  return static_cast<std::uint64_t>(std::llround(t / period_));
}

void PeGroup::start(const SpmLayer& layer, const TilePlan& plan, ActMode mode) {
  layer_ = &layer;
  plan_ = &plan;
  mode_ = mode;
  K_ = plan.kernel_size;
  n_ = plan.n;
  kpr_ = plan.channels_per_group;
  C_ = layer.geom.in_channels;
  M_ = layer.geom.out_channels;
  OW_ = layer.geom.out_w();
  passes_ = static_cast<int>(plan.bands.size()) * plan.tiles * plan.groups;
  wmask_.assign(static_cast<std::size_t>(P_) * kpr_, 0);
  psum_stride_ = 0;
  for (int b = 0; b < static_cast<int>(plan.bands.size()); ++b)
    psum_stride_ = std::max(psum_stride_, band_positions(b));
  psum_.assign(static_cast<std::size_t>(P_) * psum_stride_, 0);
  for (int w = 0; w < kWindows; ++w) {
    windows_[w].assign(static_cast<std::size_t>(kpr_) * K_, 0);
    act_masks_[w].assign(kpr_, 0);
  }
  shift_reg_.assign(static_cast<std::size_t>(kpr_) * K_, 0);
  gather_buf_.assign(static_cast<std::size_t>(kpr_) * K_, 0);
  pattern_buf_.assign(plan.pattern_group_bytes, 0);
  ctrl_ = Ctrl::wait_refill;
  ctrl_pass_ = 0;
  exec_count_ = 0;
  s1_ = s2_ = s3_ = Item{};
  s1_next_pass_ = 0;
  s1_next_pos_ = 0;
  s1_prev_valid_ = false;
  s1_wait_dram_ = false;
  s1_release_band_ = false;
  start_event_.notify(period_);
}

void PeGroup::on_clock() {
  if (!layer_) {
    next_trigger(start_event_);
    return;
  }
  const sc_core::sc_time now = sc_core::sc_time_stamp();
  if (sleeping_) {
    // Woken by a handshake: the clock edges slept through were DRAM stalls.
    sleeping_ = false;
    const double elapsed = (now - last_tick_) / period_;
    auto edges = static_cast<std::uint64_t>(std::ceil(elapsed - 1e-9));
    if (edges == 0) edges = 1;
    cycle_ += edges - 1;
    stats_.cycles += edges - 1;
    stats_.stalls.dram += edges - 1;
    const sc_core::sc_time next = last_tick_ + period_ * static_cast<double>(edges);
    last_tick_ = next - period_;
    if (next > now) {
      next_trigger(next - now);
      return;
    }
  }
  last_tick_ = now;
  ++cycle_;
  ++stats_.cycles;
  trace_on_ = vcd_ && cycle_ >= trace_from_ && cycle_ <= trace_to_;
  tr_.wsram = tr_.psram = tr_.dsram = false;
  tr_.lanes_used = 0;
  tr_.macs = 0;

  controller_step();
  bool mac = false;
  if (s3_.valid) {
    mac_cycle();
    mac = true;
  }
  if (ctrl_ == Ctrl::active && exec_count_ == band_positions(pass_band(ctrl_pass_))) finish_pass();
  advance_stage3();
  advance_stage2();
  advance_stage1();
  if (mac)
    ++stats_.mac_cycles;
  else
    attribute_stall();
  if (trace_on_) trace_cycle(mac);

  if (ctrl_ == Ctrl::done) {
    layer_ = nullptr;
    done_time_ = now;
    done_event.notify(sc_core::SC_ZERO_TIME);
    next_trigger(start_event_);
    return;
  }
  if (const sc_core::sc_event* e = sleep_event()) {
    sleeping_ = true;
    next_trigger(*e);
    return;
  }
  const std::uint64_t skip = idle_cycles_ahead();
  if (skip > 0) {  // book the edges in which only stage 3 counts down
    cycle_ += skip;
    stats_.cycles += skip;
    stats_.mac_cycles += skip;
    s3_.t += static_cast<int>(skip);
  }
  next_trigger(period_ * static_cast<double>(skip + 1));
}

// Edges after this one in which nothing but stage 3's cycle count changes:
// every stage holds an item (or stage 1 has no work left), so no stage can
// advance, and the controller is active, so it polls no handshake. Each such
// edge would only issue MACs already summed by execute_step(); booking them at
// once gives the same cycles and statistics as evaluating them one by one.
// The step's last edge is evaluated normally.
std::uint64_t PeGroup::idle_cycles_ahead() const {
  if (!skip_idle_ || ctrl_ != Ctrl::active || !s3_.valid || !s2_.valid) return 0;
  if (!s1_.valid && s1_next_pass_ < passes_) return 0;  // stage 1 may still load
  const int left = s3_.cycles - s3_.t;
  if (left <= 1) return 0;
  const auto k = static_cast<std::uint64_t>(left - 1);
  if (vcd_ && cycle_ + k >= trace_from_ && cycle_ + 1 <= trace_to_) return 0;  // traced edges tick
  return k;
}

// The one handshake event the whole pipeline waits for, if it waits for one.
const sc_core::sc_event* PeGroup::sleep_event() const {
  if (s3_.valid || s2_.valid) return nullptr;
  if (vcd_ && cycle_ + 1 >= trace_from_ && cycle_ < trace_to_) return nullptr;  // traced cycles tick
  const bool s1_blocked = s1_.valid ? cycle_ >= s1_.ready : (s1_wait_dram_ || s1_next_pass_ >= passes_);
  if (!s1_blocked) return nullptr;
  if (reason_ == Reason::dram && !s1_wait_dram_) {
    if (ctrl_ == Ctrl::wait_refill) return &handshake_.weight_chunks.filled_event;
    if (ctrl_ == Ctrl::wait_writeback) return &handshake_.output_bands.released_event;
  }
  if (ctrl_ == Ctrl::active && s1_wait_dram_ && !s1_.valid) return &handshake_.input_bands.filled_event;
  return nullptr;
}

// Refill and write-back sequencing; sets reason_ for a cycle without MACs.
void PeGroup::controller_step() {
  reason_ = Reason::none;
  switch (ctrl_) {
    case Ctrl::wait_refill:
      if (s3_.valid || s2_.valid) break;  // the register is still in use
      if (!handshake_.weight_chunks.ready(chunk_seq(ctrl_pass_))) {
        reason_ = Reason::dram;
        break;
      }
      start_refill();
      [[fallthrough]];
    case Ctrl::refilling: {
      const std::uint64_t k = cycle_ - phase_start_;
      reason_ = k < refill_weight_cycles_                                          ? Reason::weight
                : k < std::max(refill_weight_cycles_, refill_pattern_cycles_) ? Reason::pattern
                                                                                   : Reason::refill;
      if (cycle_ >= phase_end_) {
        const int q = ctrl_pass_;
        const int g = pass_group(q);
        const int chunk = g / plan_->groups_per_chunk;
        if (g == plan_->chunk_end_group(chunk) - 1) handshake_.weight_chunks.release();
        ctrl_ = Ctrl::active;
        exec_count_ = 0;
      }
      break;
    }
    case Ctrl::wait_writeback:
      if (!handshake_.output_bands.free_for(pass_band(ctrl_pass_))) {
        reason_ = Reason::dram;
        break;
      }
      start_writeback();
      [[fallthrough]];
    case Ctrl::writeback:
      reason_ = Reason::writeback;
      if (cycle_ >= phase_end_) {
        const int q = ctrl_pass_;
        if (pass_tile(q) == plan_->tiles - 1) handshake_.output_bands.fill();
        if (q + 1 == passes_) {
          ctrl_ = Ctrl::done;
        } else {
          ctrl_pass_ = q + 1;
          ctrl_ = Ctrl::wait_refill;
        }
      }
      break;
    case Ctrl::active:
    case Ctrl::done:
      break;
  }
}

void PeGroup::start_refill() {
  const int q = ctrl_pass_;
  const int g = pass_group(q);
  const int tile = pass_tile(q);
  const std::int64_t seq = chunk_seq(q);
  const int first = plan_->chunk_first_group(g / plan_->groups_per_chunk);
  const int cg = plan_->group_channels(g, C_);
  const int pes = active_pes(tile);

  // Kernel registers: one row per PE, one burst.
  sc_core::sc_time wdelay = sc_core::SC_ZERO_TIME;
  const std::uint64_t waddr = static_cast<std::uint64_t>(seq % plan_->weight_buffers) *
                                  plan_->weight_buffer_bytes +
                              static_cast<std::uint64_t>(g - first) * plan_->weight_group_bytes;
  trans_.set_command(tlm::TLM_READ_COMMAND);
  trans_.set_address(waddr);
  trans_.set_data_ptr(reinterpret_cast<unsigned char*>(kreg_.data()));
  trans_.set_data_length(static_cast<unsigned int>(plan_->weight_group_bytes));
  trans_.set_streaming_width(static_cast<unsigned int>(plan_->weight_group_bytes));
  trans_.set_byte_enable_ptr(nullptr);
  trans_.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  weight_initiator_socket->b_transport(trans_, wdelay);
  if (trans_.is_response_error()) SC_REPORT_ERROR(name(), "Weight SRAM refill failed");
  tr_.wsram = true;
  tr_.waddr = waddr;

  // SPM indices: one burst, then decode every kernel through PaC.
  sc_core::sc_time pdelay = sc_core::SC_ZERO_TIME;
  if (plan_->index_bits > 0) {
    const std::uint64_t paddr = static_cast<std::uint64_t>(seq % plan_->weight_buffers) *
                                    plan_->pattern_buffer_bytes +
                                static_cast<std::uint64_t>(g - first) * plan_->pattern_group_bytes;
    trans_.set_address(paddr);
    trans_.set_data_ptr(pattern_buf_.data());
    trans_.set_data_length(static_cast<unsigned int>(plan_->pattern_group_bytes));
    trans_.set_streaming_width(static_cast<unsigned int>(plan_->pattern_group_bytes));
    trans_.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    pattern_initiator_socket->b_transport(trans_, pdelay);
    if (trans_.is_response_error()) SC_REPORT_ERROR(name(), "Pattern SRAM refill failed");
    tr_.psram = true;
    tr_.paddr = paddr;
  }
  for (int pe = 0; pe < pes; ++pe) {
    for (int c = 0; c < cg; ++c) {
      std::uint32_t index = 0;
      if (plan_->index_bits > 0)
        index = unpack_bits(pattern_buf_.data(), pattern_buf_.size(),
                            static_cast<std::int64_t>(pe) * kpr_ + c, plan_->index_bits);
      wmask_[pe * kpr_ + c] = spm_decoder.decode(index);
    }
  }
  if (pass_group(q) == 0) {  // first group of a tile: partial sums start at zero
    std::fill(psum_.begin(), psum_.end(), 0);
  }
  if (mode_ == ActMode::off) {  // activation mask ignored: pointers fixed for the group
    const std::vector<std::uint16_t> full(static_cast<std::size_t>(cg),
                                          static_cast<std::uint16_t>((1u << K_) - 1));
    build_stream(static_stream_, full.data(), cg);
  }
  refill_weight_cycles_ = to_cycles(wdelay);
  refill_pattern_cycles_ = to_cycles(pdelay);
  phase_start_ = cycle_;
  // Reading both SRAMs in parallel, then one cycle to decode and load.
  phase_end_ = cycle_ + std::max(refill_weight_cycles_, refill_pattern_cycles_);
  ctrl_ = Ctrl::refilling;
  ++stats_.refills;
}

// Stage-2 pointer generation for all PEs of the current tile.
void PeGroup::build_stream(Stream& s, const std::uint16_t* act_masks, int cg) {
  const int pes = active_pes(pass_tile(ctrl_pass_));
  std::uint8_t apos[kMaxKernelPositions], wptr[kMaxKernelPositions];
  for (int pe = 0; pe < P_; ++pe) {
    if (pe >= pes) {
      s.count[pe] = 0;
      continue;
    }
    std::uint16_t* wout = &s.weight[static_cast<std::size_t>(pe) * regw_];
    std::uint16_t* aout = &s.act[static_cast<std::size_t>(pe) * regw_];
    std::int8_t* vout = &s.wval[static_cast<std::size_t>(pe) * regw_];
    const std::int8_t* reg = &kreg_[static_cast<std::size_t>(pe) * regw_];
    int count = 0;
    for (int c = 0; c < cg; ++c) {
      const int e = sparsity_io.pointers(wmask_[pe * kpr_ + c], act_masks[c], K_, apos, wptr);
      for (int j = 0; j < e; ++j) {
        wout[count] = static_cast<std::uint16_t>(c * n_ + wptr[j]);
        aout[count] = static_cast<std::uint16_t>(c * K_ + apos[j]);
        vout[count] = reg[wout[count]];
        ++count;
      }
    }
    s.count[pe] = static_cast<std::uint16_t>(count);
  }
}

void PeGroup::start_writeback() {
  const int q = ctrl_pass_;
  const int band = pass_band(q);
  const int tile = pass_tile(q);
  const int pes = active_pes(tile);
  const int positions = band_positions(band);
  const std::uint64_t base = plan_->output_buffer_address(band);
  GatherExtension ext;
  ext.segments.reserve(positions);
  std::vector<std::uint8_t> data(static_cast<std::size_t>(positions) * pes);
  for (int p = 0; p < positions; ++p) {
    for (int pe = 0; pe < pes; ++pe) {
      const int m = tile * P_ + pe;
      const std::int32_t acc = pe_add_bias(psum_[static_cast<std::size_t>(pe) * psum_stride_ + p],
                                           layer_->bias[m]);
      data[static_cast<std::size_t>(p) * pes + pe] = static_cast<std::uint8_t>(
          pe_requantize(acc, layer_->requant[m].multiplier, layer_->requant[m].shift, layer_->relu));
    }
    // Output band in HWC order: [row - first row][x][M].
    ext.segments.push_back({base + static_cast<std::uint64_t>(p) * M_ + tile * P_,
                            static_cast<std::uint32_t>(pes)});
  }
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  trans_.set_command(tlm::TLM_WRITE_COMMAND);
  trans_.set_address(ext.segments.front().address);
  trans_.set_data_ptr(data.data());
  trans_.set_data_length(static_cast<unsigned int>(data.size()));
  trans_.set_streaming_width(static_cast<unsigned int>(data.size()));
  trans_.set_byte_enable_ptr(nullptr);
  trans_.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  trans_.set_extension(&ext);
  data_initiator_socket->b_transport(trans_, delay);
  trans_.clear_extension(&ext);
  if (trans_.is_response_error()) SC_REPORT_ERROR(name(), "Data SRAM write-back failed");
  tr_.dsram = true;
  tr_.dsram_write = true;
  tr_.daddr = base;
  phase_start_ = cycle_;
  phase_end_ = cycle_ + std::max<std::uint64_t>(1, to_cycles(delay)) - 1;
  ctrl_ = Ctrl::writeback;
}

void PeGroup::finish_pass() {
  const int q = ctrl_pass_;
  if (pass_group(q) == plan_->groups - 1) {
    ctrl_ = Ctrl::wait_writeback;
  } else {
    ctrl_pass_ = q + 1;
    ctrl_ = Ctrl::wait_refill;
  }
}

// The arithmetic of a whole step, done when it enters stage 3: every PE's
// effectual MACs summed into its partial sum. Integer addition is exact, so the
// partial sums equal a lane-by-lane accumulation; stage 3 then spends the step's
// cycles (mac_cycle), which is where the timing comes from.
void PeGroup::execute_step() {
  const Stream& st = *s3_.stream;
  const std::int8_t* win = windows_[s3_.window].data();
  const int pes = active_pes(pass_tile(s3_.pass));
  std::uint64_t issued = 0, effectual = 0;
  if (trace_on_ && traced_pe_ < pes)
    tr_.psum_before = psum_[static_cast<std::size_t>(traced_pe_) * psum_stride_ + s3_.pos];
  for (int pe = 0; pe < pes; ++pe) {
    const int count = st.count[pe];
    const std::int8_t* wv = &st.wval[static_cast<std::size_t>(pe) * regw_];
    const std::uint16_t* ap = &st.act[static_cast<std::size_t>(pe) * regw_];
    std::int32_t acc = 0;
    int eff = 0;
    for (int i = 0; i < count; ++i) {
      const std::int32_t product = static_cast<std::int32_t>(wv[i]) * win[ap[i]];
      acc += product;
      eff += product != 0;  // an int8 x int8 product is zero only if an operand is
    }
    issued += static_cast<std::uint64_t>(count);
    effectual += static_cast<std::uint64_t>(eff);
    psum_[static_cast<std::size_t>(pe) * psum_stride_ + s3_.pos] += acc;
  }
  stats_.macs_issued += issued;
  stats_.macs_effectual += effectual;
}

// One stage-3 cycle: lanes_per_pe MACs of every PE's stream.
void PeGroup::mac_cycle() {
  tr_.s3_pos = s3_.pos;
  tr_.s3_t = s3_.t;
  if (trace_on_) {
    const Stream& st = *s3_.stream;
    const std::int8_t* win = windows_[s3_.window].data();
    const int base = s3_.t * lanes_;
    const int pes = active_pes(pass_tile(s3_.pass));
    tr_.macs = 0;
    for (int pe = 0; pe < pes; ++pe)
      tr_.macs += std::max(0, std::min<int>(st.count[pe], base + lanes_) - base);
    tr_.lanes_used = 0;
    const int pe = traced_pe_;
    if (pe < pes) {
      const int end = std::min<int>(st.count[pe], base + lanes_);
      tr_.lanes_used = std::max(0, end - base);
      for (int i = base; i < end && i - base < 8; ++i) {
        tr_.lane_w[i - base] = st.wval[static_cast<std::size_t>(pe) * regw_ + i];
        tr_.lane_a[i - base] = win[st.act[static_cast<std::size_t>(pe) * regw_ + i]];
        tr_.psum_before += tr_.lane_w[i - base] * tr_.lane_a[i - base];
      }
    }
  }
  if (++s3_.t == s3_.cycles) {
    s3_.valid = false;
    ++exec_count_;
  }
}

void PeGroup::advance_stage3() {
  if (s3_.valid || !s2_.valid || cycle_ < s2_.ready) return;
  s3_ = s2_;
  s3_.t = 0;
  s2_.valid = false;
  ++stats_.steps;
  execute_step();
}

void PeGroup::advance_stage2() {
  if (s2_.valid || !s1_.valid || cycle_ < s1_.ready) return;
  if (ctrl_ != Ctrl::active || s1_.pass != ctrl_pass_) return;  // registers not loaded yet
  if (s1_release_band_) {  // the band's last window has left stage 1
    handshake_.input_bands.release();
    s1_release_band_ = false;
  }
  s2_ = s1_;
  s1_.valid = false;
  const int cg = plan_->group_channels(pass_group(s2_.pass), C_);
  const int work = cg * n_;
  if (mode_ == ActMode::off) {
    s2_.stream = &static_stream_;
    s2_.cycles = (work + lanes_ - 1) / lanes_;
  } else {
    Stream& s = dyn_stream_[dyn_next_];
    dyn_next_ ^= 1;
    build_stream(s, act_masks_[s2_.window].data(), cg);
    s2_.stream = &s;
    if (mode_ == ActMode::gate) {
      s2_.cycles = (work + lanes_ - 1) / lanes_;
    } else {
      int longest = 0;
      for (int pe = 0; pe < P_; ++pe) longest = std::max<int>(longest, s.count[pe]);
      s2_.cycles = std::max(1, (longest + lanes_ - 1) / lanes_);
    }
  }
  s2_.ready = cycle_ + 1;
  if (trace_on_) {
    const int pe = traced_pe_;
    tr_.s2_wmask = wmask_[static_cast<std::size_t>(std::min(pe, P_ - 1)) * kpr_];
    tr_.s2_amask = mode_ == ActMode::off ? (1u << K_) - 1 : act_masks_[s2_.window][0];
    tr_.s2_smask = tr_.s2_wmask & tr_.s2_amask;
    tr_.s2_count = s2_.stream->count[std::min(pe, P_ - 1)];
  }
}

void PeGroup::advance_stage1() {
  s1_wait_dram_ = false;
  if (s1_.valid || s1_next_pass_ >= passes_) return;
  const int q = s1_next_pass_;
  const int band = pass_band(q);
  if (!handshake_.input_bands.ready(band)) {
    s1_wait_dram_ = true;
    return;
  }
  const ConvGeometry& g = layer_->geom;
  const BandPlan& b = plan_->bands[band];
  const int pos = s1_next_pos_;
  const int oy = b.out_row_begin + pos / OW_;
  const int ox = pos % OW_;
  const int c0 = pass_group(q) * kpr_;
  const int cg = plan_->group_channels(pass_group(q), C_);
  const int kh = g.kernel_h, kw = g.kernel_w;

  // The window register shifts by the stride along a row; only new columns load.
  int first_col = 0;
  if (s1_prev_valid_ && s1_prev_pass_ == q && s1_prev_oy_ == oy && s1_prev_ox_ + 1 == ox &&
      g.dilation_w == 1 && g.stride_w < kw) {
    first_col = kw - g.stride_w;
    for (int c = 0; c < cg; ++c)
      for (int r = 0; r < kh; ++r) {
        std::int8_t* row = &shift_reg_[static_cast<std::size_t>(c) * K_ + r * kw];
        std::memmove(row, row + g.stride_w, static_cast<std::size_t>(first_col));
      }
  }
  const std::uint64_t base = plan_->input_buffer_address(band);
  GatherExtension ext;
  struct Slot {
    int r, j;
  };
  Slot slots[kMaxKernelPositions];
  int nslots = 0;
  for (int r = 0; r < kh; ++r) {
    const int iy = oy * g.stride_h - g.pad_top + r * g.dilation_h;
    for (int j = first_col; j < kw; ++j) {
      const int ix = ox * g.stride_w - g.pad_left + j * g.dilation_w;
      const bool inside = iy >= 0 && iy < g.in_h && ix >= 0 && ix < g.in_w;
      if (!inside) {
        for (int c = 0; c < cg; ++c) shift_reg_[static_cast<std::size_t>(c) * K_ + r * kw + j] = 0;
        continue;
      }
      const std::uint64_t addr =
          base + (static_cast<std::uint64_t>(iy - b.in_row_begin) * g.in_w + ix) * C_ + c0;
      ext.segments.push_back({addr, static_cast<std::uint32_t>(cg)});
      slots[nslots++] = {r, j};
    }
  }
  std::uint64_t fetch_cycles = 1;
  if (nslots > 0) {
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    const unsigned int len = static_cast<unsigned int>(nslots * cg);
    trans_.set_command(tlm::TLM_READ_COMMAND);
    trans_.set_address(ext.segments.front().address);
    trans_.set_data_ptr(gather_buf_.data());
    trans_.set_data_length(len);
    trans_.set_streaming_width(len);
    trans_.set_byte_enable_ptr(nullptr);
    trans_.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    trans_.set_extension(&ext);
    data_initiator_socket->b_transport(trans_, delay);
    trans_.clear_extension(&ext);
    if (trans_.is_response_error()) SC_REPORT_ERROR(name(), "Data SRAM window read failed");
    fetch_cycles = std::max<std::uint64_t>(1, to_cycles(delay));
    for (int s = 0; s < nslots; ++s)
      for (int c = 0; c < cg; ++c)
        shift_reg_[static_cast<std::size_t>(c) * K_ + slots[s].r * kw + slots[s].j] =
            static_cast<std::int8_t>(gather_buf_[static_cast<std::size_t>(s) * cg + c]);
    tr_.dsram = true;
    tr_.dsram_write = false;
    tr_.daddr = ext.segments.front().address;
  }
  // Hand the window to the item; make the activation masks.
  const int w = window_next_;
  window_next_ = (window_next_ + 1) % kWindows;
  std::memcpy(windows_[w].data(), shift_reg_.data(), static_cast<std::size_t>(cg) * K_);
  for (int c = 0; c < cg; ++c) {
    std::uint16_t mask = 0;
    const std::int8_t* v = &shift_reg_[static_cast<std::size_t>(c) * K_];
    for (int p = 0; p < K_; ++p) mask |= static_cast<std::uint16_t>((v[p] != 0) << p);
    act_masks_[w][c] = mask;
  }
  s1_.valid = true;
  s1_.pass = q;
  s1_.pos = pos;
  s1_.window = w;
  s1_.ready = cycle_ + fetch_cycles;
  s1_prev_valid_ = true;
  s1_prev_pass_ = q;
  s1_prev_oy_ = oy;
  s1_prev_ox_ = ox;
  if (pos + 1 == band_positions(band)) {
    if (q == (band + 1) * plan_->groups * plan_->tiles - 1) s1_release_band_ = true;
    s1_next_pass_ = q + 1;
    s1_next_pos_ = 0;
  } else {
    s1_next_pos_ = pos + 1;
  }
}

void PeGroup::attribute_stall() {
  StallCycles& s = stats_.stalls;
  switch (reason_) {
    case Reason::weight: ++s.weight_sram; return;
    case Reason::pattern: ++s.pattern_sram; return;
    case Reason::refill: ++s.register_refill; return;
    case Reason::writeback: ++s.writeback; return;
    case Reason::dram: ++s.dram; return;
    case Reason::none: break;
  }
  if (s2_.valid) {  // pointers being generated
    ++s.fill_drain;
  } else if (s1_.valid) {
    if (s1_.pos == 0 || ctrl_ != Ctrl::active)
      ++s.fill_drain;
    else
      ++s.data_sram;
  } else if (s1_wait_dram_) {
    ++s.dram;
  } else {
    ++s.fill_drain;
  }
}

}  // namespace pcnn
