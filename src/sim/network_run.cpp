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

// The PE-group jobs of one conv or gemm node: one, or a lowered layer's passes.
struct PeNode {
  std::size_t first = 0, count = 0;              // its jobs in the network
  std::size_t dense_first = 0, dense_count = 0;  // its dense twin's jobs
  std::string lowering;                          // how it was lowered, or ""
  // Lowered: the DRAM regions the host prepares each pass's input in (from
  // the input tensor, before the first pass) and each pass writes its output
  // to (merged into the output tensor after the last).
  std::vector<std::uint64_t> pass_input, pass_output;
};

// Everything decided before elaboration: the DRAM map, the PE-group jobs and
// where each operator runs.
struct NetworkPlan {
  std::deque<SpmLayer> own_layers;  // gemm layers, passes and dense twins the jobs point to
  std::vector<HostJob> jobs;        // the network's PE-group jobs, then the dense twins
  std::vector<std::size_t> node_of_job;
  std::vector<PeNode> pe;              // per node (used for PE-group nodes)
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
  const bool encoded = files == nullptr;
  if (!encoded) {
    use_image_files(h, std::move(files));
  } else {
    use_encoded_images(h);
    h.images_base = next_free;
  }
  h.network_placement = true;
  h.plan = make_tile_plan(layer, arch, arch_where);
  if (encoded) next_free = dram_layout(h).images_end;
  return h;
}

// The layer of a PE-group node.
const SpmLayer& pe_layer(const ModelImages& images, const Int8Network& net, const NetNode& n) {
  return n.op == Int8Op::conv ? images.layers[n.layer] : net.gemm_layers[n.layer];
}

// The passes a layer that needs lowering becomes (their geometry does not
// depend on the input values; the host lowers the real input at run time).
std::vector<LayerJob> lowered_passes(const SpmLayer& layer, std::string* description) {
  LayerJob probe;
  probe.layer = layer;
  probe.input.assign(static_cast<std::size_t>(layer.geom.input_elements()), 0);
  LoweredLayer lw = lower_for_accelerator(probe);
  if (description) *description = lw.description;
  return std::move(lw.passes);
}

