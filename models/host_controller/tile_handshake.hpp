#pragma once
// Buffer handshake between the host controller (DMA moves, SC_THREADs) and the
// PE group (clocked SC_METHOD). A ring of `slots` buffers filled in sequence by
// a producer and released in sequence by a consumer: with two slots the next
// tile moves while the current one computes (double buffering).
#include <cstdint>

#include <systemc>

namespace pcnn {

class SlotRing {
 public:
  void reset(int slots) {
    slots_ = slots;
    filled_ = 0;
    released_ = 0;
  }
  // Consumer: item `seq` is in its buffer.
  bool ready(std::int64_t seq) const { return seq < filled_; }
  // Producer: the buffer for item `seq` is free.
  bool free_for(std::int64_t seq) const { return seq - released_ < slots_; }
  void fill() {
    ++filled_;
    filled_event.notify(sc_core::SC_ZERO_TIME);
  }
  void release() {
    ++released_;
    released_event.notify(sc_core::SC_ZERO_TIME);
  }
  std::int64_t filled() const { return filled_; }
  std::int64_t released() const { return released_; }

  sc_core::sc_event filled_event;
  sc_core::sc_event released_event;

 private:
  int slots_ = 1;
  std::int64_t filled_ = 0;
  std::int64_t released_ = 0;
};

// The three rings of one layer: weight chunks and input bands flow host -> PE
// group; output bands flow PE group -> host.
struct TileHandshake {
  SlotRing weight_chunks;
  SlotRing input_bands;
  SlotRing output_bands;
};

}  // namespace pcnn
