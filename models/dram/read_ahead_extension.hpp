#pragma once
// A hint on a read: the initiator will soon read [address, address + length)
// from the same target. The memory may start bringing those bytes into
// the simulating machine's cache while the initiator works on this read's
// data; nothing modelled changes (traffic, timing and contents are those of
// the reads themselves). The host's DMA engine reads one PE's image span after
// another, and those spans are not adjacent, so the processor's own prefetcher
// does not see them coming.
#include <cstdint>

#include <tlm>

namespace pcnn {

struct ReadAheadExtension : tlm::tlm_extension<ReadAheadExtension> {
  std::uint64_t address = 0, length = 0;

  tlm::tlm_extension_base* clone() const override { return new ReadAheadExtension(*this); }
  void copy_from(const tlm::tlm_extension_base& other) override {
    *this = static_cast<const ReadAheadExtension&>(other);
  }
};

}  // namespace pcnn