NetworkPlan plan_network(const ModelImages& images, const Int8Network& net, const ArchConfig& arch,
                         const NetworkRunOptions& options) {
  const std::string& where = options.sim.arch_where;
  NetworkPlan p;
  p.unit.resize(net.nodes.size());
  p.pe.resize(net.nodes.size());
  for (std::size_t i = 0; i < net.nodes.size(); ++i)
    p.unit[i] = unit_of(net.nodes[i].op, net, net.nodes[i]);
  // Images first: the model's files from address 0, then each gemm layer,
  // lowered pass and dense twin encoded on its own.
  std::uint64_t next_free = 0;
  if (images.files)
    next_free = align64(align64(images.files->weights.size()) + images.files->patterns.size());
  auto add_jobs = [&](std::size_t i, const SpmLayer& layer, bool from_files) {
    if (needs_lowering(layer)) {
      for (LayerJob& pass : lowered_passes(layer, &p.pe[i].lowering)) {
        p.own_layers.push_back(std::move(pass.layer));
        p.jobs.push_back(pe_job(p.own_layers.back(), nullptr, next_free, arch, where));
        p.node_of_job.push_back(i);
      }
      return;
    }
    if (from_files) {
      p.jobs.push_back(pe_job(layer, images.files, next_free, arch, where));
    } else {
      p.own_layers.push_back(layer);
      p.jobs.push_back(pe_job(p.own_layers.back(), nullptr, next_free, arch, where));
    }
    p.node_of_job.push_back(i);
  };
  for (std::size_t i = 0; i < net.nodes.size(); ++i) {
    if (p.unit[i] != NetUnit::pe_group) continue;
    const NetNode& n = net.nodes[i];
    p.pe[i].first = p.jobs.size();
    add_jobs(i, pe_layer(images, net, n), n.op == Int8Op::conv);
    p.pe[i].count = p.jobs.size() - p.pe[i].first;
  }
  p.network_jobs = p.jobs.size();
  if (options.with_dense)
    for (std::size_t i = 0; i < net.nodes.size(); ++i) {
      const NetNode& n = net.nodes[i];
      if (n.op != Int8Op::conv || !images.layers[n.layer].pattern_pruned) continue;
      p.pe[i].dense_first = p.jobs.size();
      std::string lowering = p.pe[i].lowering;
      add_jobs(i, dense_equivalent(images.layers[n.layer]), false);
      p.pe[i].lowering = lowering;
      p.pe[i].dense_count = p.jobs.size() - p.pe[i].dense_first;
      if (p.pe[i].dense_count != p.pe[i].count)  // lowering depends on the geometry only
        throw Error(node_text(n), "its dense twin lowers to a different number of passes");
    }
  // Tensors: each its own region (all of them stay readable to the end); an
  // alias (a reshape that keeps the bytes' order) shares its input's.
  p.address.assign(net.tensors.size(), 0);
  auto reserve = [&](std::int64_t bytes) {
    const std::uint64_t at = next_free;
    next_free = align64(next_free + static_cast<std::uint64_t>(bytes));
    return at;
  };
  p.address[net.input] = reserve(net.tensors[net.input].elements());
  for (std::size_t i = 0; i < net.nodes.size(); ++i) {
    const NetNode& n = net.nodes[i];
    if (p.unit[i] == NetUnit::none)
      p.address[n.output] = p.address[n.inputs[0]];
    else
      p.address[n.output] = reserve(net.tensors[n.output].elements());
  }
  // Lowered layers' pass regions; the dense twins compute into one scratch region.
  std::int64_t scratch = 0;
  for (std::size_t i = 0; i < net.nodes.size(); ++i) {
    PeNode& e = p.pe[i];
    if (!e.lowering.empty())
      for (std::size_t k = 0; k < e.count; ++k) {
        const ConvGeometry& g = p.jobs[e.first + k].layer->geom;
        e.pass_input.push_back(reserve(g.input_elements()));
        e.pass_output.push_back(reserve(g.output_elements()));
      }
    for (std::size_t k = 0; k < e.dense_count; ++k)
      scratch = std::max(scratch, p.jobs[e.dense_first + k].layer->geom.output_elements());
  }
  const std::uint64_t scratch_address = reserve(scratch);
  for (std::size_t i = 0; i < net.nodes.size(); ++i) {
    const NetNode& n = net.nodes[i];
    const PeNode& e = p.pe[i];
    const bool lowered = !e.lowering.empty();
    for (std::size_t k = 0; k < e.count; ++k) {
      HostJob& h = p.jobs[e.first + k];
      h.input_address = lowered ? e.pass_input[k] : p.address[n.inputs[0]];
      h.output_address = lowered ? e.pass_output[k] : p.address[n.output];
    }
    for (std::size_t k = 0; k < e.dense_count; ++k) {
      HostJob& h = p.jobs[e.dense_first + k];
      h.input_address = lowered ? e.pass_input[k] : p.address[n.inputs[0]];
      h.output_address = scratch_address;
    }
  }
  // Every post-processing operation fits the unit (line buffer, tables).
  for (std::size_t i = 0; i < net.nodes.size(); ++i)
    if (p.unit[i] == NetUnit::post_process) try {
        validate_post_op(post_op_of(net, i, p.address), arch.post_process);
      } catch (const Error& e) {
        throw Error(node_text(net.nodes[i]), e.what());
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
    s.actions.post_process_line_buffer_read_bytes =
        pp.line_buffer_bytes_read - pp0.line_buffer_bytes_read;
    s.actions.post_process_line_buffer_write_bytes =
        pp.line_buffer_bytes_written - pp0.line_buffer_bytes_written;
    s.actions.post_process_element_ops = pp.element_ops - pp0.element_ops;
    if (plan.unit[i] == NetUnit::host) s.stalls = StallCycles{}, s.stalls.dram = s.cycles;
    r.module_stats = stats_difference(collect_stats(acc), walk0);
  };
  std::size_t next_node = 0;  // the first node not yet run
  auto run_until = [&](std::size_t end) {
    for (; next_node < end; ++next_node)
      if (plan.unit[next_node] != NetUnit::pe_group) run_other(next_node);
  };
  // A lowered layer: before its first pass the host lowers the input tensor
  // into each pass's input (untimed, as in per-layer runs); after its last
  // pass it places the passes' output channels into the output tensor.
  auto read_tensor = [&](std::uint64_t address, std::size_t bytes) {
    std::vector<std::uint8_t> v(bytes);
    host.debug_read_dram(address, v.data(), v.size());
    return v;
  };
  auto prepare_passes = [&](std::size_t i) {
    const NetNode& n = net.nodes[i];
    const PeNode& e = plan.pe[i];
    const NetTensor& x = net.tensors[n.inputs[0]];
    LayerJob job;
    job.layer = pe_layer(images, net, n);
    job.input = from_storage(
        x, read_tensor(plan.address[n.inputs[0]], static_cast<std::size_t>(x.elements())));
    const LoweredLayer lw = lower_for_accelerator(job);
    for (std::size_t k = 0; k < e.count; ++k) {
      const ConvGeometry& g = lw.passes[k].layer.geom;
      const NetTensor pass{"", {1, g.in_channels, g.in_h, g.in_w}, 1.0f, false};
      const std::vector<std::uint8_t> bytes = to_storage(pass, lw.passes[k].input);
      host.debug_write_dram(e.pass_input[k], bytes.data(), bytes.size());
    }
  };
  auto merge_passes = [&](std::size_t i) {
    const NetNode& n = net.nodes[i];
    const PeNode& e = plan.pe[i];
    const NetTensor& y = net.tensors[n.output];
    const std::size_t M = static_cast<std::size_t>(y.shape[1]);
    const std::size_t pixels = static_cast<std::size_t>(y.elements()) / M;
    std::vector<std::uint8_t> out(static_cast<std::size_t>(y.elements()));
    std::size_t channel = 0;
    for (std::size_t k = 0; k < e.count; ++k) {
      const std::size_t mk =
          static_cast<std::size_t>(plan.jobs[e.first + k].layer->geom.out_channels);
      const std::vector<std::uint8_t> part = read_tensor(e.pass_output[k], pixels * mk);
      for (std::size_t px = 0; px < pixels; ++px)
        for (std::size_t m = 0; m < mk; ++m) out[px * M + channel + m] = part[px * mk + m];
      channel += mk;
    }
    host.debug_write_dram(plan.address[n.output], out.data(), out.size());
  };
  LayerMeter meter(acc, arch);
  host.on_layer_start = [&](std::size_t) { meter.start(); };
  host.on_layer_end = [&](std::size_t j) {
    job_stats[j] = meter.stop(plan.jobs[j].plan, job_modules[j]);
    if (j < plan.network_jobs) {
      const PeNode& e = plan.pe[plan.node_of_job[j]];
      if (!e.lowering.empty() && j + 1 == e.first + e.count) merge_passes(plan.node_of_job[j]);
    }
    if (options.sim.on_layer_done) options.sim.on_layer_done(j + 1, plan.jobs.size());
  };

  host.before_layer = [&](std::size_t j) {
    if (j == 0) {  // the network input, quantised by the caller, is in DRAM at the start
      const std::vector<std::uint8_t> s = to_storage(in_t, input);
      host.debug_write_dram(plan.address[net.input], s.data(), s.size());
    }
    if (j >= plan.network_jobs) return run_until(net.nodes.size());
    const std::size_t i = plan.node_of_job[j];
    if (j != plan.pe[i].first) return;  // a further pass of a lowered layer
    run_until(i);
    next_node = i + 1;
    if (!plan.pe[i].lowering.empty()) prepare_passes(i);
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
  acc.pe_group.set_loosely_timed(options.sim.timing == Timing::lt);
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

  const ResolvedEnergy energy = resolve_energy(arch, /*with_post_process_unit=*/true);
  for (std::size_t i = 0; i < net.nodes.size(); ++i) {
    const NetNode& n = net.nodes[i];
    NetworkStepResult& r = result.steps[i];
    r.node = static_cast<int>(i);
    r.unit = plan.unit[i];
    r.input_density = density(result.tensors[n.inputs[0]]);
    std::int64_t dense_macs = 0;
    const PeNode& e = plan.pe[i];
    // A node's statistics: its job's, or the sum over a lowered layer's passes.
    auto sum_jobs = [&](std::size_t first, std::size_t count, LayerStats& s, nlohmann::json* mod) {
      for (std::size_t k = 0; k < count; ++k) {
        if (k == 0) {
          s = job_stats[first];
          if (mod) *mod = std::move(job_modules[first]);
        } else {
          add_pass_stats(s, job_stats[first + k]);
          if (mod) *mod = stats_sum(*mod, job_modules[first + k]);
        }
      }
      s.lowering = e.lowering;
    };
    if (plan.unit[i] == NetUnit::pe_group) {
      sum_jobs(e.first, e.count, r.stats, &r.module_stats);
      dense_macs = pe_layer(images, net, n).geom.dense_macs();
      result.pe_group_cycles += r.stats.cycles;
    }
    finish_layer_stats(r.stats, dense_macs, energy, arch);
    if (e.dense_count > 0) {
      r.has_dense = true;
      sum_jobs(e.dense_first, e.dense_count, r.dense, nullptr);
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
