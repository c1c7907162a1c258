#include "pcnn/core/tensor_limit.hpp"

#include <cstdlib>
#include <limits>

#include "pcnn/core/error.hpp"

namespace pcnn {

std::int64_t max_tensor_values() {
  const char* text = std::getenv(kMaxTensorValuesVariable);
  if (text == nullptr || *text == '\0') return kDefaultMaxTensorValues;
  constexpr std::int64_t kHighest = std::int64_t{1} << 40;
  const std::string s = text;
  if (s.size() > 13 || s.find_first_not_of("0123456789") != std::string::npos ||
      std::stoll(s) < 1 || std::stoll(s) > kHighest)
    throw Error(kMaxTensorValuesVariable,
                "'" + s + "' is not a number of values in 1.." + std::to_string(kHighest));
  return std::stoll(s);
}

std::int64_t tensor_values(const std::vector<std::int64_t>& dims) {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  std::int64_t n = 1;
  for (const std::int64_t d : dims) {
    if (d <= 0) return 0;
    n = n > kMax / d ? kMax : n * d;
  }
  return n;
}

std::string tensor_shape_text(const std::vector<std::int64_t>& dims) {
  std::string t = "[";
  for (std::size_t i = 0; i < dims.size(); ++i)
    t += (i ? "," : "") + (dims[i] < 0 ? std::string("?") : std::to_string(dims[i]));
  return t + "]";
}

void check_tensor_values(const std::string& where, const std::string& subject,
                         std::int64_t values) {
  const std::int64_t limit = max_tensor_values();
  if (values <= limit) return;
  const std::string count = values == std::numeric_limits<std::int64_t>::max()
                                ? std::string("more than 2^63")
                                : std::to_string(values);
  throw Error(where, subject + " holds " + count + " values, more than the limit of " +
                         std::to_string(limit) + " values per tensor (" + kMaxTensorValuesVariable +
                         " raises it)");
}

void check_tensor_shape(const std::string& where, const std::string& what,
                        const std::vector<std::int64_t>& dims) {
  check_tensor_values(where, what + " " + tensor_shape_text(dims), tensor_values(dims));
}

}  // namespace pcnn
