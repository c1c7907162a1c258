// Writes the seed corpora of the fuzz targets into OUT_DIR/<target>/, made by the
// library's own writers: small ONNX models from the model builder behind
// pcnn-zoo, their pruned image sets, tensor files and architecture files. The
// sweep seeds name the fixture that fuzz_sweep_json creates ("net", "arch.json").
// Usage: fuzz_make_seeds OUT_DIR
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "image_set_container.hpp"
#include "pcnn/core/error.hpp"
#include "pcnn/image/model_images.hpp"
#include "pcnn/onnx/model_builder.hpp"
#include "pcnn/onnx/onnx_model.hpp"
#include "pcnn/prune/pruner.hpp"
#include "pcnn/sim/arch_config.hpp"
#include "pcnn/sim/tensor_file.hpp"

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw pcnn::Error(p.string(), "cannot read");
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void spit(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw pcnn::Error(p.string(), "cannot write");
}

// Small networks covering the loader's paths: BN folding, ReLU matching,
// pooling, residual adds, strides, groups and every weight storage but external.
void write_models(const fs::path& dir, std::vector<fs::path>& models) {
  {
    pcnn::ModelBuilder b("plain", {1, 3, 8, 8}, 1);
    std::string x = b.relu(b.batch_norm(b.conv(b.input(), 4)));
    x = b.max_pool(x, 2, 2);
    pcnn::ConvOptions o;
    o.bias = true;
    x = b.relu(b.conv(x, 6, o));
    x = b.gemm(b.flatten(b.global_average_pool(x)), 3);
    b.output(x);
    for (auto [storage, name] : {std::pair{pcnn::WeightStorage::raw_data, "plain_raw.onnx"},
                                 {pcnn::WeightStorage::typed_fields, "plain_typed.onnx"},
                                 {pcnn::WeightStorage::float16, "plain_fp16.onnx"},
                                 {pcnn::WeightStorage::constant_nodes, "plain_const.onnx"}}) {
      b.write((dir / name).string(), storage);
      models.push_back(dir / name);
    }
  }
  {
    pcnn::ModelBuilder b("residual", {1, 4, 6, 6}, 2);
    const std::string a = b.relu(b.batch_norm(b.conv(b.input(), 4)));
    pcnn::ConvOptions o;
    o.group = 2;
    const std::string c = b.batch_norm(b.conv(a, 4, o));
    std::string x = b.relu(b.add(c, b.input()));
    pcnn::ConvOptions s;
    s.stride = 2;
    s.kernel = 1;
    x = b.conv(x, 8, s);
    b.output(b.average_pool(x, 3, 3));
    b.write((dir / "residual.onnx").string());
    models.push_back(dir / "residual.onnx");
  }
  {
    pcnn::ModelBuilder b("dilated", {1, 2, 9, 7}, 3);
    pcnn::ConvOptions o;
    o.dilation = 2;
    o.auto_pad = "SAME_UPPER";
    b.output(b.relu(b.conv(b.input(), 3, o)));
    b.write((dir / "dilated.onnx").string());
    models.push_back(dir / "dilated.onnx");
  }
}

void write_image_sets(const std::vector<fs::path>& models, const fs::path& work,
                      const fs::path& out, const fs::path& first_set) {
  int i = 0;
  for (const fs::path& m : models) {
    const pcnn::OnnxModel model = pcnn::OnnxModel::load(m.string());
    pcnn::PruneOptions opt;
    opt.calib_samples = 1;
    opt.n = 2 + i % 4;
    pcnn::PrunedModel pruned = pcnn::prune_model(model, opt);
    const fs::path set = i == 0 ? first_set : work / ("set" + std::to_string(i));
    pcnn::write_model_images(pruned.images, set.string());
    std::vector<std::string> sections;
    for (const char* f : pcnn::fuzz::kImageSetFiles) sections.push_back(slurp(set / f));
    spit(out / ("set" + std::to_string(i) + "_fixed"),
         pcnn::fuzz::join_image_set_input(true, sections));
    spit(out / ("set" + std::to_string(i) + "_exact"),
         pcnn::fuzz::join_image_set_input(false, sections));
    ++i;
  }
}

