#include "pcnn_sim_eval.hpp"

#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "pcnn/core/command_line.hpp"
#include "pcnn/core/error.hpp"
#include "pcnn/core/input_file.hpp"
#include "pcnn/core/output_file.hpp"
#include "pcnn/core/version.hpp"
#include "pcnn/golden/golden_network.hpp"
#include "pcnn/network/classifier_accuracy.hpp"
#include "pcnn/network/idx_file.hpp"
#include "pcnn/onnx/onnx_model.hpp"
#include "pcnn/sim/arch_config.hpp"
#include "pcnn/sim/network_run.hpp"
#include "pcnn/sim/simulate.hpp"
#include "pcnn_sim_options.hpp"

namespace po = boost::program_options;

namespace {

// Where a named dataset's idx files are installed (Debian packages).
struct KnownDataset {
  const char* name;
  const char* dir;
  const char* package;
};
constexpr KnownDataset kDatasets[] = {
    {"fashion-mnist", "/usr/share/datasets/fashion-mnist", "dataset-fashion-mnist"},
};

const char* kEvalUsage =
    "pcnn-sim eval IMAGES_DIR --dataset fashion-mnist [--dataset-dir DIR] [--split test|train]\n"
    "             [--limit N] [-j N] [--float-model MODEL.onnx] [--json FILE]\n"
    "             [--simulate N [--arch arch.json] [--act-mode off|gate|skip]]\n"
    "  pcnn-sim eval IMAGES_DIR --idx-images FILE --idx-labels FILE [...]";

nlohmann::json score_json(const pcnn::ClassifierScore& s) {
  return {{"images", s.images},
          {"top1_correct", s.top1_correct},
          {"top1_accuracy", s.top1_percent()},
          {"top5_correct", s.top5_correct},
          {"top5_accuracy", s.top5_percent()},
          {"seconds", s.seconds},
          {"images_per_second", s.images_per_second()}};
}

// The first images on the cycle-level accelerator model: totals over them.
struct SimulatedImages {
  std::int64_t images = 0;
  std::int64_t top1_correct = 0;
  std::uint64_t cycles = 0;
  double time_ns = 0;
  double on_chip_pj = 0, total_pj = 0;
  double seconds = 0;  // wall time
};

// The name of the first tensor where two runs of one image differ, with the place.
std::string first_difference(const pcnn::Int8Network& net,
                             const std::vector<std::vector<std::int8_t>>& simulated,
                             const std::vector<std::vector<std::int8_t>>& golden) {
  for (const pcnn::NetNode& n : net.nodes) {
    const std::vector<std::int8_t>& a = simulated[static_cast<std::size_t>(n.output)];
    const std::vector<std::int8_t>& b = golden[static_cast<std::size_t>(n.output)];
    if (a.size() != b.size())
      return "output of node '" + n.name + "' has " + std::to_string(a.size()) +
             " values, the golden's " + std::to_string(b.size());
    for (std::size_t k = 0; k < a.size(); ++k)
      if (a[k] != b[k])
        return "output of node '" + n.name + "' (" + pcnn::to_string(n.op) +
               ") differs at element " + std::to_string(k) + ": simulated " + std::to_string(a[k]) +
               ", golden " + std::to_string(b[k]);
  }
  return "";
}

// Runs images 0..count-1 each in its own simulation (a forked child: SystemC
// elaborates once per process), `jobs` at a time, and checks every operator's
// output against the golden executor bit for bit; a difference is an error
// naming the image.
SimulatedImages simulate_images(const pcnn::GoldenNetwork& golden, const pcnn::LabelledImages& set,
                                std::int64_t count, int jobs, const pcnn::ArchConfig& arch,
                                const pcnn::NetworkRunOptions& options) {
  const pcnn::Int8Network& net = golden.network();
  SimulatedImages total;
  total.images = count;
  std::mutex mutex;
  std::int64_t next = 0;
  std::exception_ptr error;
  auto worker = [&] {
    for (;;) {
      std::int64_t i;
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (next >= count || error) return;
        i = next++;
      }
      try {
        const std::vector<std::int8_t> x = golden.quantise_input(pcnn::image_input(set, i));
        std::vector<std::vector<std::int8_t>> expected(net.tensors.size());
        expected[static_cast<std::size_t>(net.input)] = x;
        const pcnn::GoldenOutput y = golden.run(
            x,
            [&](const pcnn::NetNode& n, const pcnn::NetTensor&, const std::vector<std::int8_t>& v) {
              expected[static_cast<std::size_t>(n.output)] = v;
            });
        const pcnn::NetworkRunResult r =
            pcnn::simulate_network_in_child(golden.images(), net, x, arch, options);
        const std::string diff = first_difference(net, r.tensors, expected);
        if (!diff.empty())
          throw pcnn::Error("image " + std::to_string(i) + " of " + set.images_path,
                            "the simulated accelerator disagrees with the golden network: " + diff);
        const int label = set.labels[static_cast<std::size_t>(i)];
        std::lock_guard<std::mutex> lock(mutex);
        total.top1_correct += pcnn::top_k(y.values, 1)[0] == label;
        total.cycles += r.total.cycles;
        total.time_ns += r.total.time_ns;
        total.on_chip_pj += r.total.energy.on_chip_pj();
        total.total_pj += r.total.energy.total_pj();
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!error) error = std::current_exception();
        return;
      }
    }
  };
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 1; t < std::min<std::int64_t>(jobs, count); ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  total.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (error) std::rethrow_exception(error);
  return total;
}

