#pragma once

#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>

#include <string>

namespace ferryd {

// An IPv4 address reached through a dual-stack socket (::ffff:a.b.c.d) as plain IPv4,
// so that comparisons and logs see one form.
asio::ip::address normalize(const asio::ip::address& address);

// `1.2.3.4:5` or `[::1]:5`.
std::string to_text(const asio::ip::tcp::endpoint& endpoint);

}  // namespace ferryd
