#pragma once
// Stage 2 of the PE group, pointer generation (paper Fig. 4b/4c): for every PE
// and kernel of a step, Sparsity IO ANDs the weight mask with the activation
// mask (mode off: all ones) and makes the pointers of the effectual MACs; the
// result is one stream per PE, the MACs in the order the lanes issue them
// across kernel boundaries. Plain C++.
#include <cstdint>
#include <vector>

#include "models/pe_core/kernel_register.hpp"
#include "models/pe_core/pe_layer.hpp"
#include "models/sparsity_io/sparsity_io.hpp"

namespace pcnn {

// Per PE the effectual MACs of one step.
struct PointerStream {
  std::vector<std::uint16_t> count;   // [pe]
  std::vector<std::uint16_t> weight;  // [pe][slot] pointer into the kernel register
  std::vector<std::uint16_t> act;     // [pe][slot] pointer into the window
  std::vector<std::int8_t> wval;      // [pe][slot] the register word the weight pointer selects
  int stride = 0;                     // slots per PE (the register width)

  void resize(int pe_count, int slots);
  int longest() const;  // most MACs of any PE
};

class PointerGenerator {
 public:
  // Builds the stream of pass q's group for the active PEs of its tile.
  void build(const PeLayer& L, int q, const KernelRegister& kreg, const std::uint16_t* act_masks,
             PointerStream& s);

  SparsityIo sparsity_io;
};

}  // namespace pcnn
