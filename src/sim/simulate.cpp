#include "pcnn/sim/simulate.hpp"

#include <cmath>
#include <cstdlib>
#include <deque>
#include <memory>

#include <systemc>

#include "models/accelerator/accelerator.hpp"
#include "models/trace/vcd_writer.hpp"
#include "pcnn/core/error.hpp"
#include "pcnn/energy/energy_model.hpp"
#include "pcnn/image/model_images.hpp"
#include "pcnn/sanitize/thread_stack.hpp"
#include "pcnn/sim/layer_lowering.hpp"
#include "pcnn/sim/stats_schema.hpp"
#include "pcnn/sim/stats_source.hpp"
#include "pcnn/sim/tile_plan.hpp"
#include "src/sim/layer_meter.hpp"

namespace pcnn {

void check_max_cycles(std::uint64_t max_cycles, const ArchConfig& arch) {
  // SystemC counts time in 64-bit picoseconds (its default resolution).
  const double ps = static_cast<double>(max_cycles) * arch.clock_period_ns() * 1000.0;
  if (max_cycles == 0 || ps > 1e18)
    throw Error("--max-cycles", std::to_string(max_cycles) + " cycles of " +
                                    std::to_string(arch.clock_period_ns()) +
                                    " ns is outside what can be simulated (1 .. 1e18 ps)");
}

std::vector<LayerResult> simulate(const std::vector<LayerJob>& jobs, const ArchConfig& arch,
                                  const SimOptions& options) {
  arch.validate(options.arch_where);
  check_max_cycles(options.max_cycles, arch);
  // Layers the datapath cannot run as they are become several host jobs
  // (passes); owner[h] is the job a host job belongs to.
  std::deque<LayerJob> lowered_passes;
  std::vector<std::string> lowering(jobs.size());
  std::vector<HostJob> host_jobs;
  std::vector<std::size_t> owner;
  std::uint64_t dram_bytes = 64;
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    const SpmLayer& layer = jobs[j].layer;
    // A layer read without its per-kernel data runs from its image files,
    // whose SPM indices the reader checked; the rest is checked here.
    const bool packed = !layer.has_kernel_data() && jobs[j].files != nullptr;
    if (packed)
      layer.validate_parameters();
    else
      layer.validate();
    if (static_cast<std::int64_t>(jobs[j].input.size()) != layer.geom.input_elements())
      throw Error("input of layer '" + layer.name + "'",
                  "expected " + std::to_string(layer.geom.input_elements()) +
                      " values (C*H*W = " + std::to_string(layer.geom.in_channels) + "x" +
                      std::to_string(layer.geom.in_h) + "x" + std::to_string(layer.geom.in_w) +
                      "), got " + std::to_string(jobs[j].input.size()));
    std::vector<const LayerJob*> passes{&jobs[j]};
    bool from_files = jobs[j].files != nullptr;
    if (needs_lowering(layer)) {
      LayerJob unpacked;  // lowering rewrites the per-kernel data
      if (packed) {
        unpacked = jobs[j];
        decode_kernel_data(unpacked.layer, *unpacked.files);
      }
      LoweredLayer lowered = lower_for_accelerator(packed ? unpacked : jobs[j]);
      lowering[j] = lowered.description;
      passes.clear();
      from_files = false;  // rewritten layers are encoded anew
      for (LayerJob& pass : lowered.passes) {
        lowered_passes.push_back(std::move(pass));
        passes.push_back(&lowered_passes.back());
      }
    }
    for (const LayerJob* pass : passes) {
      HostJob h;
      h.layer = &pass->layer;
      h.input = &pass->input;
      if (from_files)
        use_image_files(h, pass->files);
      else
        use_encoded_images(h);
      h.plan = make_tile_plan(pass->layer, arch, options.arch_where);
      dram_bytes = std::max(dram_bytes, dram_layout(h).end);
      host_jobs.push_back(std::move(h));
      owner.push_back(j);
    }
  }

  std::unique_ptr<VcdWriter> vcd;
  if (!options.trace.vcd_path.empty()) {
    if (options.timing == Timing::lt)
      throw Error("--vcd", "a trace needs --timing cycle (the fast mode runs ahead of time)");
    if (options.trace.from_cycle > options.trace.to_cycle)
      throw Error("--vcd-window", "FROM is after TO");
    vcd = std::make_unique<VcdWriter>(options.trace.vcd_path, arch.clock_period_ns(),
                                      options.trace.max_bytes);
  }

  claim_systemc_context();
  std::vector<LayerResult> pass_results(host_jobs.size());
  auto top = std::make_unique<Accelerator>("top", arch, host_jobs, options.act_mode, dram_bytes);
  Accelerator& acc = *top;
  LayerMeter meter(acc, arch);
  acc.host_controller.on_layer_start = [&](std::size_t) { meter.start(); };
  acc.host_controller.on_layer_end = [&](std::size_t j) {
    pass_results[j].stats = meter.stop(host_jobs[j].plan, pass_results[j].module_stats);
    const bool last_pass = j + 1 == host_jobs.size() || owner[j + 1] != owner[j];
    if (options.on_layer_done && last_pass) options.on_layer_done(owner[j] + 1, jobs.size());
  };
  acc.pe_group.set_idle_skipping(options.skip_idle_edges);
  acc.pe_group.set_loosely_timed(options.timing == Timing::lt);
  if (vcd) {  // the save file lists the DRAM channel first, then the PE group
    acc.dram.attach_tracer(vcd.get());
    acc.pe_group.attach_tracer(vcd.get(), options.trace.from_cycle, options.trace.to_cycle,
                               options.trace.traced_pe);
  }
  // Simulated time is bounded: a run that cannot finish in max_cycles stops there.
  const sc_core::sc_time limit = sc_core::sc_time(arch.clock_period_ns(), sc_core::SC_NS) *
                                 static_cast<double>(options.max_cycles);
  try {
    sc_core::sc_start(limit);
  } catch (const sc_core::sc_report& r) {
    announce_thread_stack_to_sanitizer();
    throw Error("simulation", r.get_msg());
  }
  announce_thread_stack_to_sanitizer();
  if (!acc.host_controller.finished() && sc_core::sc_time_stamp() >= limit)
    throw Error("--max-cycles", "the run did not finish within " +
                                    std::to_string(options.max_cycles) +
                                    " clock cycles; raise --max-cycles if that is expected");
  if (!acc.host_controller.finished())
    throw Error("simulation", "ran out of events before the host controller finished");
  if (vcd) vcd->close();

