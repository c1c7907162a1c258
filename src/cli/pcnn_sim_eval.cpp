#include "pcnn_sim_eval.hpp"

#include <algorithm>
#include <boost/program_options.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

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

void print_row(const char* path, const pcnn::ClassifierScore& s) {
  std::printf("%-12s %8lld %8.2f %8.2f %10.1f\n", path, static_cast<long long>(s.images),
              s.top1_percent(), s.top5_percent(), s.images_per_second());
}

}  // namespace

int eval_command(int argc, char** argv) {
  std::string images_dir, dataset, dataset_dir, split = "test", idx_images, idx_labels, float_model,
                                                json_path;
  std::int64_t limit = 0;
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
      "json", po::value(&json_path), "write the figures as JSON");
  const po::variables_map vm = pcnn::parse_command_line(argc, argv, visible, "images", images_dir);
  if (vm.count("help")) {
    std::cout << visible;
    return 0;
  }
  if (vm.count("version")) return pcnn::print_version("pcnn-sim");
  if (images_dir.empty())
    throw pcnn::UsageError("command line", "no IMAGES_DIR given (see --help)");
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
  if (!json_path.empty()) pcnn::check_output_path(json_path, "--json");

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
  std::int64_t count = vm.count("limit") ? std::min(limit, set.count) : set.count;

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
    if (!float_model.empty()) {
      out["float"] = score_json(floating);
      out["float"]["model"] = float_model;
    }
    pcnn::write_output_file(json_path, pcnn::json_text(out) + "\n", "--json");
  }
  return 0;
}
