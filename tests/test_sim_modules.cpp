// Module tests with a small TLM test initiator: SRAM address / byte-enable /
// streaming-width checks and latency, gather reads, Pattern Config registers,
// DRAM bandwidth and latency, DRAM pages mapped from shared data.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <random>

#include <tlm_utils/simple_initiator_socket.h>
#include <systemc>
#include <tlm>

#include "models/accelerator/accelerator.hpp"
#include "models/dram/dram.hpp"
#include "models/dram/read_ahead_extension.hpp"
#include "models/dram/shared_data_extension.hpp"
#include "models/pattern_config/pattern_config.hpp"
#include "models/sram/gather_extension.hpp"
#include "models/sram/sram.hpp"
#include "pcnn/core/error.hpp"
#include "pcnn/golden/random_layer.hpp"
#include "pcnn/sim/simulate.hpp"
#include "pcnn/sim/tile_plan.hpp"

namespace {

struct TestInitiator : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<TestInitiator> initiator_socket;
  std::function<void(TestInitiator&)> body;
  SC_HAS_PROCESS(TestInitiator);
  explicit TestInitiator(const sc_core::sc_module_name& name)
      : sc_core::sc_module(name), initiator_socket("initiator_socket") {
    SC_THREAD(run);
  }
  void run() { body(*this); }

  // One access; returns the response and adds to `delay`.
  tlm::tlm_response_status access(tlm::tlm_command cmd, std::uint64_t address, std::uint8_t* data,
                                  unsigned length, sc_core::sc_time& delay,
                                  unsigned char* byte_enable = nullptr, unsigned width = 0) {
    tlm::tlm_generic_payload t;
    t.set_command(cmd);
    t.set_address(address);
    t.set_data_ptr(data);
    t.set_data_length(length);
    t.set_streaming_width(width ? width : length);
    t.set_byte_enable_ptr(byte_enable);
    t.set_byte_enable_length(byte_enable ? length : 0);
    t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    initiator_socket->b_transport(t, delay);
    return t.get_response_status();
  }
};

}  // namespace