  // One result per job: a lowered layer's passes add up, their outputs are
  // consecutive output channels.
  std::vector<LayerResult> results(jobs.size());
  std::vector<bool> seen(jobs.size(), false);
  for (std::size_t h = 0; h < host_jobs.size(); ++h) {
    LayerResult& r = results[owner[h]];
    LayerResult& part = pass_results[h];
    if (!seen[owner[h]]) {
      r.stats = part.stats;
      r.module_stats = std::move(part.module_stats);
      r.output = std::move(host_jobs[h].output);
      seen[owner[h]] = true;
    } else {
      add_pass_stats(r.stats, part.stats);
      r.module_stats = stats_sum(r.module_stats, part.module_stats);
      r.output.insert(r.output.end(), host_jobs[h].output.begin(), host_jobs[h].output.end());
    }
  }
  const ResolvedEnergy energy = resolve_energy(arch);
  for (std::size_t j = 0; j < jobs.size(); ++j) {  // derived from the (summed) counts
    results[j].stats.lowering = lowering[j];
    finish_layer_stats(results[j].stats, jobs[j].layer.geom.dense_macs(), energy, arch);
  }
  return results;
}

nlohmann::json stats_to_json(const LayerStats& s) {
  auto traffic = [](const TrafficStats& t) {
    return nlohmann::json{{"bytes_read", t.bytes_read}, {"bytes_written", t.bytes_written}};
  };
  nlohmann::json j = {{"cycles", s.cycles},
                      {"time_ns", s.time_ns},
                      {"mac_cycles", s.mac_cycles},
                      {"stall_cycles", stall_cycles_json(s.stalls)},
                      {"macs_issued", s.macs_issued},
                      {"macs_effectual", s.macs_effectual},
                      {"lane_utilisation", s.lane_utilisation},
                      {"refills", s.refills},
                      {"pattern_decodes", s.pattern_decodes},
                      {"steps", s.steps},
                      {"tiling",
                       {{"bands", s.bands},
                        {"tiles", s.tiles},
                        {"groups", s.groups},
                        {"chunks", s.chunks},
                        {"spatially_tiled", s.spatially_tiled},
                        {"passes", s.passes}}},
                      {"lowering", s.lowering},
                      {"dense_macs", s.dense_macs},
                      {"actions", actions_json(s)},
                      {"energy", energy_report_json(s.energy)}};
  for (const MemoryField& m : kMemories) j[m.key] = traffic(s.*m.traffic);
  return j;
}

LayerStats stats_from_json(const nlohmann::json& j) {
  auto traffic = [](const nlohmann::json& t) {
    return TrafficStats{t.at("bytes_read").get<std::uint64_t>(),
                        t.at("bytes_written").get<std::uint64_t>()};
  };
  LayerStats s;
  s.cycles = j.at("cycles").get<std::uint64_t>();
  s.time_ns = j.at("time_ns").get<double>();
  s.mac_cycles = j.at("mac_cycles").get<std::uint64_t>();
  const nlohmann::json& st = j.at("stall_cycles");
  for (const StallReasonField& f : kStallReasons)
    s.stalls.*f.cycles = st.at(f.key).get<std::uint64_t>();
  s.macs_issued = j.at("macs_issued").get<std::uint64_t>();
  s.macs_effectual = j.at("macs_effectual").get<std::uint64_t>();
  s.lane_utilisation = j.at("lane_utilisation").get<double>();
  s.refills = j.at("refills").get<std::uint64_t>();
  s.pattern_decodes = j.at("pattern_decodes").get<std::uint64_t>();
  s.steps = j.at("steps").get<std::uint64_t>();
  const nlohmann::json& t = j.at("tiling");
  s.bands = t.at("bands").get<int>();
  s.tiles = t.at("tiles").get<int>();
  s.groups = t.at("groups").get<int>();
  s.chunks = t.at("chunks").get<int>();
  s.spatially_tiled = t.at("spatially_tiled").get<bool>();
  s.passes = t.at("passes").get<int>();
  s.lowering = j.at("lowering").get<std::string>();
  for (const MemoryField& m : kMemories) s.*m.traffic = traffic(j.at(m.key));
  const nlohmann::json& actions = j.at("actions");
  for (const DatapathActionField& f : kDatapathActions)
    s.actions.*f.count = actions.at(f.key).get<std::uint64_t>();
  s.dense_macs = j.at("dense_macs").get<std::int64_t>();
  s.energy = energy_report_from_json(j.at("energy"));
  return s;
}

}  // namespace pcnn
