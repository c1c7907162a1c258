// The post-processing unit as a SystemC module, driven through its registers
// by a small test host with a DRAM behind it: cycles of a tiny op computed by
// hand, random ops bit-exact against the golden operators with DRAM traffic
// equal to the tensor sizes, and the refusals of its register port. Each test
// case simulates, so each runs in its own process (tests/CMakeLists.txt).
#include <catch2/catch.hpp>

#include <functional>

#include <tlm_utils/simple_initiator_socket.h>
#include <systemc>
#include <tlm>

#include "models/dram/dram.hpp"
#include "models/post_process/post_process.hpp"
#include "pcnn/core/error.hpp"
#include "post_process_test_support.hpp"

using pcnn::Int8Op;
using pcnn::PostRegisters;

namespace {

std::uint64_t test_seed() { return Catch::rngSeed() != 0 ? Catch::rngSeed() : 7u; }

struct TestHost : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<TestHost> unit_initiator_socket;
  tlm_utils::simple_initiator_socket<TestHost> dram_initiator_socket;
  std::function<void(TestHost&)> body;
  bool finished = false;
  SC_HAS_PROCESS(TestHost);
  explicit TestHost(const sc_core::sc_module_name& name)
      : sc_core::sc_module(name),
        unit_initiator_socket("unit_initiator_socket"),
        dram_initiator_socket("dram_initiator_socket") {
    SC_THREAD(run);
  }
  void run() {
    body(*this);
    finished = true;
  }

  tlm::tlm_response_status access(tlm::tlm_command cmd, std::uint64_t address, std::uint8_t* data,
                                  unsigned length, sc_core::sc_time& delay) {
    tlm::tlm_generic_payload t;
    t.set_command(cmd);
    t.set_address(address);
    t.set_data_ptr(data);
    t.set_data_length(length);
    t.set_streaming_width(length);
    t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    unit_initiator_socket->b_transport(t, delay);
    return t.get_response_status();
  }
  std::uint32_t read_register(std::uint64_t address) {
    std::uint8_t b[4] = {};
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    REQUIRE(access(tlm::TLM_READ_COMMAND, address, b, 4, delay) == tlm::TLM_OK_RESPONSE);
    return b[0] | b[1] << 8 | b[2] << 16 | static_cast<std::uint32_t>(b[3]) << 24;
  }
  // Untimed DRAM access (placing inputs, reading results).
  void dram_debug(tlm::tlm_command cmd, std::uint64_t address, std::int8_t* data, std::size_t n) {
    tlm::tlm_generic_payload t;
    t.set_command(cmd);
    t.set_address(address);
    t.set_data_ptr(reinterpret_cast<std::uint8_t*>(data));
    t.set_data_length(static_cast<unsigned>(n));
    t.set_streaming_width(static_cast<unsigned>(n));
    REQUIRE(dram_initiator_socket->transport_dbg(t) == n);
  }
  // Programs and starts one op; returns the response of the CONTROL write.
  tlm::tlm_response_status start(const pcnn::PostOpDescriptor& d, sc_core::sc_time& delay) {
    tlm::tlm_response_status last = tlm::TLM_OK_RESPONSE;
    for (const pcnn::PostRegisterWrite& w : pcnn::post_op_register_writes(d)) {
      std::vector<std::uint8_t> bytes = w.bytes;
      last = access(tlm::TLM_WRITE_COMMAND, w.address, bytes.data(),
                    static_cast<unsigned>(bytes.size()), delay);
      if (last != tlm::TLM_OK_RESPONSE) return last;
    }
    return last;
  }
  void wait_done(pcnn::PostProcessUnit& unit) {
    while (unit.busy()) sc_core::wait(unit.done_event());
  }
};

struct Bench {
  pcnn::Dram dram;
  pcnn::PostProcessUnit unit;
  TestHost host;
  Bench(const pcnn::DramConfig& dram_cfg, const pcnn::PostProcessConfig& cfg, double clock_ns)
      : dram("dram", dram_cfg, 1 << 20), unit("post_process", cfg, clock_ns), host("host") {
    host.unit_initiator_socket.bind(unit.host_target_socket);
    host.dram_initiator_socket.bind(dram.host_target_socket);
    unit.dram_initiator_socket.bind(dram.post_process_target_socket);
  }
};

}  // namespace

