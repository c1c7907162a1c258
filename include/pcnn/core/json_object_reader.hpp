#pragma once
// Reads the keys of one JSON object into struct fields for the configuration
// files (architecture, sweep): every key must be consumed, every value must have
// the field's type, and a problem is one pcnn::Error naming the file and key.
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "pcnn/core/error.hpp"

namespace pcnn {

class JsonObjectReader {
 public:
  // file: named in messages; prefix: "" or "dram." for nested objects.
  JsonObjectReader(const nlohmann::json& j, std::string file, std::string prefix)
      : j_(j), file_(std::move(file)), prefix_(std::move(prefix)) {
    if (!j_.is_object())
      throw Error(file_, (prefix_.empty() ? std::string("top level") : prefix_.substr(0, prefix_.size() - 1)) +
                             ": expected a JSON object");
  }
  template <typename T>
  void get(const char* key, T& field) {
    seen_.insert(key);
    auto it = j_.find(key);
    if (it == j_.end()) return;
    const std::string path = prefix_ + key;
    if constexpr (std::is_same_v<T, bool>) {
      if (!it->is_boolean()) fail(path, "expected true or false");
      field = it->template get<bool>();
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (!it->is_string()) fail(path, "expected a string");
      field = it->template get<std::string>();
    } else if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T>) {
      if (!it->is_number_integer()) fail(path, "expected an integer");
      if (!it->is_number_unsigned()) fail(path, "must not be negative");
      const auto v = it->template get<std::uint64_t>();
      if (v > static_cast<std::uint64_t>(std::numeric_limits<T>::max()))
        fail(path, "integer out of range");
      field = static_cast<T>(v);
    } else if constexpr (std::is_integral_v<T>) {
      if (!it->is_number_integer()) fail(path, "expected an integer");
      if (it->is_number_unsigned() &&
          it->template get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<T>::max()))
        fail(path, "integer out of range");
      const auto v = it->template get<std::int64_t>();
      if (v < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
          v > static_cast<std::int64_t>(std::numeric_limits<T>::max()))
        fail(path, "integer out of range");
      field = static_cast<T>(v);
    } else {
      if (!it->is_number()) fail(path, "expected a number");
      field = it->template get<T>();
    }
  }
  // The raw value of a key (consumed), or nullptr when absent.
  const nlohmann::json* object(const char* key) {
    seen_.insert(key);
    auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }
  void finish() const {
    for (auto it = j_.begin(); it != j_.end(); ++it)
      if (!seen_.count(it.key())) fail(prefix_ + it.key(), "unknown key");
  }
  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw Error(file_, key + ": " + what);
  }

 private:
  const nlohmann::json& j_;
  std::string file_, prefix_;
  std::set<std::string> seen_;
};

}  // namespace pcnn
