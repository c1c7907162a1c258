#pragma once
// Zero-filled backing storage of a simulated memory, taken from the system as
// an anonymous mapping: its pages read as zero and cost nothing until first
// touched, so a DRAM sized for a whole network costs only what a run writes.
// Storage of 2 MiB or more is 2 MiB aligned and advised for transparent huge
// pages (madvise(MADV_HUGEPAGE)): where the system grants them, the first touch
// maps 2 MiB at once instead of 4 KiB, so filling DRAM with a network's images
// takes a few page faults instead of thousands. The contents are the same either
// way.
#include <cstddef>
#include <cstdint>

namespace pcnn {

class ZeroedStorage {
 public:
  static constexpr std::uint64_t kHugePageBytes = std::uint64_t{2} << 20;

  // Throws std::bad_alloc when the system refuses the mapping.
  explicit ZeroedStorage(std::uint64_t size_bytes);
  ~ZeroedStorage();
  ZeroedStorage(const ZeroedStorage&) = delete;
  ZeroedStorage& operator=(const ZeroedStorage&) = delete;

  std::uint8_t* data() { return data_; }
  const std::uint8_t* data() const { return data_; }
  std::uint64_t size() const { return size_; }
  // The system was asked for huge pages (size_bytes >= kHugePageBytes and
  // madvise accepted); whether it grants them is its choice.
  bool huge_pages_advised() const { return huge_pages_advised_; }

 private:
  std::uint8_t* data_ = nullptr;
  std::uint64_t size_ = 0;
  std::size_t mapped_bytes_ = 0;  // length of the mapping at data_
  bool huge_pages_advised_ = false;
};

}  // namespace pcnn
