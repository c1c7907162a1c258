#include "models/post_process/post_process.hpp"

#include <algorithm>
#include <cstring>

#include "models/common/payload_check.hpp"
#include "models/post_process/post_op_arithmetic.hpp"
#include "pcnn/core/error.hpp"

namespace pcnn {

PostProcessUnit::PostProcessUnit(const sc_core::sc_module_name& name, const PostProcessConfig& cfg,
                                 double clock_period_ns)
    : sc_core::sc_module(name),
      host_target_socket("host_target_socket"),
      dram_initiator_socket("dram_initiator_socket"),
      cfg_(cfg),
      cycle_(clock_period_ns, sc_core::SC_NS),
      regs_(PostRegisters::kSize, 0) {
  cfg_.validate(this->name());
  host_target_socket.register_b_transport(this, &PostProcessUnit::b_transport);
  host_target_socket.register_transport_dbg(this, &PostProcessUnit::transport_dbg);
  SC_THREAD(run_thread);
}

namespace {

void set_word(std::vector<std::uint8_t>& regs, std::uint64_t address, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) regs[address + i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint32_t word(const std::vector<std::uint8_t>& regs, std::uint64_t address) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= std::uint32_t{regs[address + i]} << (8 * i);
  return v;
}

}  // namespace

unsigned int PostProcessUnit::transport_dbg(tlm::tlm_generic_payload& trans) {
  if (!check_payload_form(trans) || !check_payload_range(trans, regs_.size()) || !trans.is_read())
    return 0;
  std::memcpy(trans.get_data_ptr(), &regs_[trans.get_address()], trans.get_data_length());
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
  return trans.get_data_length();
}

void PostProcessUnit::b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
  if (!check_payload_form(trans) || !check_payload_range(trans, regs_.size())) return;
  const std::uint64_t address = trans.get_address(), length = trans.get_data_length();
  if (address % 4 != 0 || length % 4 != 0) {
    trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);  // whole words only
    return;
  }
  const std::uint64_t words = length / 4;
  if (trans.is_read()) {
    std::memcpy(trans.get_data_ptr(), &regs_[address], length);
    delay += cycle_ * static_cast<double>(words);
    trans.set_response_status(tlm::TLM_OK_RESPONSE);
    return;
  }
  // Writes: the descriptor and CONTROL, and only while no op runs.
  const bool control = address == PostRegisters::kControl && length == 4;
  if (busy_ || (!control && address < PostRegisters::kHeader)) {
    trans.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
    return;
  }
  std::memcpy(&regs_[address], trans.get_data_ptr(), length);
  stats_.register_words_written += words;
  delay +=
      cycle_ * static_cast<double>(words * static_cast<std::uint64_t>(cfg_.register_write_cycles));
  if (control && word(regs_, PostRegisters::kControl) == 1) {
    start(trans, delay);
    return;
  }
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
}

void PostProcessUnit::start(tlm::tlm_generic_payload& trans, const sc_core::sc_time& delay) {
  set_word(regs_, PostRegisters::kControl, 0);
  pending_ = decode_post_op_registers(regs_.data());
  try {
    validate_post_op(pending_, cfg_);
  } catch (const Error& e) {
    last_error_ = e.what();
    set_word(regs_, PostRegisters::kStatus, PostRegisters::kStatusError);
    trans.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
    return;
  }
  last_error_.clear();
  busy_ = true;  // from now: the host may wait on done_event() at once
  set_word(regs_, PostRegisters::kStatus, PostRegisters::kStatusBusy);
  start_event_.notify(delay);
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
}

void PostProcessUnit::run_thread() {
  for (;;) {
    sc_core::wait(start_event_);
    execute(pending_);
    busy_ = false;
    ++stats_.ops;
    set_word(regs_, PostRegisters::kOpsDone, word(regs_, PostRegisters::kOpsDone) + 1);
    set_word(regs_, PostRegisters::kStatus, PostRegisters::kStatusDone);
    done_event_.notify(sc_core::SC_ZERO_TIME);
  }
}

std::uint64_t PostProcessUnit::to_cycles(const sc_core::sc_time& t) const {
  return (t.value() + cycle_.value() - 1) / cycle_.value();
}

std::uint64_t PostProcessUnit::wait_until(const sc_core::sc_time& t) {
  const sc_core::sc_time now = sc_core::sc_time_stamp();
  if (t <= now) return 0;
  const std::uint64_t cycles = to_cycles(t - now);
  sc_core::wait(cycle_ * static_cast<double>(cycles));
  return cycles;
}

sc_core::sc_time PostProcessUnit::dram(tlm::tlm_command cmd, std::uint64_t address,
                                       std::uint8_t* data, std::int64_t bytes) {
  sc_core::sc_time last = sc_core::sc_time_stamp();
  for (std::int64_t done = 0; done < bytes;) {
    const std::int64_t n = std::min<std::int64_t>(cfg_.dram_burst_bytes, bytes - done);
    tlm::tlm_generic_payload t;
    t.set_command(cmd);
    t.set_address(address + static_cast<std::uint64_t>(done));
    t.set_data_ptr(data + done);
    t.set_data_length(static_cast<unsigned int>(n));
    t.set_streaming_width(static_cast<unsigned int>(n));
    t.set_byte_enable_ptr(nullptr);
    t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    dram_initiator_socket->b_transport(t, delay);
    if (!t.is_response_ok())
      SC_REPORT_ERROR(
          name(), ("DRAM " + std::string(cmd == tlm::TLM_READ_COMMAND ? "read" : "write") + " at " +
                   std::to_string(t.get_address()) + " failed: " + t.get_response_string())
                      .c_str());
    last = std::max(last, sc_core::sc_time_stamp() + delay);
    done += n;
    if (cmd == tlm::TLM_READ_COMMAND) {
      ++stats_.dram_reads;
      stats_.dram_bytes_read += static_cast<std::uint64_t>(n);
    } else {
      ++stats_.dram_writes;
      stats_.dram_bytes_written += static_cast<std::uint64_t>(n);
    }
  }
  return last;
}

