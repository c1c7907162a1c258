// Example use of the pcnn library: one pattern-pruned 3x3 layer (n = 4, V = 8) run
// on the accelerator model and on the same array dense, checked bit for bit against
// the integer golden reference. Prints cycles and speedup; exit status 1 on a
// mismatch or an error.
#include <cstdio>
#include <exception>
#include <random>

#include <systemc>

#include "pcnn/core/version.hpp"
#include "pcnn/golden/golden_conv.hpp"
#include "pcnn/golden/random_layer.hpp"
#include "pcnn/image/spm_layer.hpp"
#include "pcnn/sim/simulate.hpp"

int sc_main(int, char**) {
  try {
    pcnn::ConvGeometry geom;
    geom.in_channels = 16;
    geom.out_channels = 32;
    geom.in_h = geom.in_w = 12;
    geom.pad_top = geom.pad_left = geom.pad_bottom = geom.pad_right = 1;
    std::mt19937_64 rng(7);
    pcnn::LayerJob pattern;
    pattern.layer = pcnn::make_layer_with_geometry(geom, 4, 8, true, rng, "example");
    pattern.input = pcnn::random_activations(geom.input_elements(), 0.5, true, rng);
    pcnn::LayerJob dense{pcnn::dense_equivalent(pattern.layer), pattern.input};

    const pcnn::ArchConfig arch;  // the paper's architecture
    const auto results = pcnn::simulate({pattern, dense}, arch);
    const bool exact = results[0].output == pcnn::golden_conv_layer(pattern.layer, pattern.input);
    std::printf("pcnn %s: %llu cycles pattern-pruned, %llu dense, speedup %.2fx, %s\n",
                pcnn::tool_version(), static_cast<unsigned long long>(results[0].stats.cycles),
                static_cast<unsigned long long>(results[1].stats.cycles),
                static_cast<double>(results[1].stats.cycles) / results[0].stats.cycles,
                exact ? "bit-exact against the golden reference" : "MISMATCH");
    return exact ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pattern_layer: %s\n", e.what());
    return 1;
  }
}