void print_row(const char* path, const pcnn::ClassifierScore& s) {
  std::printf("%-12s %8lld %8.2f %8.2f %10.1f\n", path, static_cast<long long>(s.images),
              s.top1_percent(), s.top5_percent(), s.images_per_second());
}

}  // namespace

int eval_command(int argc, char** argv) {
  std::string images_dir, dataset, dataset_dir, split = "test", idx_images, idx_labels, float_model,
                                                json_path;
  std::string arch_path, act_mode_text;
  std::int64_t limit = 0, simulate = 0;
  int jobs = 1;
  po::options_description visible(
      std::string("Usage:\n  ") + kEvalUsage +
      "\n\nTop-1 and top-5 accuracy of the network of IMAGES_DIR (pcnn-prune's output with\n"
      "network.json) on a labelled idx image set, each image fed as pixel / 255, through the\n"
      "golden integer network executor.\n\nOptions");
  visible.add_options()("help,h", "show this help")("dataset", po::value(&dataset),
                                                    "the installed image set: fashion-mnist")(
      "dataset-dir", po::value(&dataset_dir),
      "folder with the idx files of --dataset (default: where its Debian package puts them)")(
      "split", po::value(&split)->default_value("test"),
      "test (t10k-*-idx?-ubyte[.gz]) or train (train-*)")(
      "idx-images", po::value(&idx_images), "idx image file [N][H][W] (instead of --dataset)")(
      "idx-labels", po::value(&idx_labels), "idx label file [N] (with --idx-images)")(
      "limit", po::value(&limit), "score only the first N images (default: all)")(
      "jobs,j", po::value(&jobs)->default_value(1), "threads scoring images")(
      "float-model", po::value(&float_model),
      "also score this ONNX model with the float interpreter (its own weights)")(
      "json", po::value(&json_path), "write the figures as JSON")(
      "simulate", po::value(&simulate),
      "also run the first N images on the cycle-level accelerator model (one simulation each, "
      "-j at a time), every operator's output checked bit for bit against the golden")(
      "arch", po::value(&arch_path), "architecture JSON for --simulate (docs/architecture.md)")(
      "act-mode", po::value(&act_mode_text)->default_value("off"),
      "activation sparsity for --simulate: off, gate or skip");
  const po::variables_map vm = pcnn::parse_command_line(argc, argv, visible, "images", images_dir);
  if (pcnn::answered_help_or_version(vm, visible, "pcnn-sim")) return 0;
  require_images_dir(images_dir);
  const bool explicit_files = vm.count("idx-images") || vm.count("idx-labels");
  if (explicit_files && (idx_images.empty() || idx_labels.empty()))
    throw pcnn::UsageError("--idx-images", "needs --idx-labels and the other way round");
  if (explicit_files &&
      (vm.count("dataset") || vm.count("dataset-dir") || !vm["split"].defaulted()))
    throw pcnn::UsageError("--idx-images",
                           "excludes --dataset, --dataset-dir and --split (the files are named)");
  if (!explicit_files && dataset.empty())
    throw pcnn::UsageError("command line",
                           "no image set: give --dataset fashion-mnist or --idx-images and "
                           "--idx-labels");
  if (split != "test" && split != "train")
    throw pcnn::UsageError("--split", "'" + split + "' is neither test nor train");
  if (vm.count("limit") && limit < 1) throw pcnn::UsageError("--limit", "must be at least 1");
  if (jobs < 1 || jobs > 256) throw pcnn::UsageError("--jobs", "must be in 1..256");
  if (vm.count("simulate") && simulate < 1)
    throw pcnn::UsageError("--simulate", "must be at least 1");
  if ((vm.count("arch") || !vm["act-mode"].defaulted()) && !vm.count("simulate"))
    throw pcnn::UsageError(vm.count("arch") ? "--arch" : "--act-mode", "needs --simulate N");
  pcnn::NetworkRunOptions sim_options;
  sim_options.with_dense = false;
  sim_options.sim.act_mode = act_mode_option(act_mode_text);
  if (!json_path.empty()) pcnn::check_output_path(json_path, "--json");
  const pcnn::ArchConfig arch = read_arch_option(arch_path, sim_options.sim);

  std::string dataset_label = "idx files";
  if (!explicit_files) {
    const KnownDataset* known = nullptr;
    for (const KnownDataset& d : kDatasets)
      if (dataset == d.name) known = &d;
    if (!known)
      throw pcnn::UsageError("--dataset", "unknown image set '" + dataset +
                                              "' (known: fashion-mnist; or give "
                                              "--idx-images and --idx-labels)");
    std::string dir = dataset_dir.empty() ? known->dir : dataset_dir;
    if (dataset_dir.empty() && !std::filesystem::is_directory(dir))
      throw pcnn::Error("--dataset", std::string(known->name) + ": no folder " + dir +
                                         " (install the Debian package " + known->package +
                                         ", or give --dataset-dir)");
    const std::string stem = split == "test" ? "t10k" : "train";
    idx_images = pcnn::find_idx_file(dir, stem + "-images-idx3-ubyte");
    idx_labels = pcnn::find_idx_file(dir, stem + "-labels-idx1-ubyte");
    dataset_label = dataset + " " + split;
  }
  const pcnn::LabelledImages set = pcnn::read_idx_dataset(idx_images, idx_labels);
  const pcnn::GoldenNetwork net = pcnn::GoldenNetwork::load(images_dir);
  const std::int64_t count = vm.count("limit") ? std::min(limit, set.count) : set.count;
  if (simulate > count)
    throw pcnn::UsageError("--simulate", std::to_string(simulate) + " images, more than the " +
                                             std::to_string(count) + " scored");

  const pcnn::ClassifierScore golden = pcnn::score_golden_network(net, set, count, jobs);
  pcnn::ClassifierScore floating;
  if (!float_model.empty()) {
    const pcnn::OnnxModel model = pcnn::OnnxModel::load(float_model);
    floating = pcnn::score_float_model(model, set, count, jobs);
  }
  std::printf("%s: %lld of %lld images, %lldx%lld (%s)\n", dataset_label.c_str(),
              static_cast<long long>(count), static_cast<long long>(set.count),
              static_cast<long long>(set.height), static_cast<long long>(set.width),
              idx_images.c_str());
  std::printf("%-12s %8s %8s %8s %10s\n", "path", "images", "top1_%", "top5_%", "images/s");
  print_row("int8 golden", golden);
  if (!float_model.empty()) print_row("float", floating);
  SimulatedImages sim;
  if (simulate > 0) {
    sim = simulate_images(net, set, simulate, jobs, arch, sim_options);
    const double n = static_cast<double>(sim.images);
    std::printf("%-12s %8lld %8.2f %8s %10.1f\n", "cycle-level", static_cast<long long>(sim.images),
                100.0 * static_cast<double>(sim.top1_correct) / n, "-",
                sim.seconds > 0 ? n / sim.seconds : 0.0);
    std::printf(
        "cycle-level: all %lld images bit-exact with the golden network (every operator's "
        "output); per image %.0f cycles (%.2f us), %.3f uJ on chip, %.3f uJ with DRAM; "
        "activation mode %s\n",
        static_cast<long long>(sim.images), static_cast<double>(sim.cycles) / n,
        sim.time_ns / n / 1000.0, sim.on_chip_pj / n / 1e6, sim.total_pj / n / 1e6,
        pcnn::to_string(sim_options.sim.act_mode));
  }
  std::printf("(%s, %d thread%s)\n", images_dir.c_str(), jobs, jobs == 1 ? "" : "s");

  if (!json_path.empty()) {
    nlohmann::json out = {{"tool", "pcnn-sim eval"},
                          {"tool_version", pcnn::tool_version()},
                          {"git_commit", pcnn::git_commit()},
                          {"images_dir", images_dir},
                          {"images_identity", net.images().identity},
                          {"dataset",
                           {{"name", explicit_files ? nlohmann::json() : nlohmann::json(dataset)},
                            {"split", explicit_files ? nlohmann::json() : nlohmann::json(split)},
                            {"images_file", idx_images},
                            {"labels_file", idx_labels},
                            {"images", set.count}}},
                          {"threads", jobs},
                          {"int8_golden", score_json(golden)}};
    if (simulate > 0) {
      const double n = static_cast<double>(sim.images);
      out["cycle_level"] = {{"images", sim.images},
                            {"bit_exact_with_golden", true},
                            {"top1_correct", sim.top1_correct},
                            {"top1_accuracy", 100.0 * static_cast<double>(sim.top1_correct) / n},
                            {"act_mode", pcnn::to_string(sim_options.sim.act_mode)},
                            {"architecture", pcnn::arch_to_json(arch)},
                            {"cycles", sim.cycles},
                            {"cycles_per_image", static_cast<double>(sim.cycles) / n},
                            {"time_ns_per_image", sim.time_ns / n},
                            {"energy_on_chip_uj_per_image", sim.on_chip_pj / n / 1e6},
                            {"energy_uj_per_image", sim.total_pj / n / 1e6},
                            {"seconds", sim.seconds},
                            {"images_per_second", sim.seconds > 0 ? n / sim.seconds : 0.0}};
    }
    if (!float_model.empty()) {
      out["float"] = score_json(floating);
      out["float"]["model"] = float_model;
    }
    pcnn::write_output_file(json_path, pcnn::json_text(out) + "\n", "--json");
  }
  return 0;
}