TEST_CASE("post-processing unit: a tiny clip op takes its hand-computed cycles",
          "[sim][post_process]") {
  pcnn::DramConfig dram_cfg;
  dram_cfg.bandwidth_gbps = 1.0;  // 1 byte per ns
  dram_cfg.latency_ns = 10.0;
  pcnn::PostProcessConfig cfg;
  cfg.lanes = 16;
  cfg.setup_cycles = 8;
  Bench b(dram_cfg, cfg, 1.0);  // 1 GHz: 1 ns cycles
  pcnn::PostOpDescriptor d;
  d.op = pcnn::PostOp::clip;
  d.lo = -5;
  d.hi = 100;
  d.inputs = {{0, 1, 1, 32}};
  d.output = {64, 1, 1, 32};
  std::vector<std::int8_t> x(32), y(32);
  for (int i = 0; i < 32; ++i)
    x[static_cast<std::size_t>(i)] = static_cast<std::int8_t>(i * 9 - 128);
  sc_core::sc_time started, ended;
  b.host.body = [&](TestHost& h) {
    h.dram_debug(tlm::TLM_WRITE_COMMAND, 0, x.data(), x.size());
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    REQUIRE(h.start(d, delay) == tlm::TLM_OK_RESPONSE);
    // 19 header + 5 output + 7 input + 1 CONTROL words, one cycle each.
    CHECK(delay == sc_core::sc_time(32, sc_core::SC_NS));
    sc_core::wait(delay);
    started = sc_core::sc_time_stamp();
    CHECK(h.read_register(PostRegisters::kStatus) == PostRegisters::kStatusBusy);
    h.wait_done(b.unit);
    ended = sc_core::sc_time_stamp();
    CHECK(h.read_register(PostRegisters::kStatus) == PostRegisters::kStatusDone);
    CHECK(h.read_register(PostRegisters::kOpsDone) == 1);
    h.dram_debug(tlm::TLM_READ_COMMAND, 64, y.data(), y.size());
  };
  sc_core::sc_start();
  REQUIRE(b.host.finished);
  // setup 8; read 32 bytes: 32 ns streaming + 10 ns latency = 42 stall; compute
  // ceil(32/16) = 2; write 32 bytes: 42 until it has landed. 8 + 42 + 2 + 42 = 94.
  CHECK(ended - started == sc_core::sc_time(94, sc_core::SC_NS));
  const pcnn::PostProcessStats& s = b.unit.stats();
  CHECK(s.busy_cycles == 94);
  CHECK(s.setup_cycles == 8);
  CHECK(s.compute_cycles == 2);
  CHECK(s.dram_read_stall_cycles == 42);
  CHECK(s.dram_write_stall_cycles == 42);
  CHECK(s.dram_bytes_read == 32);
  CHECK(s.dram_bytes_written == 32);
  CHECK(s.ops == 1);
  CHECK(s.ops_by_kind[static_cast<std::size_t>(pcnn::PostOp::clip) - 1] == 1);
  CHECK(s.register_words_written == 32);
  CHECK(b.dram.stats().bytes_read == 32);
  CHECK(b.dram.stats().bytes_written == 32);
  for (int i = 0; i < 32; ++i)
    CHECK(y[static_cast<std::size_t>(i)] ==
          std::min(100, std::max(-5, static_cast<int>(x[static_cast<std::size_t>(i)]))));
  CHECK(b.unit.stats_json().at("ops_by_kind").at("clip") == 1);
}

