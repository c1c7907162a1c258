// The image files' buffer type: small and large buffers (a mapping of their
// own, 2 MiB aligned) hold what is written to them through resizes, copies and
// moves, and explicitly valued elements are what they were given.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <numeric>

#include "pcnn/image/image_bytes.hpp"

TEST_CASE("image byte buffers keep their contents, small and huge-page sized", "[image]") {
  constexpr std::size_t kHuge = pcnn::ImageBytesAllocator<std::uint8_t>::kHugePageBytes;
  for (const std::size_t size :
       {std::size_t{0}, std::size_t{1}, std::size_t{4097}, kHuge - 1, kHuge, 3 * kHuge + 12345}) {
    INFO("size " << size);
    pcnn::ImageBytes b;
    b.resize(size);
    for (std::size_t i = 0; i < size; ++i) b[i] = static_cast<std::uint8_t>(i * 7 + 3);
    if (size >= kHuge) CHECK(reinterpret_cast<std::uintptr_t>(b.data()) % kHuge == 0);
    const pcnn::ImageBytes copy = b;
    CHECK(copy == b);
    b.resize(size + kHuge);  // grows into a new buffer: the old bytes move along
    bool same = true;
    for (std::size_t i = 0; i < size; ++i)
      same = same && b[i] == static_cast<std::uint8_t>(i * 7 + 3);
    CHECK(same);
    pcnn::ImageBytes moved = std::move(b);
    CHECK(moved.size() == size + kHuge);
    CHECK(std::equal(copy.begin(), copy.end(), moved.begin()));
    if (pcnn::ImageBytesAllocator<std::uint8_t>::zeroed_when_new(size)) {
      pcnn::ImageBytes fresh;
      fresh.resize(size);  // not written: a new mapping reads as zero
      CHECK(std::count(fresh.begin(), fresh.end(), 0) == static_cast<std::ptrdiff_t>(size));
    }
    const pcnn::ImageBytes zeros(size, 0);  // explicitly valued: zero
    CHECK(std::accumulate(zeros.begin(), zeros.end(), std::uint64_t{0}) == 0);
  }
}