sc_core::sc_time PostProcessUnit::read_step(const PostOpDescriptor& d, const PostStep& s) {
  sc_core::sc_time last = sc_core::sc_time_stamp();
  for (const PostByteRange& r : s.reads) {
    auto& buffer = inputs_[static_cast<std::size_t>(r.input)];
    const PostTensor& t = d.inputs[static_cast<std::size_t>(r.input)];
    last =
        std::max(last, dram(tlm::TLM_READ_COMMAND, t.address + static_cast<std::uint64_t>(r.offset),
                            reinterpret_cast<std::uint8_t*>(buffer.data() + r.offset), r.bytes));
    stats_.line_buffer_bytes_written += static_cast<std::uint64_t>(r.bytes);
  }
  return last;
}

sc_core::sc_time PostProcessUnit::write_step(const PostOpDescriptor& d, const PostStep& s) {
  sc_core::sc_time last = sc_core::sc_time_stamp();
  for (const PostByteRange& w : s.writes)
    last = std::max(
        last, dram(tlm::TLM_WRITE_COMMAND, d.output.address + static_cast<std::uint64_t>(w.offset),
                   reinterpret_cast<std::uint8_t*>(output_.data() + w.offset), w.bytes));
  return last;
}

void PostProcessUnit::execute(const PostOpDescriptor& d) {
  const sc_core::sc_time start = sc_core::sc_time_stamp();
  // Start on a clock edge.
  const std::uint64_t edge = to_cycles(start);
  if (cycle_ * static_cast<double>(edge) > start)
    sc_core::wait(cycle_ * static_cast<double>(edge) - start);
  const sc_core::sc_time begin = sc_core::sc_time_stamp();
  ++stats_.ops_by_kind[static_cast<std::size_t>(d.op) - 1];

  const std::vector<PostStep> steps = plan_post_op(d, cfg_);
  const PostOpArithmetic arithmetic(d);
  inputs_.assign(d.inputs.size(), {});
  std::vector<const std::int8_t*> in;
  for (std::size_t i = 0; i < d.inputs.size(); ++i) {
    inputs_[i].assign(static_cast<std::size_t>(d.inputs[i].bytes()), 0);
    in.push_back(inputs_[i].data());
  }
  output_.assign(static_cast<std::size_t>(d.output.bytes()), 0);

  sc_core::wait(cycle_ * static_cast<double>(cfg_.setup_cycles));
  stats_.setup_cycles += static_cast<std::uint64_t>(cfg_.setup_cycles);
  std::vector<sc_core::sc_time> written(steps.size());
  sc_core::sc_time reads_landed = steps.empty() ? begin : read_step(d, steps[0]);
  for (std::size_t s = 0; s < steps.size(); ++s) {
    stats_.dram_read_stall_cycles += wait_until(reads_landed);
    if (s >= 2) stats_.dram_write_stall_cycles += wait_until(written[s - 2]);
    if (s + 1 < steps.size()) reads_landed = read_step(d, steps[s + 1]);
    const PostStep& step = steps[s];
    for (const PostByteRange& w : step.writes)
      arithmetic.compute(in, w.offset, w.offset + w.bytes, output_.data());
    sc_core::wait(cycle_ * static_cast<double>(step.compute_cycles));
    stats_.compute_cycles += static_cast<std::uint64_t>(step.compute_cycles);
    stats_.element_ops += static_cast<std::uint64_t>(step.element_ops);
    stats_.line_buffer_bytes_read += static_cast<std::uint64_t>(step.element_ops);
    written[s] = write_step(d, step);
  }
  for (const sc_core::sc_time& t : written) stats_.dram_write_stall_cycles += wait_until(t);
  stats_.busy_cycles += to_cycles(sc_core::sc_time_stamp() - begin);
}

nlohmann::json PostProcessUnit::stats_json() const {
  nlohmann::json ops = nlohmann::json::object();
  for (int k = 1; k <= kPostOpKinds; ++k)
    ops[to_string(static_cast<PostOp>(k))] = stats_.ops_by_kind[static_cast<std::size_t>(k - 1)];
  return {{"ops", stats_.ops},
          {"ops_by_kind", ops},
          {"busy_cycles", stats_.busy_cycles},
          {"setup_cycles", stats_.setup_cycles},
          {"compute_cycles", stats_.compute_cycles},
          {"dram_read_stall_cycles", stats_.dram_read_stall_cycles},
          {"dram_write_stall_cycles", stats_.dram_write_stall_cycles},
          {"dram_bytes_read", stats_.dram_bytes_read},
          {"dram_bytes_written", stats_.dram_bytes_written},
          {"dram_read_transactions", stats_.dram_reads},
          {"dram_write_transactions", stats_.dram_writes},
          {"line_buffer_bytes_written", stats_.line_buffer_bytes_written},
          {"line_buffer_bytes_read", stats_.line_buffer_bytes_read},
          {"element_ops", stats_.element_ops},
          {"register_words_written", stats_.register_words_written}};
}

}  // namespace pcnn
