#include "local_paths.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include <readline/tilde.h>

namespace ferry::cli {

std::string expand_local(const std::string& word) {
  if (!word.starts_with('~')) return word;
  char* expanded = ::tilde_expand(word.c_str());
  if (expanded == nullptr) return word;
  std::string result(expanded);
  std::free(expanded);  // NOLINT(cppcoreguidelines-no-malloc): readline's allocation
  return result;
}

std::string home_directory() {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): the client reads its environment on one thread
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') return home;
  // NOLINTNEXTLINE(concurrency-mt-unsafe): one thread
  if (const passwd* entry = ::getpwuid(::getuid()); entry != nullptr) return entry->pw_dir;
  return "/";
}

}  // namespace ferry::cli
