#include "pcnn_sim_network_io.hpp"

#include <cstdio>
#include <filesystem>

#include "pcnn/core/command_line.hpp"
#include "pcnn/core/error.hpp"
#include "pcnn/core/output_file.hpp"
#include "pcnn/network/input_file.hpp"
#include "pcnn/network/network_input_shape.hpp"
#include "pcnn/onnx/onnx_model.hpp"
#include "pcnn/sim/tensor_file.hpp"

std::string shape_text(const std::vector<std::int64_t>& s) {
  std::string t;
  for (std::size_t i = 0; i < s.size(); ++i) t += (i ? "x" : "") + std::to_string(s[i]);
  return t;
}

pcnn::GoldenNetwork load_network(const std::string& images_dir,
                                 const std::string& input_shape_text) {
  pcnn::GoldenNetwork pruned = pcnn::GoldenNetwork::load(images_dir);
  if (input_shape_text.empty()) return pruned;
  pcnn::ModelImages images = pruned.images();
  pcnn::Int8Network network = pruned.network();
  pcnn::set_network_input_shape(network, images.layers,
                                pcnn::parse_input_shape(input_shape_text, "--input-shape"),
                                "--input-shape");
  return pcnn::GoldenNetwork(std::move(images), std::move(network));
}

std::vector<std::int8_t> read_quantised_input(const std::string& path,
                                              const pcnn::GoldenNetwork& net) {
  const auto& shape = net.input_shape();
  if (pcnn::is_network_input_file(path))
    return net.quantise_input(pcnn::read_network_input(path, shape));
  const pcnn::Int8Tensor t = pcnn::read_tensor_file(path);
  if (std::vector<std::int64_t>{1, t.c, t.h, t.w} != shape)
    throw pcnn::Error(path, "tensor is " + std::to_string(t.c) + "x" + std::to_string(t.h) + "x" +
                                std::to_string(t.w) + "; the network takes " + shape_text(shape));
  return t.data;
}

void write_int8_tensor(const std::string& path, const std::string& name,
                       const std::vector<std::int8_t>& values,
                       const std::vector<std::int64_t>& shape, float scale,
                       const std::string& what) {
  pcnn::write_output_file(path, pcnn::npy_bytes(values, shape), what);
  const nlohmann::json meta{
      {"tensor", name}, {"shape", shape}, {"scale", scale}, {"dtype", "int8"}};
  pcnn::write_output_file(path + ".json", meta.dump(2) + "\n", what);
}

void check_dump_dir(const std::string& dir) {
  std::error_code ec;
  if (std::filesystem::exists(dir, ec) && !std::filesystem::is_empty(dir, ec))
    throw pcnn::UsageError("--dump-layers", "'" + dir + "' exists and is not empty");
}

LayerDump::LayerDump(const std::string& dir) : staging_(dir) {}

void LayerDump::add(const pcnn::NetNode& node, const pcnn::NetTensor& t,
                    const std::vector<std::int8_t>& values) {
  char file[32];
  std::snprintf(file, sizeof file, "%03zu.npy", index_.size());
  pcnn::write_file_synced(staging_.file(file), pcnn::npy_bytes(values, t.shape));
  const nlohmann::json meta{
      {"tensor", t.name}, {"shape", t.shape}, {"scale", t.scale}, {"dtype", "int8"}};
  pcnn::write_file_synced(staging_.file(std::string(file) + ".json"), meta.dump(2) + "\n");
  index_.push_back({{"file", file},
                    {"node", node.name},
                    {"op", pcnn::to_string(node.op)},
                    {"tensor", t.name},
                    {"shape", t.shape},
                    {"scale", t.scale}});
}

void LayerDump::finish() {
  pcnn::write_file_synced(staging_.file("index.json"), index_.dump(2) + "\n");
  staging_.commit();
}

void print_network_output(const std::vector<std::int8_t>& values,
                          const std::vector<std::int64_t>& shape, float scale,
                          std::size_t operators, int top) {
  std::printf("output %s, scale %g, %zu operators\n", shape_text(shape).c_str(), scale, operators);
  std::int64_t classes = 1;
  for (std::size_t i = 1; i < shape.size(); ++i) classes *= shape[i];
  if (classes > 1 && shape.size() == 2) {
    std::printf("%4s %6s %10s\n", "rank", "class", "logit");
    const std::vector<int> best = pcnn::top_k(values, top);
    for (std::size_t r = 0; r < best.size(); ++r)
      std::printf("%4zu %6d %10.4f\n", r + 1, best[r], values[best[r]] * scale);
    std::printf("class %d\n", best[0]);
  }
}
