#include "models/common/zeroed_storage.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <new>

namespace pcnn {

namespace {
std::size_t round_up(std::size_t v, std::size_t to) { return (v + to - 1) / to * to; }
}  // namespace

ZeroedStorage::ZeroedStorage(std::uint64_t size_bytes) : size_(size_bytes) {
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  const std::size_t huge = static_cast<std::size_t>(kHugePageBytes);
  if (size_bytes > std::numeric_limits<std::size_t>::max() - 2 * huge) throw std::bad_alloc();
  const bool advise = size_bytes >= kHugePageBytes;
  // Huge pages cover whole aligned 2 MiB ranges of the mapping: the length is
  // rounded up to them and the start aligned by mapping 2 MiB more and
  // returning the unaligned head and the tail.
  mapped_bytes_ = round_up(std::max<std::size_t>(1, size_bytes), advise ? huge : page);
  const std::size_t reserve = mapped_bytes_ + (advise ? huge : 0);
  void* p = mmap(nullptr, reserve, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  auto* base = static_cast<std::uint8_t*>(p);
  data_ = base;
  if (advise) {
    const std::uintptr_t at = reinterpret_cast<std::uintptr_t>(base);
    data_ = reinterpret_cast<std::uint8_t*>(round_up(at, huge));
    const std::size_t head = static_cast<std::size_t>(data_ - base);
    if (head > 0) munmap(base, head);
    if (reserve - head > mapped_bytes_)
      munmap(data_ + mapped_bytes_, reserve - head - mapped_bytes_);
    // Refused (no THP in this kernel): the storage works with small pages.
    huge_pages_advised_ = madvise(data_, mapped_bytes_, MADV_HUGEPAGE) == 0;
  }
}

ZeroedStorage::~ZeroedStorage() { munmap(data_, mapped_bytes_); }

}  // namespace pcnn
