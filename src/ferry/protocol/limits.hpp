#pragma once

#include <cstddef>
#include <cstdint>

namespace ferry::protocol {

// Limits that every peer enforces on a message head (docs/PROTOCOL.md, "Limits").
inline constexpr std::size_t kMaxHeadBytes = std::size_t{8} * 1024;
inline constexpr std::size_t kMaxHeaderLines = 64;
inline constexpr std::uint64_t kMaxFileSize = 0x7fff'ffff'ffff'ffffULL;  // 2^63 - 1

}  // namespace ferry::protocol
