#pragma once
// Arithmetic of one PE as plain C++: the output stage after the last input
// channel group (bias, ReLU, integer requantisation to int8).
#include <algorithm>
#include <cstdint>

namespace pcnn {

// y = clamp(round_half_up(acc * multiplier / 2^(31 + shift)), relu ? 0 : -128, 127).
// acc * multiplier needs at most 62 bits plus sign; the rounding constant fits.
inline std::int8_t pe_requantize(std::int32_t acc, std::int32_t multiplier, std::int32_t shift,
                                 bool relu) {
  const std::int64_t product = static_cast<std::int64_t>(acc) * multiplier;
  const int total_shift = 31 + shift;
  std::int64_t value;
  if (total_shift <= 0) {
    value = product;
  } else {
    // Arithmetic right shift floors; adding half first rounds half up.
    value = (product + (std::int64_t{1} << (total_shift - 1))) >> total_shift;
  }
  const std::int64_t lo = relu ? 0 : -128;
  return static_cast<std::int8_t>(std::clamp<std::int64_t>(value, lo, 127));
}

// Accumulator after the bias: 32-bit two's complement, as in the hardware adder.
inline std::int32_t pe_add_bias(std::int32_t psum, std::int32_t bias) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(psum) +
                                   static_cast<std::uint32_t>(bias));
}

}  // namespace pcnn
