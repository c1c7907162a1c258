// simulate_network() in a forked child (see src/sim/child_process.hpp).
#include "pcnn/sim/network_run.hpp"
#include "pcnn/sim/simulate.hpp"
#include "src/sim/child_process.hpp"

namespace pcnn {

namespace {

nlohmann::json step_to_json(const NetworkStepResult& r) {
  nlohmann::json j = {{"node", r.node},
                      {"unit", static_cast<int>(r.unit)},
                      {"stats", stats_to_json(r.stats)},
                      {"modules", r.module_stats},
                      {"input_density", r.input_density},
                      {"has_dense", r.has_dense}};
  if (r.has_dense) j["dense"] = stats_to_json(r.dense);
  return j;
}

NetworkStepResult step_from_json(const nlohmann::json& j) {
  NetworkStepResult r;
  r.node = j.at("node").get<int>();
  r.unit = static_cast<NetUnit>(j.at("unit").get<int>());
  r.stats = stats_from_json(j.at("stats"));
  r.module_stats = j.at("modules");
  r.input_density = j.at("input_density").get<double>();
  r.has_dense = j.at("has_dense").get<bool>();
  if (r.has_dense) r.dense = stats_from_json(j.at("dense"));
  return r;
}

}  // namespace

NetworkRunResult simulate_network_in_child(const ModelImages& images, const Int8Network& net,
                                           const std::vector<std::int8_t>& input,
                                           const ArchConfig& arch,
                                           const NetworkRunOptions& options) {
  const nlohmann::json in = run_in_child([&] {
    const NetworkRunResult r = simulate_network(images, net, input, arch, options);
    nlohmann::json out = {{"steps", nlohmann::json::array()},
                          {"tensors", nlohmann::json::array()},
                          {"total", stats_to_json(r.total)},
                          {"pe_group_cycles", r.pe_group_cycles},
                          {"dense_cycles", r.dense_cycles}};
    for (const NetworkStepResult& s : r.steps) out["steps"].push_back(step_to_json(s));
    for (const auto& t : r.tensors)
      out["tensors"].push_back(
          nlohmann::json::binary(std::vector<std::uint8_t>(t.begin(), t.end())));
    return out;
  });
  NetworkRunResult r;
  for (const nlohmann::json& s : in.at("steps")) r.steps.push_back(step_from_json(s));
  for (const nlohmann::json& t : in.at("tensors")) {
    const std::vector<std::uint8_t>& b = t.get_binary();
    r.tensors.emplace_back(b.begin(), b.end());
  }
  r.total = stats_from_json(in.at("total"));
  r.pe_group_cycles = in.at("pe_group_cycles").get<std::uint64_t>();
  r.dense_cycles = in.at("dense_cycles").get<std::uint64_t>();
  return r;
}

}  // namespace pcnn
