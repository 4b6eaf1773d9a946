#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace ferry::fs {

// A failed system operation: errno, and optionally a description that says more.
struct SysError {
  int code = 0;
  std::string_view detail = {};  // a static string, preferred to strerror when set
};

// Words for an error, lower case, as they appear in ERROR messages:
// "no such file or directory", "is a directory", ...
std::string describe(const SysError& error);

template <class T>
class SysResult {
 public:
  SysResult(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  SysResult(SysError error) : value_(error) {}      // NOLINT(google-explicit-constructor)

  bool ok() const { return value_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const SysError& error() const { return std::get<1>(value_); }
  T& operator*() { return std::get<0>(value_); }
  T* operator->() { return &std::get<0>(value_); }

 private:
  std::variant<T, SysError> value_;
};

}  // namespace ferry::fs
