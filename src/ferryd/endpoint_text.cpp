#include "endpoint_text.hpp"

#include <fmt/format.h>

namespace ferryd {

asio::ip::address normalize(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  return address;
}

std::string to_text(const asio::ip::tcp::endpoint& endpoint) {
  const asio::ip::address address = normalize(endpoint.address());
  if (address.is_v6()) return fmt::format("[{}]:{}", address.to_string(), endpoint.port());
  return fmt::format("{}:{}", address.to_string(), endpoint.port());
}

}  // namespace ferryd
