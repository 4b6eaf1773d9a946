#include "local_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <array>

#include "ferry/fs/confine.hpp"

namespace ferryd {
namespace {

// statfs(2) f_type of the file systems that may wait on a daemon or a network.
constexpr std::array<long, 13> kRemote = {
    0x65735546,  // FUSE
    0x6969,      // NFS
    0x517b,      // SMB
    0xff534d42,  // CIFS
    0xfe534d42,  // SMB2
    0x00c36400,  // Ceph
    0x01021997,  // 9P
    0x5346414f,  // AFS
    0x6b414653,  // kAFS
    0x73757245,  // Coda
    0x7461636f,  // OCFS2
    0x01161970,  // GFS2
    0x47504653,  // GPFS
};

}  // namespace

std::optional<dev_t> local_device(int root) {
  struct statfs fs {};
  struct stat st {};
  if (::fstatfs(root, &fs) != 0 || ::fstat(root, &st) != 0) return std::nullopt;
  const long type = static_cast<long>(fs.f_type);
  if (std::find(kRemote.begin(), kRemote.end(), type) != kRemote.end()) return std::nullopt;
  return st.st_dev;
}

bool cached_on_device(const ferry::fs::Fd& root, std::string_view path, dev_t device) {
  // O_PATH: no open of the file itself (no FUSE_OPEN), and no close to wait on.
  auto probe = ferry::fs::open_in_root(root, path, O_PATH, 0, ferry::fs::Lookup::cached_only);
  if (!probe) return false;
  struct statx info {};
  // AT_STATX_DONT_SYNC: what the kernel holds, no GETATTR to a FUSE daemon or an NFS server.
  if (::statx(probe->get(), "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_TYPE, &info) != 0) {
    return false;
  }
  return ::makedev(info.stx_dev_major, info.stx_dev_minor) == device;
}

}  // namespace ferryd