TEST_CASE("post-processing unit: random ops are bit-exact and move exactly their tensors",
          "[sim][post_process]") {
  const std::uint64_t seed = test_seed();
  INFO("seed " << seed << " (rerun with --rng-seed " << seed << ")");
  std::mt19937_64 rng(seed);
  pcnn::PostProcessConfig cfg;
  cfg.line_buffer_bytes = 256;  // small enough that some ops run in row bands
  Bench b(pcnn::DramConfig{}, cfg, 1000.0 / 300.0);
  int ran = 0;
  b.host.body = [&](TestHost& h) {
    for (int trial = 0; trial < 8; ++trial)
      for (Int8Op op : pcnn_test::post_process_ops()) {
        const pcnn_test::RandomPostOp r = pcnn_test::random_post_op(rng, op);
        const std::uint64_t base = static_cast<std::uint64_t>(trial) * 4096;
        const pcnn::PostOpDescriptor d = r.descriptor(base);
        try {
          pcnn::validate_post_op(d, cfg);
        } catch (const pcnn::Error&) {
          continue;  // a window larger than this small line buffer
        }
        INFO(pcnn::to_string(op) << " trial " << trial);
        std::int64_t in_bytes = 0;
        const std::vector<std::vector<std::int8_t>> stored = r.stored_inputs();
        for (std::size_t i = 0; i < d.inputs.size(); ++i) {
          std::vector<std::int8_t> v = stored[i];
          h.dram_debug(tlm::TLM_WRITE_COMMAND, d.inputs[i].address, v.data(), v.size());
          in_bytes += d.inputs[i].bytes();
        }
        const pcnn::PostProcessStats before = b.unit.stats();
        sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
        REQUIRE(h.start(d, delay) == tlm::TLM_OK_RESPONSE);
        sc_core::wait(delay);
        h.wait_done(b.unit);
        const pcnn::PostProcessStats& s = b.unit.stats();
        CHECK(s.dram_bytes_read - before.dram_bytes_read == static_cast<std::uint64_t>(in_bytes));
        CHECK(s.dram_bytes_written - before.dram_bytes_written ==
              static_cast<std::uint64_t>(d.output.bytes()));
        // Every cycle of the op is setup, compute or a DRAM wait.
        CHECK(s.busy_cycles - before.busy_cycles ==
              (s.setup_cycles - before.setup_cycles) + (s.compute_cycles - before.compute_cycles) +
                  (s.dram_read_stall_cycles - before.dram_read_stall_cycles) +
                  (s.dram_write_stall_cycles - before.dram_write_stall_cycles));
        std::vector<std::int8_t> y(static_cast<std::size_t>(d.output.bytes()));
        h.dram_debug(tlm::TLM_READ_COMMAND, d.output.address, y.data(), y.size());
        REQUIRE(y == r.stored_golden());
        ++ran;
      }
  };
  sc_core::sc_start();
  REQUIRE(b.host.finished);
  CHECK(ran > 60);
  CHECK(b.unit.stats().ops == static_cast<std::uint64_t>(ran));
  CHECK(b.dram.stats().bytes_read == b.unit.stats().dram_bytes_read);
}

TEST_CASE("post-processing unit: bad descriptors and writes while busy are refused",
          "[sim][post_process]") {
  Bench b(pcnn::DramConfig{}, pcnn::PostProcessConfig{}, 1.0);
  b.host.body = [&](TestHost& h) {
    pcnn::PostOpDescriptor d;
    d.op = pcnn::PostOp::clip;
    d.inputs = {{0, 1, 1, 64}};
    d.output = {64, 1, 1, 64};
    d.lo = 9;
    d.hi = 3;
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    CHECK(h.start(d, delay) == tlm::TLM_GENERIC_ERROR_RESPONSE);
    CHECK_THAT(b.unit.last_error(), Catch::Contains("bounds 9..3"));
    CHECK_FALSE(b.unit.busy());
    CHECK(h.read_register(PostRegisters::kStatus) == PostRegisters::kStatusError);
    // Misaligned, read-only and out-of-range register writes.
    std::uint8_t word[4] = {1, 0, 0, 0};
    delay = sc_core::SC_ZERO_TIME;
    CHECK(h.access(tlm::TLM_WRITE_COMMAND, 2, word, 4, delay) == tlm::TLM_ADDRESS_ERROR_RESPONSE);
    CHECK(h.access(tlm::TLM_WRITE_COMMAND, PostRegisters::kStatus, word, 4, delay) ==
          tlm::TLM_COMMAND_ERROR_RESPONSE);
    CHECK(h.access(tlm::TLM_WRITE_COMMAND, PostRegisters::kSize, word, 4, delay) ==
          tlm::TLM_ADDRESS_ERROR_RESPONSE);
    d.lo = -128;
    d.hi = 127;
    delay = sc_core::SC_ZERO_TIME;
    REQUIRE(h.start(d, delay) == tlm::TLM_OK_RESPONSE);
    CHECK(b.unit.last_error().empty());
    CHECK(b.unit.busy());
    CHECK(h.access(tlm::TLM_WRITE_COMMAND, PostRegisters::kHeader, word, 4, delay) ==
          tlm::TLM_COMMAND_ERROR_RESPONSE);
    sc_core::wait(delay);
    h.wait_done(b.unit);
    CHECK(h.read_register(PostRegisters::kStatus) == PostRegisters::kStatusDone);
  };
  sc_core::sc_start();
  REQUIRE(b.host.finished);
  CHECK(b.unit.stats().ops == 1);
}

