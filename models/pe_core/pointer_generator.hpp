#pragma once
// Stage 2 of the PE group, pointer generation (paper Fig. 4b/4c): for every PE
// and kernel of a step, Sparsity IO ANDs the weight mask with the activation
// mask (mode off: all ones) and makes the pointers of the effectual MACs; the
// result is one stream per PE, the MACs in the order the lanes issue them
// across kernel boundaries. Plain C++.
//
// How the model computes it: the stream of a group with every activation taken
// as non-zero (mode off's stream) is built once per refill. In modes gate and
// skip the MACs a step issues are the slots of that stream whose activation is
// non-zero; they add exactly the same products (the others are zero), so a step
// needs only the number each PE issues, which is the popcount of its packed
// weight masks AND the window's packed activation masks. The full per-step
// stream is built only where the trace shows its pointers.
#include <cstdint>
#include <vector>

#include "models/pe_core/kernel_placement.hpp"
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
  bool pointers = true;               // weight, act and wval are filled (else only count)
  // A group's stream also holds its weights at their window positions for the
  // MAC lanes (lane_dot.hpp): position c*K + p, zero where the PE has no
  // weight, span = the group's positions rounded up to kLaneDotAlign, laid out
  // pair-major ([span / 2][cols][2], cols = the active PEs rounded up to
  // kLaneColumns, the extra columns zero); and per position how many PEs hold
  // a non-zero weight there.
  std::vector<std::int16_t> dense;
  std::vector<std::int16_t> weights_at;
  int positions = 0;  // group channels * K
  int span = 0;
  int cols = 0;

  void resize(int pe_count, int slots);
  int longest() const;  // most MACs of any PE
};

class PointerGenerator {
 public:
  void start_layer(const PeLayer& L);
  // After a refill for pass q: the group's stream with all activations
  // non-zero, its weights at their window positions and every PE's weight masks
  // packed. `count` books the Sparsity IO evaluations (mode off evaluates once
  // per refill; gate and skip per step); `pointers`: also fill the stream's
  // pointers and operands (only the trace reads them).
  void load_group(const PeLayer& L, int q, const KernelRegister& kreg, bool count, bool pointers);
  const PointerStream& group_stream(int q) const { return group_[q & 1]; }

  // Modes gate and skip, one step: the MACs each PE issues for the window's
  // activation masks (counts[pe], zero for idle PEs), the masks packed
  // straight from the window's values ([c][K], a bit per non-zero value);
  // books the step's evaluations. Returns the most of any PE.
  int step_counts(const PeLayer& L, int q, const std::int8_t* window, std::uint16_t* counts);
  // The same step as a full stream (pointers and operands), for the trace.
  void build(const PeLayer& L, int q, const KernelRegister& kreg, const std::uint16_t* act_masks,
             PointerStream& s);

  SparsityIo sparsity_io;

 private:
  void stream_pointers(const PeLayer& L, int q, int pe, int cg, const KernelRegister& kreg,
                       PointerStream& group);
  void make_stream(const PeLayer& L, int q, const KernelRegister& kreg,
                   const std::uint16_t* act_masks, PointerStream& s, bool count);

  KernelPlacement placement_;            // the layer's table: SPM index -> positions
  std::vector<std::int16_t> rows_;       // kLaneColumns PEs' layout rows, position order
  PointerStream group_[2];               // per register set (pass q in set q % 2)
  std::vector<std::uint16_t> masks_;     // [kernel] scratch
  int words_ = 0;                        // 64-bit words of one PE's packed masks
  std::vector<std::uint64_t> wbits_[2];  // [set][pe][word]: bit c*K + p = mask bit p of kernel c
  std::vector<std::uint64_t> abits_;     // [word]: the same packing of a window's activation masks
};

}  // namespace pcnn
