#pragma once
// The host's compiler step for layers the PE group cannot run as they are. It
// rewrites such a layer into passes the datapath can run, with bit-identical
// int8 outputs:
//  * a grouped convolution runs as one group-1 pass per group, each over its
//    own slice of input and output channels (requantisation is per output
//    channel, so the slices are exact);
//  * a kernel of more than kMaxKernelPositions positions (the 7x7 stem of
//    ResNet-18-ImageNet) is cut into sub-kernels of at most 16 positions. Every
//    sub-kernel reads its own copy of the zero-padded input, shifted by the
//    sub-kernel's offset, stored as extra input channels; the PE group's
//    accumulation over input channels then adds the sub-kernels up before the
//    one requantisation. The copies are real DRAM and Data SRAM traffic.
#include <string>
#include <vector>

#include "pcnn/sim/simulate.hpp"

namespace pcnn {

// True when the layer must be rewritten before the PE group can run it.
bool needs_lowering(const SpmLayer& layer);

struct LoweredLayer {
  // Passes in output-channel order: concatenating their outputs ([M_pass][OH][OW]
  // each) gives the layer's output [M][OH][OW].
  std::vector<LayerJob> passes;
  std::string description;  // empty when the layer runs as it is
};

// One pass (the job itself) for layers that need no lowering. Throws
// pcnn::Error naming the layer when the job's input has the wrong size.
LoweredLayer lower_for_accelerator(const LayerJob& job);

}  // namespace pcnn
