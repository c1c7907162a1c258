#include "pcnn/sim/network_run.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <memory>

#include <systemc>

#include "models/accelerator/accelerator.hpp"
#include "models/post_process/post_op.hpp"
#include "pcnn/core/error.hpp"
#include "pcnn/energy/energy_model.hpp"
#include "pcnn/sanitize/thread_stack.hpp"
#include "pcnn/sim/layer_lowering.hpp"
#include "pcnn/sim/simulate.hpp"
#include "pcnn/sim/stats_schema.hpp"
#include "pcnn/sim/stats_source.hpp"
#include "pcnn/sim/tile_plan.hpp"
#include "src/sim/layer_meter.hpp"

namespace pcnn {

namespace {

std::uint64_t align64(std::uint64_t v) { return (v + 63) / 64 * 64; }

std::string node_text(const NetNode& n) {
  return "node '" + n.name + "' (" + to_string(n.op) + ")";
}

// Tensors lie in DRAM channel-last: a [1,C,H,W] tensor as [H][W][C], which is
// what the PE group's DMA reads and writes. Any other rank (a [1,K] vector) is
// stored in C order. The two orders agree when C == 1 or H * W == 1.
bool stored_in_c_order(const NetTensor& t) {
  return t.shape.size() != 4 || t.shape[1] == 1 || t.shape[2] * t.shape[3] == 1;
}

// Storage index of every C-order (NCHW) element.
std::vector<std::size_t> storage_index(const NetTensor& t) {
  std::vector<std::size_t> at(static_cast<std::size_t>(t.elements()));
  if (stored_in_c_order(t)) {
    for (std::size_t i = 0; i < at.size(); ++i) at[i] = i;
    return at;
  }
  const std::size_t C = static_cast<std::size_t>(t.shape[1]);
  const std::size_t HW = static_cast<std::size_t>(t.shape[2] * t.shape[3]);
  for (std::size_t c = 0; c < C; ++c)
    for (std::size_t p = 0; p < HW; ++p) at[c * HW + p] = p * C + c;
  return at;
}

std::vector<std::uint8_t> to_storage(const NetTensor& t, const std::vector<std::int8_t>& v) {
  const std::vector<std::size_t> at = storage_index(t);
  std::vector<std::uint8_t> s(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) s[at[i]] = static_cast<std::uint8_t>(v[i]);
  return s;
}

std::vector<std::int8_t> from_storage(const NetTensor& t, const std::vector<std::uint8_t>& s) {
  const std::vector<std::size_t> at = storage_index(t);
  std::vector<std::int8_t> v(s.size());
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::int8_t>(s[at[i]]);
  return v;
}

double density(const std::vector<std::int8_t>& v) {
  if (v.empty()) return 0.0;
  const auto nz = std::count_if(v.begin(), v.end(), [](std::int8_t x) { return x != 0; });
  return static_cast<double>(nz) / static_cast<double>(v.size());
}

// Everything decided before elaboration: the DRAM map, the PE-group jobs and
// where each operator runs.
struct NetworkPlan {
  std::deque<SpmLayer> own_layers;     // gemm layers and dense twins the jobs point to
  std::vector<HostJob> jobs;           // the network's PE-group jobs, then the dense twins
  std::vector<int> job_of_node;        // PE-group job of a node, or -1
  std::vector<int> dense_job_of_node;  // its dense twin's job, or -1
  std::vector<NetUnit> unit;           // per node
  std::vector<std::uint64_t> address;  // per tensor
  std::uint64_t dram_bytes = 64;
  std::size_t network_jobs = 0;  // jobs before the dense twins
};

// The post-processing unit's descriptor of node i at the planned addresses.
PostOpDescriptor post_op_of(const Int8Network& net, std::size_t i,
                            const std::vector<std::uint64_t>& address) {
  const NetNode& n = net.nodes[i];
  std::vector<std::uint64_t> inputs;
  for (int t : n.inputs) inputs.push_back(address[t]);
  return make_post_op(n, net.tensors, inputs, address[n.output]);
}

HostJob pe_job(const SpmLayer& layer, std::shared_ptr<const ImageFiles> files,
               std::uint64_t& next_free, const ArchConfig& arch, const std::string& arch_where) {
  HostJob h;
  h.layer = &layer;
  if (files) {
    use_image_files(h, std::move(files));
  } else {
    use_encoded_images(h);
    h.images_base = next_free;
  }
  h.network_placement = true;
  h.plan = make_tile_plan(layer, arch, arch_where);
  if (!files) next_free = dram_layout(h).images_end;
  return h;
}

NetworkPlan plan_network(const ModelImages& images, const Int8Network& net, const ArchConfig& arch,
                         const NetworkRunOptions& options) {
  const std::string& where = options.sim.arch_where;
  NetworkPlan p;
  p.unit.resize(net.nodes.size());
  p.job_of_node.assign(net.nodes.size(), -1);
  p.dense_job_of_node.assign(net.nodes.size(), -1);
  for (std::size_t i = 0; i < net.nodes.size(); ++i) {
    const NetNode& n = net.nodes[i];
    p.unit[i] = unit_of(n.op, net, n);
    if (n.op == Int8Op::conv || n.op == Int8Op::gemm) {
      const SpmLayer& l = n.op == Int8Op::conv ? images.layers[n.layer] : net.gemm_layers[n.layer];
      if (needs_lowering(l))
        throw Error(node_text(n), "layer '" + l.name + "' needs lowering (" +
                                      accelerator_unsupported_reason(l) +
                                      "), which whole-network runs do not do yet");
      if (n.op == Int8Op::gemm && !stored_in_c_order(net.tensors[n.inputs[0]]))
        throw Error(node_text(n), "its input is not flattened");
    }
  }
  // Images first: the model's files from address 0, then each gemm layer and
  // dense twin encoded on its own.
  std::uint64_t next_free = 0;
  if (images.files)
    next_free = align64(align64(images.files->weights.size()) + images.files->patterns.size());
  std::vector<int> job_node;
  for (std::size_t i = 0; i < net.nodes.size(); ++i) {
    const NetNode& n = net.nodes[i];
    if (p.unit[i] != NetUnit::pe_group) continue;
    if (n.op == Int8Op::conv) {
      p.jobs.push_back(pe_job(images.layers[n.layer], images.files, next_free, arch, where));
    } else {
      p.own_layers.push_back(net.gemm_layers[n.layer]);
      p.jobs.push_back(pe_job(p.own_layers.back(), nullptr, next_free, arch, where));
    }
    p.job_of_node[i] = static_cast<int>(p.jobs.size()) - 1;
    job_node.push_back(static_cast<int>(i));
  }
  p.network_jobs = p.jobs.size();
  if (options.with_dense)
    for (std::size_t i = 0; i < net.nodes.size(); ++i) {
      const NetNode& n = net.nodes[i];
      if (n.op != Int8Op::conv || !images.layers[n.layer].pattern_pruned) continue;
      p.own_layers.push_back(dense_equivalent(images.layers[n.layer]));
      p.jobs.push_back(pe_job(p.own_layers.back(), nullptr, next_free, arch, where));
      p.dense_job_of_node[i] = static_cast<int>(p.jobs.size()) - 1;
      job_node.push_back(static_cast<int>(i));
    }
  // Tensors: each its own region (all of them stay readable to the end); an
  // alias (a reshape that keeps the bytes' order) shares its input's.
  p.address.assign(net.tensors.size(), 0);
  auto place = [&](int t) {
    p.address[t] = next_free;
    next_free = align64(next_free + static_cast<std::uint64_t>(net.tensors[t].elements()));
  };
  place(net.input);
  for (std::size_t i = 0; i < net.nodes.size(); ++i) {
    const NetNode& n = net.nodes[i];
    if (p.unit[i] == NetUnit::none)
      p.address[n.output] = p.address[n.inputs[0]];
    else
      place(n.output);
  }
  // Dense twins compute into one scratch region.
  std::uint64_t scratch = 0;
  for (std::size_t i = 0; i < net.nodes.size(); ++i)
    if (p.dense_job_of_node[i] >= 0)
      scratch = std::max<std::uint64_t>(scratch, net.tensors[net.nodes[i].output].elements());
  const std::uint64_t scratch_address = next_free;
  next_free = align64(next_free + scratch);
  // Every post-processing operation fits the unit (line buffer, tables).
  for (std::size_t i = 0; i < net.nodes.size(); ++i)
    if (p.unit[i] == NetUnit::post_process) try {
        validate_post_op(post_op_of(net, i, p.address), PostProcessConfig{});
      } catch (const Error& e) {
        throw Error(node_text(net.nodes[i]), e.what());
      }
  for (std::size_t j = 0; j < p.jobs.size(); ++j) {
    const NetNode& n = net.nodes[job_node[j]];
    p.jobs[j].input_address = p.address[n.inputs[0]];
    p.jobs[j].output_address = j < p.network_jobs ? p.address[n.output] : scratch_address;
  }
  p.dram_bytes = std::max<std::uint64_t>(64, next_free);
  return p;
}

}  // namespace

const char* to_string(NetUnit unit) {
  switch (unit) {
    case NetUnit::pe_group:
      return "pe_group";
    case NetUnit::post_process:
      return "post_process";
    case NetUnit::host:
      return "host";
    case NetUnit::none:
      return "none";
  }
  return "?";
}

NetUnit unit_of(Int8Op op, const Int8Network& net, const NetNode& node) {
  switch (op) {
    case Int8Op::conv:
    case Int8Op::gemm:
      return NetUnit::pe_group;
    case Int8Op::reshape:
      return stored_in_c_order(net.tensors[node.inputs[0]]) &&
                     stored_in_c_order(net.tensors[node.output])
                 ? NetUnit::none
                 : NetUnit::host;
    default:
      return NetUnit::post_process;
  }
}

NetworkRunResult simulate_network(const ModelImages& model_images, const Int8Network& net,
                                  const std::vector<std::int8_t>& input, const ArchConfig& arch,
                                  const NetworkRunOptions& options) {
  // Images built in memory (no files yet) are encoded by the image writer.
  ModelImages encoded;
  if (!model_images.files) {
    encoded = model_images;
    encoded.files = std::make_shared<const ImageFiles>(encode_image_files(encoded));
  }
  const ModelImages& images = model_images.files ? model_images : encoded;
  arch.validate(options.sim.arch_where);
  check_max_cycles(options.sim.max_cycles, arch);
  net.validate(images.layers, "network");
  const NetTensor& in_t = net.tensors[net.input];
  if (static_cast<std::int64_t>(input.size()) != in_t.elements())
    throw Error("network input", "has " + std::to_string(input.size()) +
                                     " values; the network takes " +
                                     std::to_string(in_t.elements()));
  NetworkPlan plan = plan_network(images, net, arch, options);

  claim_systemc_context();
  auto top =
      std::make_unique<Accelerator>("top", arch, plan.jobs, options.sim.act_mode, plan.dram_bytes);
  Accelerator& acc = *top;
  HostController& host = acc.host_controller;
  const double period = arch.clock_period_ns();
  NetworkRunResult result;
  result.steps.resize(net.nodes.size());
  result.tensors.resize(net.tensors.size());
  std::vector<LayerStats> job_stats(plan.jobs.size());
  std::vector<nlohmann::json> job_modules(plan.jobs.size());

  LayerMeter meter(acc, arch);
  host.on_layer_start = [&](std::size_t) { meter.start(); };
  host.on_layer_end = [&](std::size_t j) {
    job_stats[j] = meter.stop(plan.jobs[j].plan, job_modules[j]);
    if (options.sim.on_layer_done) options.sim.on_layer_done(j + 1, plan.jobs.size());
  };

  // An operator that does not run on the PE group, in the host's load thread.
  auto run_other = [&](std::size_t i) {
    const NetNode& n = net.nodes[i];
    NetworkStepResult& r = result.steps[i];
    const sc_core::sc_time t0 = sc_core::sc_time_stamp();
    const nlohmann::json walk0 = collect_stats(acc);
    const DramStats d0 = acc.dram.stats();
    const PostProcessStats pp0 = acc.post_process.stats();
    if (plan.unit[i] == NetUnit::post_process)
      host.run_post_op(post_op_of(net, i, plan.address), acc.post_process);
    if (plan.unit[i] == NetUnit::host) {
      // A reshape that changes the bytes' order: the host reads the tensor,
      // reorders it and writes it back (one DMA each way).
      const NetTensor& x = net.tensors[n.inputs[0]];
      const NetTensor& y = net.tensors[n.output];
      std::vector<std::uint8_t> bytes(static_cast<std::size_t>(x.elements()));
      sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
      host.dram_transfer(tlm::TLM_READ_COMMAND, plan.address[n.inputs[0]], bytes.data(),
                         bytes.size(), delay);
      std::vector<std::uint8_t> out = to_storage(y, from_storage(x, bytes));
      host.dram_transfer(tlm::TLM_WRITE_COMMAND, plan.address[n.output], out.data(), out.size(),
                         delay);
      sc_core::wait(delay);
    }
    LayerStats& s = r.stats;
    s.cycles = static_cast<std::uint64_t>(
        std::llround((sc_core::sc_time_stamp() - t0).to_seconds() * 1e9 / period));
    s.time_ns = static_cast<double>(s.cycles) * period;
    s.dram = {acc.dram.stats().bytes_read - d0.bytes_read,
              acc.dram.stats().bytes_written - d0.bytes_written};
    // A post-processing operation's cycles: its lanes computing (the MAC-cycle
    // column), waiting for DRAM, and the rest (programming, set-up) as fill.
    const PostProcessStats& pp = acc.post_process.stats();
    s.mac_cycles = std::min(s.cycles, pp.compute_cycles - pp0.compute_cycles);
    s.stalls.dram = std::min(s.cycles - s.mac_cycles,
                             pp.dram_read_stall_cycles - pp0.dram_read_stall_cycles +
                                 pp.dram_write_stall_cycles - pp0.dram_write_stall_cycles);
    s.stalls.fill_drain = s.cycles - s.mac_cycles - s.stalls.dram;
    if (plan.unit[i] == NetUnit::host) s.stalls = StallCycles{}, s.stalls.dram = s.cycles;
    r.module_stats = stats_difference(collect_stats(acc), walk0);
  };
  std::size_t next_node = 0;  // the first node not yet run
  auto run_until = [&](std::size_t end) {
    for (; next_node < end; ++next_node)
      if (plan.unit[next_node] != NetUnit::pe_group) run_other(next_node);
  };
  host.before_layer = [&](std::size_t j) {
    if (j == 0) {  // the network input, quantised by the caller, is in DRAM at the start
      const std::vector<std::uint8_t> s = to_storage(in_t, input);
      host.debug_write_dram(plan.address[net.input], s.data(), s.size());
    }
    if (j < plan.network_jobs) {
      const auto at =
          std::find(plan.job_of_node.begin(), plan.job_of_node.end(), static_cast<int>(j)) -
          plan.job_of_node.begin();
      run_until(static_cast<std::size_t>(at));
      next_node = static_cast<std::size_t>(at) + 1;
    } else {
      run_until(net.nodes.size());
    }
  };
  host.after_layers = [&]() {
    if (plan.jobs.empty()) {
      const std::vector<std::uint8_t> s = to_storage(in_t, input);
      host.debug_write_dram(plan.address[net.input], s.data(), s.size());
    }
    run_until(net.nodes.size());
    std::vector<std::uint8_t> bytes;
    for (std::size_t t = 0; t < net.tensors.size(); ++t) {
      bytes.assign(static_cast<std::size_t>(net.tensors[t].elements()), 0);
      host.debug_read_dram(plan.address[t], bytes.data(), bytes.size());
      result.tensors[t] = from_storage(net.tensors[t], bytes);
    }
  };
  acc.pe_group.set_idle_skipping(options.sim.skip_idle_edges);
  const sc_core::sc_time limit =
      sc_core::sc_time(period, sc_core::SC_NS) * static_cast<double>(options.sim.max_cycles);
  try {
    sc_core::sc_start(limit);
  } catch (const sc_core::sc_report& r) {
    announce_thread_stack_to_sanitizer();
    throw Error("simulation", r.get_msg());
  }
  announce_thread_stack_to_sanitizer();
  if (!host.finished() && sc_core::sc_time_stamp() >= limit)
    throw Error("--max-cycles", "the run did not finish within " +
                                    std::to_string(options.sim.max_cycles) +
                                    " clock cycles; raise --max-cycles if that is expected");
  if (!host.finished())
    throw Error("simulation", "ran out of events before the host controller finished");

  const ResolvedEnergy energy = resolve_energy(arch);
  for (std::size_t i = 0; i < net.nodes.size(); ++i) {
    const NetNode& n = net.nodes[i];
    NetworkStepResult& r = result.steps[i];
    r.node = static_cast<int>(i);
    r.unit = plan.unit[i];
    r.input_density = density(result.tensors[n.inputs[0]]);
    std::int64_t dense_macs = 0;
    if (plan.job_of_node[i] >= 0) {
      const std::size_t j = static_cast<std::size_t>(plan.job_of_node[i]);
      r.stats = job_stats[j];
      r.module_stats = std::move(job_modules[j]);
      dense_macs = plan.jobs[j].layer->geom.dense_macs();
      result.pe_group_cycles += r.stats.cycles;
    }
    finish_layer_stats(r.stats, dense_macs, energy, arch);
    if (plan.dense_job_of_node[i] >= 0) {
      const std::size_t j = static_cast<std::size_t>(plan.dense_job_of_node[i]);
      r.has_dense = true;
      r.dense = job_stats[j];
      finish_layer_stats(r.dense, dense_macs, energy, arch);
    }
    add_counts(result.total, r.stats);
    result.dense_cycles += r.has_dense ? r.dense.cycles : r.stats.cycles;
  }
  result.total.dense_macs = 0;
  for (const NetworkStepResult& r : result.steps) result.total.dense_macs += r.stats.dense_macs;
  if (!options.with_dense) result.dense_cycles = 0;
  result.total.lane_utilisation =
      result.total.cycles
          ? static_cast<double>(result.total.macs_issued) /
                (static_cast<double>(result.total.cycles) * arch.pe_count * arch.lanes_per_pe)
          : 0.0;
  return result;
}

}  // namespace pcnn
