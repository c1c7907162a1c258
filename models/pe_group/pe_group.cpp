#include "models/pe_group/pe_group.hpp"

#include <cmath>

#include "models/trace/vcd_writer.hpp"
#include "pcnn/sim/stats_schema.hpp"

namespace pcnn {

PeGroup::PeGroup(const sc_core::sc_module_name& name, const ArchConfig& arch,
                 const PatternConfig& pac, TileHandshake& handshake)
    : sc_core::sc_module(name),
      weight_initiator_socket("weight_initiator_socket"),
      pattern_initiator_socket("pattern_initiator_socket"),
      data_initiator_socket("data_initiator_socket"),
      pac_(pac),
      handshake_(handshake),
      pe_count_(arch.pe_count),
      lanes_(arch.lanes_per_pe),
      period_(arch.clock_period_ns(), sc_core::SC_NS),
      core_(arch, *this) {
  weight_chunk_filled_ |= handshake_.weight_chunks.filled_event;
  output_band_released_ |= handshake_.output_bands.released_event;
  input_band_filled_ |= handshake_.input_bands.filled_event;
  weight_chunk_or_input_band_filled_ |= handshake_.weight_chunks.filled_event;
  weight_chunk_or_input_band_filled_ |= handshake_.input_bands.filled_event;
  SC_METHOD(on_clock);  // first run at time 0 only arms the start event
}

PeGroup::~PeGroup() { trans_.clear_extension(&gather_); }

nlohmann::json PeGroup::stats_json() const {
  const PeCoreStats& s = core_.stats();
  nlohmann::json j = {{"cycles", s.cycles},
                      {"mac_cycles", s.mac_cycles},
                      {"macs_issued", s.macs_issued},
                      {"macs_effectual", s.macs_effectual},
                      {"refills", s.refills},
                      {"steps", s.steps},
                      {"stall_cycles", stall_cycles_json(s.stalls)}};
  j.update(core_.block_counters());
  return j;
}

std::uint64_t PeGroup::to_cycles(const sc_core::sc_time& t) const {
  return static_cast<std::uint64_t>(std::llround(t / period_));
}

void PeGroup::start(const SpmLayer& layer, const TilePlan& plan, ActMode mode) {
  core_.start(layer, plan, pac_.table(), mode);
  start_event_.notify(period_);
}

std::uint64_t PeGroup::transport(tlm_utils::simple_initiator_socket<PeGroup>& socket,
                                 tlm::tlm_command cmd, std::uint64_t address, std::uint8_t* data,
                                 std::size_t length, const std::vector<MemSegment>* segments,
                                 const char* what) {
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  trans_.set_command(cmd);
  trans_.set_address(address);
  trans_.set_data_ptr(data);
  trans_.set_data_length(static_cast<unsigned int>(length));
  trans_.set_streaming_width(static_cast<unsigned int>(length));
  trans_.set_byte_enable_ptr(nullptr);
  trans_.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  if (segments) {
    gather_.segments.assign(segments->begin(), segments->end());
    trans_.set_extension(&gather_);
  }
  socket->b_transport(trans_, delay);
  if (segments) trans_.clear_extension(&gather_);
  if (trans_.is_response_error()) SC_REPORT_ERROR(name(), what);
  return to_cycles(delay);
}

std::uint64_t PeGroup::read_weight_sram(std::uint64_t address, std::uint8_t* data,
                                        std::size_t length) {
  return transport(weight_initiator_socket, tlm::TLM_READ_COMMAND, address, data, length, nullptr,
                   "Weight SRAM refill failed");
}

std::uint64_t PeGroup::read_pattern_sram(std::uint64_t address, std::uint8_t* data,
                                         std::size_t length) {
  return transport(pattern_initiator_socket, tlm::TLM_READ_COMMAND, address, data, length, nullptr,
                   "Pattern SRAM refill failed");
}

std::uint64_t PeGroup::gather_data_sram(const std::vector<MemSegment>& segments, std::uint8_t* data,
                                        std::size_t length) {
  return transport(data_initiator_socket, tlm::TLM_READ_COMMAND, segments.front().address, data,
                   length, &segments, "Data SRAM window read failed");
}

std::uint64_t PeGroup::scatter_data_sram(const std::vector<MemSegment>& segments,
                                         const std::uint8_t* data, std::size_t length) {
  return transport(data_initiator_socket, tlm::TLM_WRITE_COMMAND, segments.front().address,
                   const_cast<std::uint8_t*>(data), length, &segments,
                   "Data SRAM write-back failed");
}

void PeGroup::on_clock() {
  if (!core_.running()) {
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
    core_.book_dram_stalls(edges - 1);
    const sc_core::sc_time next = last_tick_ + period_ * static_cast<double>(edges);
    last_tick_ = next - period_;
    if (next > now) {
      next_trigger(next - now);
      return;
    }
  }
  // Edges evaluated ahead of `now` (fast mode only): the local time offset.
  std::uint64_t ahead = 0;
  for (;;) {
    const sc_core::sc_time at = now + period_ * static_cast<double>(ahead);
    last_tick_ = at;
    const std::uint64_t edge = core_.cycle() + 1;
    const bool traced = vcd_ && edge >= trace_from_ && edge <= trace_to_;
    core_.set_tracing(traced, traced_pe_);
    const std::uint64_t mac_cycles = core_.stats().mac_cycles;
    core_.tick();
    if (traced) trace_cycle(core_.stats().mac_cycles != mac_cycles);

    if (!core_.running()) {
      done_time_ = at;
      done_event.notify(at - now);
      next_trigger(start_event_);
      return;
    }
    if (const sc_core::sc_event_or_list* e = sleep_events()) {
      // Waiting needs a buffer the host has not filled, which the fast mode
      // never runs ahead into (next_edge_needs_host).
      if (ahead > 0) SC_REPORT_ERROR(name(), "fast mode ran ahead into a handshake wait");
      sleeping_ = true;
      // A trace window that starts during the wait: wake at its first edge at the
      // latest, so that every edge inside the window is evaluated and traced.
      const std::uint64_t c = core_.cycle();
      if (vcd_ && c < trace_from_ && trace_from_ <= trace_to_)
        next_trigger(period_ * static_cast<double>(trace_from_ - c), *e);
      else
        next_trigger(*e);
      return;
    }
    std::uint64_t skip = skip_idle_ || loosely_timed_ ? core_.mac_only_edges_ahead() : 0;
    const std::uint64_t c = core_.cycle();
    if (skip > 0 && vcd_ && c + skip >= trace_from_ && c + 1 <= trace_to_)
      skip = 0;  // traced edges tick
    if (skip > 0) core_.book_mac_edges(skip);
    ahead += skip + 1;  // the next edge to evaluate
    if (!loosely_timed_ || ahead > kQuantumEdges || core_.next_edge_needs_host()) {
      next_trigger(period_ * static_cast<double>(ahead));
      return;
    }
  }
}

// The handshake events the whole pipeline waits for, if it waits for any.
const sc_core::sc_event_or_list* PeGroup::sleep_events() const {
  const std::uint64_t c = core_.cycle();
  if (vcd_ && c + 1 >= trace_from_ && c < trace_to_) return nullptr;  // traced cycles tick
  switch (core_.waiting_for()) {
    case PeWait::weight_chunk:
      return &weight_chunk_filled_;
    case PeWait::output_band:
      return &output_band_released_;
    case PeWait::input_band:
      return &input_band_filled_;
    case PeWait::weight_chunk_or_input_band:
      return &weight_chunk_or_input_band_filled_;
    case PeWait::none:
      break;
  }
  return nullptr;
}

}  // namespace pcnn
