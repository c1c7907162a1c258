#pragma once
// Top-1 and top-5 accuracy of a classifier over a labelled image set
// (pcnn-sim eval): the int8 golden network and the float interpreter of an
// ONNX model, each image fed as pixel / 255 in NCHW [1, 1, H, W], like the
// networks of tools/train. Images are scored on several threads; the golden
// executor and the float interpreter hold no per-run state, so they are shared.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "pcnn/golden/golden_network.hpp"
#include "pcnn/network/idx_file.hpp"
#include "pcnn/onnx/onnx_model.hpp"

namespace pcnn {

struct ClassifierScore {
  std::int64_t images = 0;
  std::int64_t top1_correct = 0;
  std::int64_t top5_correct = 0;  // label among the 5 best (all classes when fewer)
  double seconds = 0;             // wall time of the scoring
  std::vector<int> predicted;     // top-1 class of each image

  double top1_percent() const;
  double top5_percent() const;
  double images_per_second() const;
};

// Image i of the set as the float network input: pixel / 255, [1][1][H][W].
std::vector<float> image_input(const LabelledImages& set, std::int64_t i);

// Checks that a network taking `input_nchw` with `classes` outputs fits the set:
// a 1 x 1 x H x W input of the images' size, every label below `classes`.
// Throws pcnn::Error(where, ...) otherwise.
void check_classifier_fits(const std::vector<std::int64_t>& input_nchw, std::int64_t classes,
                           const LabelledImages& set, const std::string& where);

// Scores images 0..count-1 with `ranked(i)` (class indices, best first, at
// least one) on `threads` threads. The first exception of any thread is
// rethrown after all have stopped.
ClassifierScore score_classifier(const LabelledImages& set, std::int64_t count, int threads,
                                 const std::function<std::vector<int>(std::int64_t)>& ranked);

// The int8 golden network (its output must be [1, K]).
ClassifierScore score_golden_network(const GoldenNetwork& net, const LabelledImages& set,
                                     std::int64_t count, int threads);

// The float interpreter with the model's own weights (output [1, K]).
ClassifierScore score_float_model(const OnnxModel& model, const LabelledImages& set,
                                  std::int64_t count, int threads);

// Classes of a [1, K] output shape; throws pcnn::Error(where, ...) for another shape.
std::int64_t classifier_classes(const std::vector<std::int64_t>& output_shape,
                                const std::string& where);

}  // namespace pcnn