TEST_CASE("post-processing unit: host DMA on the DRAM channel delays its reads",
          "[sim][post_process]") {
  pcnn::DramConfig dram_cfg;
  dram_cfg.bandwidth_gbps = 1.0;  // 1 byte per ns
  dram_cfg.latency_ns = 10.0;
  pcnn::PostProcessConfig cfg;
  cfg.lanes = 16;
  Bench b(dram_cfg, cfg, 1.0);
  pcnn::PostOpDescriptor d;
  d.op = pcnn::PostOp::clip;
  d.inputs = {{0, 1, 1, 32}};
  d.output = {64, 1, 1, 32};
  b.host.body = [&](TestHost& h) {
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    REQUIRE(h.start(d, delay) == tlm::TLM_OK_RESPONSE);  // the op starts at 32 ns
    // A 100-byte host DMA read at 0 ns holds the channel until 100 ns.
    std::vector<std::uint8_t> buffer(100);
    tlm::tlm_generic_payload t;
    t.set_command(tlm::TLM_READ_COMMAND);
    t.set_address(1024);
    t.set_data_ptr(buffer.data());
    t.set_data_length(100);
    t.set_streaming_width(100);
    sc_core::sc_time dma_delay = sc_core::SC_ZERO_TIME;
    h.dram_initiator_socket->b_transport(t, dma_delay);
    CHECK(dma_delay == sc_core::sc_time(110, sc_core::SC_NS));
    sc_core::wait(delay);
    h.wait_done(b.unit);
    // Setup ends at 40; the read streams 100..132 and lands at 142: a 102-cycle
    // stall instead of 42. Then 2 compute and 42 for the write: 8 + 102 + 2 + 42.
    CHECK(sc_core::sc_time_stamp() == sc_core::sc_time(32 + 154, sc_core::SC_NS));
  };
  sc_core::sc_start();
  REQUIRE(b.host.finished);
  CHECK(b.unit.stats().dram_read_stall_cycles == 102);
  CHECK(b.unit.stats().busy_cycles == 154);
  CHECK(b.dram.stats().bytes_read == 132);
}

TEST_CASE("post-processing unit: a tensor beyond the DRAM stops the simulation with its address",
          "[sim][post_process]") {
  Bench b(pcnn::DramConfig{}, pcnn::PostProcessConfig{}, 1.0);  // 1 MiB of DRAM
  pcnn::PostOpDescriptor d;
  d.op = pcnn::PostOp::clip;
  d.inputs = {{(1u << 20) - 16, 1, 1, 32}};
  d.output = {0, 1, 1, 32};
  b.host.body = [&](TestHost& h) {
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    REQUIRE(h.start(d, delay) == tlm::TLM_OK_RESPONSE);
    sc_core::wait(delay);
    h.wait_done(b.unit);
  };
  CHECK_THROWS_WITH(sc_core::sc_start(),
                    Catch::Contains("post_process") &&
                        Catch::Contains("DRAM read at 1048560 failed: TLM_ADDRESS_ERROR_RESPONSE"));
  CHECK_FALSE(b.host.finished);
}
