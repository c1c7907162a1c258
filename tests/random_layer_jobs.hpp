// Random simulation jobs for the tests that compare two ways of timing the same layers
// (fast mode against cycle level, idle-time skipping): random layers, a quarter of them
// dense, with random activations of density in [min_density, 1].
#pragma once

#include <random>
#include <utility>
#include <vector>

#include "pcnn/golden/random_layer.hpp"
#include "pcnn/sim/simulate.hpp"

namespace pcnn_test {

inline std::vector<pcnn::LayerJob> random_layer_jobs(std::mt19937_64& rng, int count,
                                                     const pcnn::RandomSpecLimits& limits,
                                                     double min_density) {
  std::vector<pcnn::LayerJob> jobs;
  for (int i = 0; i < count; ++i) {
    pcnn::RandomLayerSpec spec = pcnn::random_layer_spec(rng, limits);
    spec.index = i;
    pcnn::LayerJob job;
    job.layer = pcnn::make_random_layer(spec, rng);
    if (pcnn::uniform_below(rng, 4) == 0) job.layer = pcnn::dense_equivalent(job.layer);
    job.input = pcnn::random_activations(
        job.layer.geom.input_elements(),
        min_density + (1.0 - min_density) * pcnn::uniform_unit(rng), spec.relu, rng);
    jobs.push_back(std::move(job));
  }
  return jobs;
}

}  // namespace pcnn_test