void write_tensors(const fs::path& work, const fs::path& out) {
  std::mt19937_64 rng(7);
  int i = 0;
  for (auto [c, h, w] : {std::tuple{1, 1, 1}, {3, 4, 5}, {8, 2, 2}, {1, 16, 1}}) {
    pcnn::Int8Tensor t;
    t.c = c;
    t.h = h;
    t.w = w;
    for (int k = 0; k < c * h * w; ++k) t.data.push_back(static_cast<std::int8_t>(rng()));
    const fs::path p = work / ("t" + std::to_string(i) + ".pcnt");
    pcnn::write_tensor_file(p.string(), t);
    spit(out / ("tensor" + std::to_string(i++)), slurp(p));
  }
}

void write_archs(const fs::path& out) {
  pcnn::ArchConfig a;
  spit(out / "default.json", pcnn::arch_to_json(a).dump(2));
  a.pe_count = 16;
  a.double_buffering = false;
  a.weight_sram.size_bytes = 32768;
  a.dram.latency_ns = 100;
  spit(out / "small.json", pcnn::arch_to_json(a).dump());
  spit(out / "partial.json", R"({"pe_count": 8, "data_sram": {"banks": 2}})");
}

void write_sweeps(const fs::path& out) {
  const char* seeds[] = {
      R"({"workloads": [{"images": "net"}]})",
      R"({"workloads": [{"name": "a", "images": "net", "layer": "conv1", "act_density": 0.3,
          "seed": 4}, {"name": "b", "images": "net"}],
          "arch": "arch.json", "grid": {"pe_count": [16, 32, 64],
          "weight_sram.size_bytes": [65536, 131072]}, "act_modes": ["off", "gate", "skip"],
          "dense_baseline": false})",
      R"({"workloads": [{"images": "net", "layer": "conv2"}],
          "arch": {"clock_mhz": 200, "dram": {"bandwidth_gbps": 12.8}},
          "grid": {"double_buffering": [true, false], "dram.latency_ns": [30, 90.5]}})",
  };
  int i = 0;
  for (const char* s : seeds) spit(out / ("sweep" + std::to_string(i++) + ".json"), s);
}

void collect_keys(const nlohmann::json& j, std::set<std::string>& keys) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      keys.insert(it.key());
      collect_keys(*it, keys);
    }
  } else if (j.is_array()) {
    for (const nlohmann::json& e : j) collect_keys(e, keys);
  } else if (j.is_string()) {
    keys.insert(j.get<std::string>());
  }
}

// One dictionary line: the value in double quotes, with quotes, backslashes and
// unprintable bytes escaped the way libFuzzer reads them.
std::string dict_entry(const std::string& value) {
  std::string out = "\"";
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"\n";
}

// A libFuzzer dictionary (OUT_DIR/<target>.dict) of the JSON syntax and of every
// key and string value in the target's seeds, so that mutations produce known
// keys instead of rejected unknown ones. For the image sets, the manifest part.
void write_dictionary(const fs::path& seeds, const fs::path& dict) {
  std::set<std::string> keys;
  for (const auto& e : fs::directory_iterator(seeds)) {
    std::string text = slurp(e.path());
    const std::size_t sep = text.find(pcnn::fuzz::kImageSetSeparator);
    if (sep != std::string::npos) text = text.substr(1, sep - 1);
    const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_discarded()) collect_keys(j, keys);
  }
  std::string out;
  for (const char* token : {"{", "}", "[", "]", ":", ",", "\"", "true", "false", "null", "-1",
                            "1e308", "0.5", "\\u0000", "\\ud800"})
    out += dict_entry(token);
  for (const std::string& k : keys) out += dict_entry("\"" + k + "\"");
  spit(dict, out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_make_seeds OUT_DIR\n");
    return 2;
  }
  try {
    const fs::path out = argv[1];
    const fs::path work = out / "work";
    fs::remove_all(work);
    fs::create_directories(work);
    for (const char* t : {"fuzz_onnx_loader", "fuzz_image_set", "fuzz_arch_json", "fuzz_sweep_json",
                          "fuzz_tensor_file"})
      fs::create_directories(out / t);
    std::vector<fs::path> models;
    write_models(out / "fuzz_onnx_loader", models);
    write_image_sets(models, work, out / "fuzz_image_set", work / "net");
    write_tensors(work, out / "fuzz_tensor_file");
    write_archs(out / "fuzz_arch_json");
    write_sweeps(out / "fuzz_sweep_json");
    for (const char* t : {"fuzz_image_set", "fuzz_arch_json", "fuzz_sweep_json"})
      write_dictionary(out / t, out / (std::string(t) + ".dict"));
    fs::remove_all(work);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_make_seeds: %s\n", e.what());
    return 1;
  }
  return 0;
}
