// The post-processing unit on operators of the sizes real CNNs have (ResNet-18
// at 224x224, VGG-16-CIFAR, a U-Net-like decoder): cycles, stalls and DRAM
// traffic of each op at the default unit (32 lanes, 64 KiB line buffer) and
// DRAM (38.4 GB/s, 60 ns) at 300 MHz, and the CPU time of simulating them all
// (median over RUNS processes).
//   build/bench_post_process [RUNS]
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <tlm_utils/simple_initiator_socket.h>
#include <systemc>
#include <tlm>

#include "models/dram/dram.hpp"
#include "models/post_process/post_process.hpp"

#include "bench_support.hpp"

namespace {

using pcnn_bench::cpu_model;

struct BenchOp {
  const char* what;
  pcnn::PostOpDescriptor d;
};

pcnn::PostTensor tensor(std::uint64_t& next, std::int64_t c, std::int64_t h, std::int64_t w) {
  pcnn::PostTensor t{next, c, h, w};
  next += static_cast<std::uint64_t>((t.bytes() + 63) / 64 * 64);
  return t;
}

std::vector<BenchOp> bench_ops(std::uint64_t& next) {
  std::vector<BenchOp> ops;
  auto pool = [&](const char* what, pcnn::PostOp op, std::int64_t c, std::int64_t h, int k, int s,
                  int pad) {
    pcnn::PostOpDescriptor d;
    d.op = op;
    d.kernel_h = d.kernel_w = k;
    d.stride_h = d.stride_w = s;
    d.pad_top = d.pad_left = d.pad_bottom = d.pad_right = pad;
    d.inputs = {tensor(next, c, h, h)};
    const std::int64_t o = (h + 2 * pad - k) / s + 1;
    d.output = tensor(next, c, o, o);
    ops.push_back({what, d});
  };
  pool("ResNet-18 stem max_pool 3x3/2 [64,112,112]", pcnn::PostOp::max_pool, 64, 112, 3, 2, 1);
  pool("VGG-16-CIFAR max_pool 2x2/2 [64,32,32]", pcnn::PostOp::max_pool, 64, 32, 2, 2, 0);
  pool("VGG-16-CIFAR max_pool 2x2/2 [512,4,4]", pcnn::PostOp::max_pool, 512, 4, 2, 2, 0);
  pool("average_pool 3x3/1 pad 1 [256,14,14]", pcnn::PostOp::average_pool, 256, 14, 3, 1, 1);
  {
    pcnn::PostOpDescriptor d;
    d.op = pcnn::PostOp::add;
    d.inputs = {tensor(next, 64, 56, 56), tensor(next, 64, 56, 56)};
    d.output = tensor(next, 64, 56, 56);
    d.multipliers = {std::int64_t{1} << 30, std::int64_t{3} << 28};
    ops.push_back({"ResNet-18 residual add [64,56,56]", d});
  }
  {
    pcnn::PostOpDescriptor d;
    d.op = pcnn::PostOp::global_average_pool;
    d.inputs = {tensor(next, 512, 7, 7)};
    d.output = tensor(next, 512, 1, 1);
    ops.push_back({"ResNet-18 global_average_pool [512,7,7]", d});
  }
  {
    pcnn::PostOpDescriptor d;
    d.op = pcnn::PostOp::clip;
    d.lo = 0;
    d.inputs = {tensor(next, 128, 28, 28)};
    d.output = tensor(next, 128, 28, 28);
    ops.push_back({"relu [128,28,28]", d});
  }
  {
    pcnn::PostOpDescriptor d;
    d.op = pcnn::PostOp::resize_nearest;
    d.inputs = {tensor(next, 64, 28, 28)};
    d.output = tensor(next, 64, 56, 56);
    for (int i = 0; i < 56; ++i) {
      d.rows.push_back(i / 2);
      d.cols.push_back(i / 2);
    }
    ops.push_back({"resize_nearest x2 [64,28,28]", d});
  }
  {
    pcnn::PostOpDescriptor d;
    d.op = pcnn::PostOp::concat;
    d.inputs = {tensor(next, 64, 56, 56), tensor(next, 64, 56, 56)};
    d.output = tensor(next, 128, 56, 56);
    d.multipliers = {std::int64_t{1} << 30, std::int64_t{1} << 30};
    ops.push_back({"concat 2 x [64,56,56]", d});
  }
  {
    pcnn::PostOpDescriptor d;
    d.op = pcnn::PostOp::depth_to_space;
    d.block = 2;
    d.inputs = {tensor(next, 256, 28, 28)};
    d.output = tensor(next, 64, 56, 56);
    ops.push_back({"depth_to_space 2 [256,28,28]", d});
  }
  return ops;
}

struct Driver : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<Driver> unit_initiator_socket;
  tlm_utils::simple_initiator_socket<Driver> dram_initiator_socket;
  pcnn::PostProcessUnit* unit = nullptr;
  std::vector<BenchOp>* ops = nullptr;
  bool print = true;
  SC_HAS_PROCESS(Driver);
  explicit Driver(const sc_core::sc_module_name& name)
      : sc_core::sc_module(name),
        unit_initiator_socket("unit_initiator_socket"),
        dram_initiator_socket("dram_initiator_socket") {
    SC_THREAD(run);
  }
  void run() {
    if (print)
      std::printf("%-44s %9s %9s %9s %9s %10s %10s\n", "op", "cycles", "compute", "rd_stall",
                  "wr_stall", "read_B", "write_B");
    for (const BenchOp& op : *ops) {
      const pcnn::PostProcessStats before = unit->stats();
      sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
      for (const pcnn::PostRegisterWrite& w : pcnn::post_op_register_writes(op.d)) {
        std::vector<std::uint8_t> bytes = w.bytes;
        tlm::tlm_generic_payload t;
        t.set_command(tlm::TLM_WRITE_COMMAND);
        t.set_address(w.address);
        t.set_data_ptr(bytes.data());
        t.set_data_length(static_cast<unsigned>(bytes.size()));
        t.set_streaming_width(static_cast<unsigned>(bytes.size()));
        unit_initiator_socket->b_transport(t, delay);
        if (!t.is_response_ok()) {
          std::fprintf(stderr, "bench_post_process: %s refused: %s\n", op.what,
                       unit->last_error().c_str());
          std::exit(1);
        }
      }
      sc_core::wait(delay);
      while (unit->busy()) sc_core::wait(unit->done_event());
      const pcnn::PostProcessStats& s = unit->stats();
      if (!print) continue;
      std::printf(
          "%-44s %9llu %9llu %9llu %9llu %10llu %10llu\n", op.what,
          static_cast<unsigned long long>(s.busy_cycles - before.busy_cycles),
          static_cast<unsigned long long>(s.compute_cycles - before.compute_cycles),
          static_cast<unsigned long long>(s.dram_read_stall_cycles - before.dram_read_stall_cycles),
          static_cast<unsigned long long>(s.dram_write_stall_cycles -
                                          before.dram_write_stall_cycles),
          static_cast<unsigned long long>(s.dram_bytes_read - before.dram_bytes_read),
          static_cast<unsigned long long>(s.dram_bytes_written - before.dram_bytes_written));
    }
  }
};

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

