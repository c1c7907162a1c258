#pragma once
// Buffer handshake between the host controller (DMA moves, SC_THREADs) and the
// PE group (clocked SC_METHOD). A ring of `slots` buffers filled in sequence by
// a producer and released in sequence by a consumer: with two slots the next
// tile moves while the current one computes (double buffering).
//
// A primitive channel: fill() and release() only request an update; the counts
// change in the update phase and the events fire in the next delta cycle. So a
// process that looks at the ring in the same delta as a fill sees the old count
// whatever order the kernel runs the two in; the result of a run does not depend
// on process order (tests/test_sim_modules.cpp checks both orders).
#include <cstdint>

#include <systemc>

namespace pcnn {

class SlotRing : public sc_core::sc_prim_channel {
 public:
  explicit SlotRing(const char* name) : sc_core::sc_prim_channel(name) {}

  // Before a layer starts (no fill or release pending).
  void reset(int slots) {
    slots_ = slots;
    filled_ = released_ = 0;
    pending_fills_ = pending_releases_ = 0;
  }
  // Consumer: item `seq` is in its buffer.
  bool ready(std::int64_t seq) const { return seq < filled_; }
  // Producer: the buffer for item `seq` is free.
  bool free_for(std::int64_t seq) const { return seq - released_ < slots_; }
  void fill() {
    ++pending_fills_;
    request_update();
  }
  void release() {
    ++pending_releases_;
    request_update();
  }
  std::int64_t filled() const { return filled_; }
  std::int64_t released() const { return released_; }

  sc_core::sc_event filled_event;
  sc_core::sc_event released_event;

 protected:
  void update() override {
    if (pending_fills_ > 0) {
      filled_ += pending_fills_;
      pending_fills_ = 0;
      filled_event.notify(sc_core::SC_ZERO_TIME);
    }
    if (pending_releases_ > 0) {
      released_ += pending_releases_;
      pending_releases_ = 0;
      released_event.notify(sc_core::SC_ZERO_TIME);
    }
  }

 private:
  int slots_ = 1;
  std::int64_t filled_ = 0, released_ = 0;
  std::int64_t pending_fills_ = 0, pending_releases_ = 0;
};

// The three rings of one layer: weight chunks and input bands flow host -> PE
// group; output bands flow PE group -> host.
struct TileHandshake {
  SlotRing weight_chunks{"weight_chunks"};
  SlotRing input_bands{"input_bands"};
  SlotRing output_bands{"output_bands"};
};

}  // namespace pcnn
