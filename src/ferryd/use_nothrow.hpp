#pragma once

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

namespace ferryd {

// The completion token for operations whose failure is an expected outcome (a peer that
// leaves, a timeout): `auto [ec, n] = co_await op(use_nothrow);` instead of an exception.
inline constexpr auto use_nothrow = asio::experimental::as_tuple(asio::use_awaitable);

}  // namespace ferryd