// One simulation of every op; prints the table when `table`, then the CPU time.
int simulate(bool table) {
  std::uint64_t next = 0;
  std::vector<BenchOp> ops = bench_ops(next);
  pcnn::Dram dram("dram", pcnn::DramConfig{}, next);
  pcnn::PostProcessUnit unit("post_process", pcnn::PostProcessConfig{}, 1000.0 / 300.0);
  Driver driver("driver");
  driver.unit = &unit;
  driver.ops = &ops;
  driver.unit_initiator_socket.bind(unit.host_target_socket);
  driver.dram_initiator_socket.bind(dram.host_target_socket);
  unit.dram_initiator_socket.bind(dram.post_process_target_socket);
  driver.print = table;
  const double t0 = cpu_seconds();
  sc_core::sc_start();
  std::printf("cpu %.6f\n", cpu_seconds() - t0);
  return 0;
}

}  // namespace

int sc_main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--child") return simulate(argc > 2);
  const int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 3;
  std::printf("CPU: %s\n", cpu_model().c_str());
  std::vector<double> cpu;
  char self[4096] = {};
  if (readlink("/proc/self/exe", self, sizeof self - 1) < 0) return 1;
  for (int r = 0; r < runs; ++r) {
    const std::string cmd = std::string(self) + " --child" + (r == 0 ? " table" : "");
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return 1;
    char line[512];
    double seconds = -1;
    while (std::fgets(line, sizeof line, p)) {
      const std::string l = line;
      if (l.rfind("cpu ", 0) == 0)
        seconds = std::atof(line + 4);
      else if (r == 0)
        std::fputs(line, stdout);
    }
    if (pclose(p) != 0 || seconds < 0) {
      std::fprintf(stderr, "bench_post_process: a simulation run failed\n");
      return 1;
    }
    cpu.push_back(seconds);
  }
  std::sort(cpu.begin(), cpu.end());
  std::printf("simulation CPU time, median of %d runs: %.3f s\n", runs, cpu[cpu.size() / 2]);
  return 0;
}
