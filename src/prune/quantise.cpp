#include "pcnn/prune/quantise.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "pcnn/core/error.hpp"

namespace pcnn {

float symmetric_scale(float absmax) { return absmax > 0.0f ? absmax / 127.0f : 1.0f; }

std::int8_t quantise_weight(float w, float scale) {
  const double q = std::round(static_cast<double>(w) / static_cast<double>(scale));
  if (q > 127.0) return 127;
  if (q < -127.0) return -127;
  return static_cast<std::int8_t>(q);
}

Requant requant_from_real(double real_multiplier) {
  if (!std::isfinite(real_multiplier) || real_multiplier <= 0.0)
    throw Error("requantisation", "multiplier " + std::to_string(real_multiplier) +
                                      " is not a positive finite number");
  int e = 0;
  const double f = std::frexp(real_multiplier, &e);  // real = f * 2^e, f in [0.5, 1)
  std::int64_t m = static_cast<std::int64_t>(std::llround(std::ldexp(f, 31)));
  if (m == (std::int64_t{1} << 31)) {  // f rounded up to 1.0
    m = std::int64_t{1} << 30;
    ++e;
  }
  Requant rq;
  if (-e > 31) {  // below 2^-32: every int32 accumulator rounds to 0 either way
    rq.multiplier = 1 << 30;
    rq.shift = 31;
    return rq;
  }
  if (-e < -31)
    throw Error("requantisation", "multiplier " + std::to_string(real_multiplier) +
                                      " is 2^31 or larger (degenerate activation scale)");
  rq.multiplier = static_cast<std::int32_t>(m);
  rq.shift = -e;
  return rq;
}

std::int8_t requantise(std::int32_t acc, const Requant& rq, bool relu) {
  const std::int64_t prod = static_cast<std::int64_t>(acc) * rq.multiplier;  // |prod| < 2^62
  const int s = 31 + rq.shift;                                               // 0..62
  std::int64_t y = prod;
  if (s > 0) {
    // floor((prod + 2^(s-1)) / 2^s); >> on a negative int64 is an arithmetic
    // (flooring) shift on every compiler C++17 code targets (and defined in C++20).
    y = (prod + (std::int64_t{1} << (s - 1))) >> s;
  }
  const std::int64_t lo = relu ? 0 : -128;
  if (y < lo) y = lo;
  if (y > 127) y = 127;
  return static_cast<std::int8_t>(y);
}

std::int32_t quantise_bias(float bias, float input_scale, float weight_scale) {
  const double q =
      std::round(static_cast<double>(bias) / (static_cast<double>(input_scale) * weight_scale));
  constexpr double lo = std::numeric_limits<std::int32_t>::min();
  constexpr double hi = std::numeric_limits<std::int32_t>::max();
  if (!(q >= lo)) return std::numeric_limits<std::int32_t>::min();  // also NaN
  if (q > hi) return std::numeric_limits<std::int32_t>::max();
  return static_cast<std::int32_t>(q);
}

}  // namespace pcnn
