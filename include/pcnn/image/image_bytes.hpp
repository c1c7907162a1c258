#pragma once
// The buffer type of the large image files (weights.bin, patterns.bin) in
// memory. A reader fills the whole buffer from the file right after sizing it,
// so the allocator leaves new bytes uninitialised (resize() writes nothing:
// zeroing megabytes that the read overwrites at once costs a pass over them),
// and a buffer of 2 MiB or more is its own anonymous mapping, 2 MiB aligned and
// advised for transparent huge pages, so that filling it takes a few page
// faults instead of one per 4 KiB. The contents are the same either way; code
// that needs zeros (a one-layer read) writes them.
#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>
#include <utility>
#include <vector>

namespace pcnn {

template <class T>
class ImageBytesAllocator {
 public:
  using value_type = T;
  static constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;

  ImageBytesAllocator() = default;
  template <class U>
  ImageBytesAllocator(const ImageBytesAllocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    if (n > std::numeric_limits<std::size_t>::max() / sizeof(T) - 2 * kHugePageBytes)
      throw std::bad_alloc();
    const std::size_t bytes = n * sizeof(T);
    if (bytes < kHugePageBytes) return static_cast<T*>(::operator new(bytes));
    // Map 2 MiB more than the rounded length and return the unaligned head and the tail.
    const std::size_t length = mapped_bytes(bytes);
    void* p = ::mmap(nullptr, length + kHugePageBytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    const auto at = reinterpret_cast<std::uintptr_t>(p);
    const std::uintptr_t aligned = (at + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
    const std::size_t head = aligned - at;
    if (head > 0) ::munmap(p, head);
    ::munmap(reinterpret_cast<void*>(aligned + length), kHugePageBytes - head);
    ::madvise(reinterpret_cast<void*>(aligned), length, MADV_HUGEPAGE);  // a hint: may be refused
    return reinterpret_cast<T*>(aligned);
  }

  // A new allocation of `n` elements reads as zero: it is a fresh anonymous
  // mapping, whose pages the system zeroes when first touched (untouched ones
  // cost nothing).
  static bool zeroed_when_new(std::size_t n) { return n * sizeof(T) >= kHugePageBytes; }

  void deallocate(T* p, std::size_t n) noexcept {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < kHugePageBytes)
      ::operator delete(p);
    else
      ::munmap(p, mapped_bytes(bytes));
  }

  // Default initialisation: a new element of a trivial type keeps what the
  // memory holds (no zero fill); anything with arguments is constructed as usual.
  template <class U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }

  template <class U>
  bool operator==(const ImageBytesAllocator<U>&) const noexcept {
    return true;
  }
  template <class U>
  bool operator!=(const ImageBytesAllocator<U>&) const noexcept {
    return false;
  }

 private:
  static std::size_t mapped_bytes(std::size_t bytes) {
    return (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  }
};

using ImageBytes = std::vector<std::uint8_t, ImageBytesAllocator<std::uint8_t>>;

}  // namespace pcnn
