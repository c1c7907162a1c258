#pragma once
// Partial sums and output stage of the PE group: per PE one 32-bit accumulator
// per output position of the band. After the last input-channel group of a
// tile every entry gets its bias, is requantised to int8 (pe_logic.hpp) and
// written back to Data SRAM with one scatter write. Plain C++.
//
// Access counting: the first group of a tile writes every entry of the steps
// it runs (the clear is that write); later groups read and write an entry when
// their step issues a MAC; the write-back reads every entry once.
#include <cstdint>
#include <vector>

#include "models/pe_core/pe_core_ports.hpp"
#include "models/pe_core/pe_layer.hpp"

namespace pcnn {

class PartialSums {
 public:
  explicit PartialSums(int pe_count) : pe_count_(pe_count) {}

  void start_layer(const PeLayer& L);
  void clear();  // first group of a tile
  std::int32_t& entry(int pe, int pos) {
    return sums_[static_cast<std::size_t>(pos) * pe_count_ + pe];
  }
  std::int32_t entry(int pe, int pos) const {
    return sums_[static_cast<std::size_t>(pos) * pe_count_ + pe];
  }
  // The entries of output position pos, one per PE (a step adds into them).
  std::int32_t* position(int pos) { return &sums_[static_cast<std::size_t>(pos) * pe_count_]; }
  void count_accumulate(std::uint64_t reads, std::uint64_t writes) {
    reads_ += reads;
    writes_ += writes;
  }
  // Bias, requantisation and the scatter write of pass q's tile; returns the
  // Data SRAM cycles (at least 1) and the first address.
  std::uint64_t write_back(const PeLayer& L, int q, PeCorePorts& ports, std::uint64_t* address);

  std::uint64_t reads() const { return reads_; }
  std::uint64_t writes() const { return writes_; }
  std::uint64_t requantisations() const { return requantisations_; }
  void reset_counters() { reads_ = writes_ = requantisations_ = 0; }

 private:
  int pe_count_;
  int positions_ = 0;               // entries per PE: the largest band
  std::vector<std::int32_t> sums_;  // [position][pe]
  std::vector<std::uint8_t> out_;
  std::vector<MemSegment> segments_;
  std::uint64_t reads_ = 0, writes_ = 0, requantisations_ = 0;
};

}  // namespace pcnn
