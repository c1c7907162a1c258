#pragma once
// Stage 1 of the PE group, pre-process (paper Fig. 4a): the window register
// holds the activation window of one output position for the channels of the
// current group ([c][K]). Along an output row it shifts by the stride and only
// the new columns are gathered from Data SRAM (channel-last, so one slice per
// pixel); padding positions are written as zeros. Each loaded window is handed
// to the next pipeline stages through a small ring of window buffers together
// with its activation masks (one K-bit mask per channel). Plain C++.
#include <cstdint>
#include <vector>

#include "models/pe_core/pe_core_ports.hpp"
#include "models/pe_core/pe_layer.hpp"

namespace pcnn {

struct WindowLoad {
  int window = 0;                  // ring slot holding the window and its masks
  std::uint64_t fetch_cycles = 1;  // the gather read (a window of padding only: 1)
  bool read = false;               // a Data SRAM read was issued
  std::uint64_t address = 0;       // its first address
};

class WindowRegister {
 public:
  // Stage 1 runs at most one window ahead of stage 2, which holds one ahead of
  // stage 3: three windows are in flight at most.
  static constexpr int kWindows = 3;

  // `masks`: make each window's activation masks per channel (the full
  // pointer streams of gate and skip and the trace read them; a step's MAC
  // counts pack them from the window's values).
  void start_layer(const PeLayer& L, bool masks);
  // Loads the window of output position `pos` of pass q.
  WindowLoad load(const PeLayer& L, int q, int pos, PeCorePorts& ports);

  const std::int8_t* window(int w) const { return windows_[w].data(); }
  const std::uint16_t* act_masks(int w) const { return act_masks_[w].data(); }
  // Activation operands the MAC lanes read from a window.
  void count_reads(std::uint64_t values) { reads_ += values; }

  std::uint64_t write_bytes() const { return write_bytes_; }
  std::uint64_t shift_bytes() const { return shift_bytes_; }
  std::uint64_t reads() const { return reads_; }
  void reset_counters() { write_bytes_ = shift_bytes_ = reads_ = 0; }

 private:
  int K_ = kPatternKernelPositions;
  std::vector<std::int8_t> shift_reg_;  // [c][K]
  std::vector<std::int8_t> windows_[kWindows];
  std::vector<std::uint16_t> act_masks_[kWindows];
  int next_ = 0;
  bool masks_ = true;
  std::vector<std::uint8_t> gather_buf_;
  std::vector<MemSegment> segments_;
  bool prev_valid_ = false;
  int prev_pass_ = 0, prev_oy_ = 0, prev_ox_ = 0;
  std::uint64_t write_bytes_ = 0, shift_bytes_ = 0, reads_ = 0;
};

}  // namespace pcnn
