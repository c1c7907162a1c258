#include "pcnn/network/classifier_accuracy.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <numeric>
#include <thread>

#include "pcnn/core/error.hpp"

namespace pcnn {

double ClassifierScore::top1_percent() const {
  return images ? 100.0 * static_cast<double>(top1_correct) / static_cast<double>(images) : 0.0;
}

double ClassifierScore::top5_percent() const {
  return images ? 100.0 * static_cast<double>(top5_correct) / static_cast<double>(images) : 0.0;
}

double ClassifierScore::images_per_second() const {
  return seconds > 0 ? static_cast<double>(images) / seconds : 0.0;
}

std::vector<float> image_input(const LabelledImages& set, std::int64_t i) {
  const std::size_t n = static_cast<std::size_t>(set.height * set.width);
  const std::uint8_t* p = set.pixels.data() + static_cast<std::size_t>(i) * n;
  std::vector<float> x(n);
  for (std::size_t k = 0; k < n; ++k) x[k] = static_cast<float>(p[k]) / 255.0f;
  return x;
}

std::int64_t classifier_classes(const std::vector<std::int64_t>& output_shape,
                                const std::string& where) {
  if (output_shape.size() != 2 || output_shape[0] != 1 || output_shape[1] < 2) {
    std::string s;
    for (std::size_t i = 0; i < output_shape.size(); ++i)
      s += (i ? "x" : "") + std::to_string(output_shape[i]);
    throw Error(where, "the network output is " + (s.empty() ? std::string("a scalar") : s) +
                           ", not the [1, classes] of a classifier");
  }
  return output_shape[1];
}

void check_classifier_fits(const std::vector<std::int64_t>& input_nchw, std::int64_t classes,
                           const LabelledImages& set, const std::string& where) {
  const std::vector<std::int64_t> wanted{1, 1, set.height, set.width};
  if (input_nchw != wanted) {
    std::string s;
    for (std::size_t i = 0; i < input_nchw.size(); ++i)
      s += (i ? "x" : "") + std::to_string(input_nchw[i]);
    throw Error(where, "the network takes " + s + "; the images of " + set.images_path + " are " +
                           std::to_string(set.height) + "x" + std::to_string(set.width) +
                           " grey (1x1x" + std::to_string(set.height) + "x" +
                           std::to_string(set.width) + ")");
  }
  for (std::int64_t i = 0; i < set.count; ++i)
    if (set.labels[static_cast<std::size_t>(i)] >= classes)
      throw Error(set.labels_path, "label " +
                                       std::to_string(set.labels[static_cast<std::size_t>(i)]) +
                                       " of image " + std::to_string(i) + " is not below the " +
                                       std::to_string(classes) + " classes of the network");
}

ClassifierScore score_classifier(const LabelledImages& set, std::int64_t count, int threads,
                                 const std::function<std::vector<int>(std::int64_t)>& ranked) {
  count = std::min(count, set.count);
  ClassifierScore score;
  score.images = count;
  score.predicted.assign(static_cast<std::size_t>(count), -1);
  std::vector<char> top5(static_cast<std::size_t>(count), 0);
  std::atomic<std::int64_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mutex;
  // Images are handed out one at a time: their cost is equal, the threads' share
  // of a loaded machine is not.
  auto worker = [&] {
    for (;;) {
      const std::int64_t i = next.fetch_add(1);
      if (i >= count || failed) return;
      try {
        const std::vector<int> best = ranked(i);
        const int label = set.labels[static_cast<std::size_t>(i)];
        score.predicted[static_cast<std::size_t>(i)] = best.at(0);
        top5[static_cast<std::size_t>(i)] =
            std::find(best.begin(), best.begin() + std::min<std::size_t>(5, best.size()), label) !=
            best.begin() + std::min<std::size_t>(5, best.size());
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        failed = true;
        return;
      }
    }
  };
  const auto t0 = std::chrono::steady_clock::now();
  const int n = static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(threads, count)));
  std::vector<std::thread> pool;
  for (int t = 1; t < n; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  score.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (error) std::rethrow_exception(error);
  for (std::int64_t i = 0; i < count; ++i) {
    score.top1_correct +=
        score.predicted[static_cast<std::size_t>(i)] == set.labels[static_cast<std::size_t>(i)];
    score.top5_correct += top5[static_cast<std::size_t>(i)];
  }
  return score;
}

ClassifierScore score_golden_network(const GoldenNetwork& net, const LabelledImages& set,
                                     std::int64_t count, int threads) {
  const Int8Network& n = net.network();
  const std::int64_t classes =
      classifier_classes(n.tensors[static_cast<std::size_t>(n.output)].shape, "golden network");
  check_classifier_fits(net.input_shape(), classes, set, "golden network");
  return score_classifier(set, count, threads, [&](std::int64_t i) {
    const GoldenOutput y = net.run(net.quantise_input(image_input(set, i)));
    return top_k(y.values, static_cast<int>(std::min<std::int64_t>(5, classes)));
  });
}

ClassifierScore score_float_model(const OnnxModel& model, const LabelledImages& set,
                                  std::int64_t count, int threads) {
  std::vector<std::vector<float>> weights;
  for (const FloatConv& c : model.convs()) weights.push_back(c.weights);
  // The output size is known only from a run (of a zero input).
  std::int64_t input_size = 1;
  for (const std::int64_t d : model.input_shape()) input_size *= d;
  const std::vector<float> first =
      model.run(weights, std::vector<float>(static_cast<std::size_t>(input_size), 0.0f));
  const std::int64_t classes =
      classifier_classes({1, static_cast<std::int64_t>(first.size())}, model.path());
  check_classifier_fits(model.input_shape(), classes, set, model.path());
  return score_classifier(set, count, threads, [&](std::int64_t i) {
    const std::vector<float> y = model.run(weights, image_input(set, i));
    std::vector<int> order(y.size());
    std::iota(order.begin(), order.end(), 0);
    const std::size_t k = std::min<std::size_t>(5, order.size());
    // Largest first, ties to the lower index (as top_k of the int8 output).
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                      [&](int a, int b) { return y[a] > y[b] || (y[a] == y[b] && a < b); });
    order.resize(k);
    return order;
  });
}

}  // namespace pcnn
