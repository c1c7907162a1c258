#pragma once
// Whole-network test helpers shared by the golden network and the network-run
// tests: a model pruned in memory with its int8 network, and the seeded family
// of small random networks that use every operator of the int8 set.
#include <algorithm>
#include <random>
#include <string>

#include "pcnn/network/int8_network.hpp"
#include "pcnn/onnx/model_builder.hpp"
#include "pcnn/onnx/onnx_model.hpp"
#include "pcnn/prune/pruner.hpp"

namespace pcnn_test {

struct Pruned {
  pcnn::OnnxModel model;
  pcnn::PrunedModel pruned;
  pcnn::Int8Network net;
};

inline Pruned prune(const std::string& path, int samples = 4) {
  pcnn::OnnxModel m = pcnn::OnnxModel::load(path);
  pcnn::PruneOptions opt;
  opt.calib_samples = samples;
  pcnn::PrunedModel pm = pcnn::prune_model(m, opt);
  pcnn::Int8Network net = m.int8_network(pm.images.layers, pm.calibration.ranges);
  return {std::move(m), std::move(pm), std::move(net)};
}

// A random small network that uses every operator of the int8 set once, in a
// random order, with random shapes, strides, pads and residuals.
inline pcnn::ModelBuilder random_network(std::mt19937_64& rng, std::uint64_t seed) {
  auto pick = [&](int lo, int hi) {
    return lo + static_cast<int>(rng() % static_cast<std::uint64_t>(hi - lo + 1));
  };
  const int C = pick(1, 5), H = pick(5, 12), W = pick(5, 12);
  pcnn::ModelBuilder b("random", {1, C, H, W}, seed);
  pcnn::ConvOptions o;
  o.kernel = pick(0, 1) ? 3 : 1;
  o.stride = 1;
  o.bias = true;
  std::string x = b.relu(b.batch_norm(b.conv(b.input(), pick(2, 8), o)));
  std::vector<int> ops = {0, 1, 2, 3, 4, 5, 6, 7};
  std::shuffle(ops.begin(), ops.end(), rng);
  for (int op : ops) {
    const auto s = b.shape(x);
    const int c = static_cast<int>(s[1]);
    pcnn::ConvOptions k;
    k.kernel = pick(1, 3) | 1;
    k.bias = pick(0, 1) == 1;
    switch (op) {
      case 0:
        if (s[2] >= 4 && s[3] >= 4) x = b.max_pool(x, 2, 2);
        break;
      case 1:
        x = b.average_pool(x, 3, 1, 1);
        break;
      case 2: {  // residual block
        const std::string r = b.batch_norm(b.conv(b.relu(b.conv(x, c, k)), c, k));
        x = b.relu(b.add(r, x));
        break;
      }
      case 3: {  // two branches, concatenated
        const std::string a = b.relu(b.conv(x, pick(1, 4), k));
        x = b.concat({a, b.conv(x, pick(1, 4))});
        break;
      }
      case 4:
        if (s[2] <= 12 && s[3] <= 12) x = b.resize_nearest(x, 2);
        break;
      case 5:
        x = b.depth_to_space(b.conv(x, 4 * pick(1, 2), k), 2, pick(0, 1) ? "DCR" : "CRD");
        if (b.shape(x)[2] > 8) x = b.max_pool(x, 2, 2);
        break;
      case 6:
        x = b.clip(b.conv(x, c, k), 0.0f, 1.5f);
        break;
      case 7: {  // strided, padded conv
        pcnn::ConvOptions st;
        st.kernel = 3;
        st.stride = s[2] >= 6 ? 2 : 1;
        st.pad = pick(0, 1);
        if (s[2] + 2 * st.pad >= 3 && s[3] + 2 * st.pad >= 3) x = b.relu(b.conv(x, pick(2, 6), st));
        break;
      }
    }
  }
  b.gemm(b.flatten(b.global_average_pool(x)), pick(2, 10));
  return b;
}

}  // namespace pcnn_test