TEST_CASE("SRAM target: boundaries, error responses, latency and counters", "[sim][modules]") {
  const pcnn::SramConfig cfg{1024, 16, 2, 3};  // 1 KB, 16-byte words, 2 banks, 3 cycles
  pcnn::Sram sram("sram", cfg, 10.0);          // 10 ns cycle
  TestInitiator init("init");
  init.initiator_socket.bind(sram.host_target_socket);
  TestInitiator pe("pe");  // the PE-side port must be bound too
  pe.initiator_socket.bind(sram.pe_target_socket);
  pe.body = [](TestInitiator&) {};
  bool ran = false;
  init.body = [&](TestInitiator& t) {
    std::uint8_t buf[64] = {};
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    // Last byte is addressable, one past the end is not.
    CHECK(t.access(tlm::TLM_WRITE_COMMAND, 1023, buf, 1, d) == tlm::TLM_OK_RESPONSE);
    CHECK(t.access(tlm::TLM_READ_COMMAND, 1024, buf, 1, d) == tlm::TLM_ADDRESS_ERROR_RESPONSE);
    CHECK(t.access(tlm::TLM_READ_COMMAND, 1000, buf, 25, d) == tlm::TLM_ADDRESS_ERROR_RESPONSE);
    CHECK(t.access(tlm::TLM_READ_COMMAND, 1000, buf, 24, d) == tlm::TLM_OK_RESPONSE);
    CHECK(t.access(tlm::TLM_READ_COMMAND, ~0ull - 3, buf, 8, d) ==
          tlm::TLM_ADDRESS_ERROR_RESPONSE);  // no wrap-around
    unsigned char be[4] = {0xff, 0, 0xff, 0};
    CHECK(t.access(tlm::TLM_WRITE_COMMAND, 0, buf, 4, d, be) ==
          tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    CHECK(t.access(tlm::TLM_WRITE_COMMAND, 0, buf, 8, d, nullptr, 4) ==
          tlm::TLM_BURST_ERROR_RESPONSE);
    // Timing: 40 bytes at address 8 touch words 0..2 (3 words), 2 banks:
    // 3 latency + ceil(3 / 2) = 5 cycles = 50 ns, added to the delay.
    sc_core::sc_time d2(7, sc_core::SC_NS);
    for (int i = 0; i < 40; ++i) buf[i] = static_cast<std::uint8_t>(i + 1);
    CHECK(t.access(tlm::TLM_WRITE_COMMAND, 8, buf, 40, d2) == tlm::TLM_OK_RESPONSE);
    CHECK(d2 == sc_core::sc_time(57, sc_core::SC_NS));
    // Gather read of two segments.
    pcnn::GatherExtension ext;
    ext.segments = {{8, 2}, {40, 3}};
    std::uint8_t out[5] = {};
    tlm::tlm_generic_payload g;
    g.set_command(tlm::TLM_READ_COMMAND);
    g.set_address(8);
    g.set_data_ptr(out);
    g.set_data_length(5);
    g.set_streaming_width(5);
    g.set_extension(&ext);
    sc_core::sc_time d3 = sc_core::SC_ZERO_TIME;
    t.initiator_socket->b_transport(g, d3);
    g.clear_extension(&ext);
    CHECK(g.get_response_status() == tlm::TLM_OK_RESPONSE);
    CHECK(out[0] == 1);
    CHECK(out[1] == 2);
    CHECK(out[2] == 33);
    CHECK(out[4] == 35);
    CHECK(d3 == sc_core::sc_time(40, sc_core::SC_NS));  // 2 words, 2 banks: 3 + 1 cycles
    // transport_dbg: untimed, same checks.
    tlm::tlm_generic_payload dbg;
    dbg.set_command(tlm::TLM_READ_COMMAND);
    dbg.set_address(8);
    dbg.set_data_ptr(out);
    dbg.set_data_length(2);
    dbg.set_streaming_width(2);
    CHECK(t.initiator_socket->transport_dbg(dbg) == 2);
    dbg.set_address(1023);
    CHECK(t.initiator_socket->transport_dbg(dbg) == 0);
    ran = true;
  };
  sc_core::sc_start();
  REQUIRE(ran);
  CHECK(sram.stats().bytes_written == 41);
  CHECK(sram.stats().bytes_read == 24 + 5);
}

TEST_CASE("Pattern Config registers build the decoder table", "[sim][modules]") {
  pcnn::PatternConfig pac("pac", 10.0);
  TestInitiator init("init");
  init.initiator_socket.bind(pac.host_target_socket);
  init.body = [&](TestInitiator& t) {
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    std::uint32_t v = 4;
    t.access(tlm::TLM_WRITE_COMMAND, pcnn::PatternConfig::kRegN,
             reinterpret_cast<std::uint8_t*>(&v), 4, d);
    v = 9;
    t.access(tlm::TLM_WRITE_COMMAND, pcnn::PatternConfig::kRegK,
             reinterpret_cast<std::uint8_t*>(&v), 4, d);
    std::uint16_t masks[2] = {0b000011011, 0b011011000};
    t.access(tlm::TLM_WRITE_COMMAND, pcnn::PatternConfig::kTableBase,
             reinterpret_cast<std::uint8_t*>(masks), 4, d);
    v = 2;
    t.access(tlm::TLM_WRITE_COMMAND, pcnn::PatternConfig::kRegV,
             reinterpret_cast<std::uint8_t*>(&v), 4, d);
    std::uint8_t b[4];
    CHECK(t.access(tlm::TLM_READ_COMMAND, pcnn::PatternConfig::kSize - 2, b, 4, d) ==
          tlm::TLM_ADDRESS_ERROR_RESPONSE);
  };
  sc_core::sc_start();
  CHECK(pac.table().n == 4);
  REQUIRE(pac.table().masks.size() == 2);
  CHECK(pac.table().decode(1) == 0b011011000);
}

TEST_CASE("DRAM: queued accesses share the bandwidth, latency overlaps", "[sim][modules]") {
  pcnn::DramConfig cfg;
  cfg.bandwidth_gbps = 10.0;  // 10 bytes per ns
  cfg.latency_ns = 50.0;
  pcnn::Dram dram("dram", cfg, 4096);
  TestInitiator init("init");
  init.initiator_socket.bind(dram.host_target_socket);
  init.body = [&](TestInitiator& t) {
    std::uint8_t buf[1000] = {};
    sc_core::sc_time a = sc_core::SC_ZERO_TIME, b = sc_core::SC_ZERO_TIME;
    t.access(tlm::TLM_READ_COMMAND, 0, buf, 1000, a);  // streams 0..100 ns, lands at 150
    t.access(tlm::TLM_READ_COMMAND, 0, buf, 500, b);   // queued: 100..150, lands at 200
    CHECK(a == sc_core::sc_time(150, sc_core::SC_NS));
    CHECK(b == sc_core::sc_time(200, sc_core::SC_NS));
    sc_core::sc_time c = sc_core::SC_ZERO_TIME;
    CHECK(t.access(tlm::TLM_READ_COMMAND, 4000, buf, 100, c) == tlm::TLM_ADDRESS_ERROR_RESPONSE);
  };
  sc_core::sc_start();
  CHECK(dram.stats().bytes_read == 1500);
}

TEST_CASE("DRAM: shared data is mapped, reads back, and is copied on write", "[sim][modules]") {
  // A plain byte array is the reference; every access goes to both. The
  // mapped ranges start and end inside pages, so whole pages are mapped and
  // the partial ones written; later writes, plain or shared, land on mapped
  // and stored pages alike.
  const std::uint64_t size = 5 * 4096 + 100;
  pcnn::Dram dram("dram", pcnn::DramConfig{}, size);
  TestInitiator init("init");
  init.initiator_socket.bind(dram.host_target_socket);
  std::mt19937 rng(21);
  auto random_bytes = [&](std::size_t n) {
    auto v = std::make_shared<std::vector<std::uint8_t>>(n);
    for (auto& b : *v) b = static_cast<std::uint8_t>(rng());
    return v;
  };
  std::vector<std::uint8_t> model(size, 0);
  std::vector<std::shared_ptr<std::vector<std::uint8_t>>> sources;
  std::vector<std::vector<std::uint8_t>> source_copies;
  std::weak_ptr<std::vector<std::uint8_t>> first_source;
  init.body = [&](TestInitiator& t) {
    auto debug = [&](tlm::tlm_command cmd, std::uint64_t address, std::uint8_t* data,
                     unsigned length, std::shared_ptr<const void> owner) {
      tlm::tlm_generic_payload p;
      p.set_command(cmd);
      p.set_address(address);
      p.set_data_ptr(data);
      p.set_data_length(length);
      p.set_streaming_width(length);
      pcnn::SharedDataExtension ext;
      ext.owner = std::move(owner);
      if (ext.owner) p.set_extension(&ext);
      const unsigned done = t.initiator_socket->transport_dbg(p);
      if (ext.owner) p.clear_extension(&ext);
      return done;
    };
    auto check_all = [&] {
      std::vector<std::uint8_t> back(size);
      REQUIRE(debug(tlm::TLM_READ_COMMAND, 0, back.data(), size, nullptr) == size);
      REQUIRE(back == model);
    };
    {
      auto source = random_bytes(3 * 4096 + 500);
      first_source = source;
      REQUIRE(debug(tlm::TLM_WRITE_COMMAND, 4096 + 300, source->data(), source->size(), source) ==
              source->size());
      std::copy(source->begin(), source->end(), model.begin() + 4096 + 300);
      source_copies.push_back(*source);
    }  // the DRAM keeps the mapped bytes alive
    CHECK(!first_source.expired());
    check_all();
    for (int i = 0; i < 300; ++i) {
      const std::uint64_t address = rng() % size;
      const unsigned length =
          static_cast<unsigned>(rng() % std::min<std::uint64_t>(9000, size - address + 1));
      const int kind = static_cast<int>(rng() % 4);
      if (kind == 0) {  // shared write
        auto source = random_bytes(length);
        REQUIRE(debug(tlm::TLM_WRITE_COMMAND, address, source->data(), length, source) == length);
        std::copy(source->begin(), source->end(), model.begin() + address);
        sources.push_back(source);
        source_copies.push_back(*source);
      } else if (kind == 1) {  // timed write
        auto data = random_bytes(length);
        sc_core::sc_time d = sc_core::SC_ZERO_TIME;
        REQUIRE(t.access(tlm::TLM_WRITE_COMMAND, address, data->data(), length, d) ==
                tlm::TLM_OK_RESPONSE);
        std::copy(data->begin(), data->end(), model.begin() + address);
      } else {  // timed read of a range
        std::vector<std::uint8_t> back(length);
        sc_core::sc_time d = sc_core::SC_ZERO_TIME;
        REQUIRE(t.access(tlm::TLM_READ_COMMAND, address, back.data(), length, d) ==
                tlm::TLM_OK_RESPONSE);
        REQUIRE(std::equal(back.begin(), back.end(), model.begin() + address));
      }
    }
    check_all();
    // Writes into mapped pages never reach the shared bytes.
    CHECK(*first_source.lock() == source_copies[0]);
    for (std::size_t k = 0; k < sources.size(); ++k) CHECK(*sources[k] == source_copies[k + 1]);
    std::uint8_t b[8] = {};
    CHECK(debug(tlm::TLM_WRITE_COMMAND, size - 4, b, 8, sources.empty() ? nullptr : sources[0]) ==
          0);
  };
  sc_core::sc_start();
}

TEST_CASE("DRAM: a read-ahead hint changes no data, timing or counter", "[sim][modules]") {
  // Two DRAMs see the same accesses; one's reads announce a next range
  // (also ranges beyond its end). Everything observable must be the same.
  const std::uint64_t size = 3 * 4096 + 64;
  pcnn::Dram plain("plain", pcnn::DramConfig{}, size), hinted("hinted", pcnn::DramConfig{}, size);
  TestInitiator a("a"), b("b");
  a.initiator_socket.bind(plain.host_target_socket);
  b.initiator_socket.bind(hinted.host_target_socket);
  std::mt19937 rng(22);
  a.body = [&](TestInitiator&) {};
  b.body = [&](TestInitiator&) {
    for (int i = 0; i < 200; ++i) {
      const std::uint64_t address = rng() % size;
      const unsigned length = static_cast<unsigned>(rng() % (size - address + 1));
      std::vector<std::uint8_t> x(length), y(length);
      const bool write = rng() % 3 == 0;
      for (auto& v : x) v = static_cast<std::uint8_t>(rng());
      y = x;
      pcnn::ReadAheadExtension next;
      next.address = rng() % (2 * size);
      next.length = rng() % (3 * size);
      sc_core::sc_time da = sc_core::SC_ZERO_TIME, db = sc_core::SC_ZERO_TIME;
      const tlm::tlm_command cmd = write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND;
      REQUIRE(a.access(cmd, address, x.data(), length, da) == tlm::TLM_OK_RESPONSE);
      tlm::tlm_generic_payload t;
      t.set_command(cmd);
      t.set_address(address);
      t.set_data_ptr(y.data());
      t.set_data_length(length);
      t.set_streaming_width(length);
      t.set_extension(&next);
      b.initiator_socket->b_transport(t, db);
      t.clear_extension(&next);
      REQUIRE(t.get_response_status() == tlm::TLM_OK_RESPONSE);
      REQUIRE(x == y);
      REQUIRE(da == db);
    }
  };
  sc_core::sc_start();
  CHECK(plain.stats_json() == hinted.stats_json());
  CHECK(hinted.stats().accesses == 200);
}

TEST_CASE("a host and PE group waiting on each other run out of events", "[sim][modules]") {
  // A plan that promises the PE group a weight chunk the host never moves: the
  // PE group sleeps on the handshake, nothing else is scheduled, sc_start()
  // returns without sc_stop(), and the host reports that it did not finish
  // (simulate() turns this into an error instead of hanging).
  std::mt19937_64 rng(4);
  pcnn::ConvGeometry g;
  g.in_channels = 4;
  g.out_channels = 4;
  g.in_h = g.in_w = 5;
  const pcnn::SpmLayer layer = pcnn::make_layer_with_geometry(g, 4, 4, false, rng, "stuck");
  const std::vector<std::int8_t> input(static_cast<std::size_t>(g.input_elements()), 1);
  const pcnn::ArchConfig arch;
  std::vector<pcnn::HostJob> jobs(1);
  jobs[0].layer = &layer;
  jobs[0].input = &input;
  jobs[0].plan = pcnn::make_tile_plan(layer, arch);
  jobs[0].plan.chunks_per_tile = 0;  // the host will move no weights
  jobs[0].plan.groups_per_chunk = 1;
  pcnn::use_encoded_images(jobs[0]);
  pcnn::Accelerator top("top", arch, jobs, pcnn::ActMode::off, pcnn::dram_layout(jobs[0]).end);
  sc_core::sc_start();
  CHECK(!top.host_controller.finished());
  CHECK(top.pe_group.busy());
}

TEST_CASE("one simulation per process: a second simulate() is refused, a child runs it",
          "[sim][modules]") {
  std::mt19937_64 rng(5);
  pcnn::ConvGeometry g;
  g.in_channels = 4;
  g.out_channels = 4;
  g.in_h = g.in_w = 5;
  pcnn::LayerJob job;
  job.layer = pcnn::make_layer_with_geometry(g, 4, 4, false, rng, "once");
  job.input = pcnn::random_activations(g.input_elements(), 0.5, false, rng);
  const std::vector<pcnn::LayerJob> jobs = {job};
  // In a child of its own, so that this test case's process stays clean.
  const pcnn::ArchConfig arch;
  const pcnn::SimOptions options;
  const auto first = pcnn::simulate_in_child(jobs, arch, options);
  const auto second = pcnn::simulate_in_child(jobs, arch, options);
  CHECK(first[0].output == second[0].output);
  CHECK(pcnn::stats_to_json(first[0].stats) == pcnn::stats_to_json(second[0].stats));
  CHECK(first[0].module_stats == second[0].module_stats);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int code = 1;
    try {
      pcnn::simulate(jobs, arch, options);
      pcnn::simulate(jobs, arch, options);
    } catch (const pcnn::Error& e) {
      code = std::string(e.what()).find("one simulation per process") != std::string::npos ? 0 : 2;
    }
    _exit(code);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

namespace {

// A producer fills a ring at 10 ns; a consumer looks at it in the same delta
// and again when the fill event fires. Elaborated in either order.
struct RingProducer : sc_core::sc_module {
  pcnn::SlotRing& ring;
  SC_HAS_PROCESS(RingProducer);
  RingProducer(const sc_core::sc_module_name& n, pcnn::SlotRing& r)
      : sc_core::sc_module(n), ring(r) {
    SC_THREAD(run);
  }
  void run() {
    wait(10, sc_core::SC_NS);
    ring.fill();
  }
};

struct RingConsumer : sc_core::sc_module {
  pcnn::SlotRing& ring;
  int seen_at_fill = -1, seen_after_event = -1;
  sc_core::sc_time event_time;
  SC_HAS_PROCESS(RingConsumer);
  RingConsumer(const sc_core::sc_module_name& n, pcnn::SlotRing& r)
      : sc_core::sc_module(n), ring(r) {
    SC_THREAD(run);
  }
  void run() {
    wait(10, sc_core::SC_NS);
    seen_at_fill = ring.ready(0);
    wait(ring.filled_event);
    seen_after_event = ring.ready(0);
    event_time = sc_core::sc_time_stamp();
  }
};

// Exit code: 1 + 2 * seen_at_fill + 4 * seen_after_event (the time must be 10 ns).
int ring_order_child(bool producer_first) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  pcnn::SlotRing ring("ring");
  ring.reset(1);
  std::unique_ptr<RingProducer> p;
  std::unique_ptr<RingConsumer> c;
  if (producer_first) {
    p = std::make_unique<RingProducer>("producer", ring);
    c = std::make_unique<RingConsumer>("consumer", ring);
  } else {
    c = std::make_unique<RingConsumer>("consumer", ring);
    p = std::make_unique<RingProducer>("producer", ring);
  }
  sc_core::sc_start();
  if (c->event_time != sc_core::sc_time(10, sc_core::SC_NS)) return 100;
  return 1 + 2 * c->seen_at_fill + 4 * c->seen_after_event;
}

}  // namespace

TEST_CASE("buffer rings: what a process sees does not depend on process order", "[sim][modules]") {
  int codes[2];
  for (int order = 0; order < 2; ++order) {
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) _exit(ring_order_child(order == 0));
    int status = 0;
    waitpid(pid, &status, 0);
    REQUIRE(WIFEXITED(status));
    codes[order] = WEXITSTATUS(status);
  }
  // Both orders: not yet visible in the delta of the fill, visible after the event.
  CHECK(codes[0] == 1 + 0 + 4);
  CHECK(codes[1] == codes[0]);
}
