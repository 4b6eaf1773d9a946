#include "ferry/fs/root_state.hpp"

#include <sys/stat.h>

namespace ferry::fs {

bool root_was_removed(const Fd& root) {
  struct stat st {};
  // A removed directory keeps its inode while a descriptor holds it, with no links left.
  return ::fstat(root.get(), &st) == 0 && st.st_nlink == 0;
}

}  // namespace ferry::fs
