// The client facing a hostile server: everything it does with the bytes of an answer.
//
// Input: what a server sends on a connection before closing it. The bytes go through a
// socket pair, as on a real connection, and the client reads them with net::read_head
// (in 4 KiB chunks) until the connection ends or an error, each head going through
// parse_answer (ferry-cli/answer.cpp), opened_port, and, for an OK, the rest of the stream
// through parse_listing and format_listing as `ls` does. Properties checked:
// - read_head returns exactly one framed head of at most 8 KiB, or throws a protocol or
//   closed error; nothing else escapes.
// - opened_port gives a port only for `OPENED <digits>` with a value in 1..65535, and then
//   exactly that value.
// - An OK's FILESIZE, when present, is a valid size (transfer_get dereferences it).
// - Everything the client would print (error texts through printable, the LS table) is
//   valid UTF-8 without C0 controls, DEL or C1 controls, and the LS table has one line per
//   entry; every listed entry survives format_entry/parse_entry.

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "answer.hpp"
#include "errors.hpp"
#include "ferry/client/listing_table.hpp"
#include "ferry/client/requests.hpp"
#include "ferry/client/terminal_text.hpp"
#include "ferry/fs/fd.hpp"
#include "ferry/net/error.hpp"
#include "ferry/net/socket.hpp"
#include "ferry/protocol/limits.hpp"
#include "ferry/protocol/listing.hpp"
#include "ferry/protocol/message.hpp"
#include "fuzz_check.hpp"

namespace {

using ferry::fuzz::has_no_control_bytes;
using ferry::fuzz::well_formed_utf8;
namespace protocol = ferry::protocol;
namespace client = ferry::client;
namespace net = ferry::net;

constexpr std::size_t kMaxInput = std::size_t{64} * 1024;  // fits a socket pair's buffer
constexpr net::Timeout kTimeout{2000};

// Safe to write to a terminal: valid UTF-8, no C0, DEL or C1 control (U+0080..U+009F).
bool terminal_safe(std::string_view text) {
  if (!has_no_control_bytes(text) || !well_formed_utf8(text)) return false;
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    const auto a = static_cast<unsigned char>(text[i]);
    const auto b = static_cast<unsigned char>(text[i + 1]);
    if (a == 0xc2 && b >= 0x80 && b <= 0x9f) return false;
  }
  return true;
}

void check_printed(std::string_view text) {
  FUZZ_CHECK(terminal_safe(client::printable(text)));
}

std::optional<std::uint16_t> reference_port(const protocol::Message& answer) {
  if (!answer.is("OPENED") || !answer.argument) return std::nullopt;
  const std::string& text = *answer.argument;
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value < 1 || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

void check_listing(std::string_view body) {
  const client::Listing listing = client::parse_listing(body);
  if (!listing.ok()) {
    FUZZ_CHECK(listing.entries.empty() || !listing.error.empty());
    check_printed(listing.error);
    FUZZ_CHECK(terminal_safe(listing.error));  // already made printable by parse_listing
    return;
  }
  std::size_t lines = 0;
  for (const char c : body)
    lines += c == '\n' ? 1 : 0;
  FUZZ_CHECK(listing.entries.size() == lines);
  for (const auto& entry : listing.entries) {
    const std::string line = protocol::format_entry(entry);
    const auto parsed = protocol::parse_entry(std::string_view(line).substr(0, line.size() - 1));
    FUZZ_CHECK(parsed && parsed->name == entry.name && parsed->size == entry.size &&
               parsed->mtime == entry.mtime && parsed->type == entry.type);
  }
  const std::string table = client::format_listing(listing.entries);
  std::size_t table_lines = 0;
  std::string_view rest = table;
  while (!rest.empty()) {
    const std::size_t lf = rest.find('\n');
    FUZZ_CHECK(lf != std::string_view::npos);
    FUZZ_CHECK(terminal_safe(rest.substr(0, lf)));
    rest.remove_prefix(lf + 1);
    ++table_lines;
  }
  FUZZ_CHECK(table_lines == listing.entries.size());
}

// One answer head as the client handles it; false when the client would stop reading.
bool handle_answer(int fd, std::string& buffer) {
  std::string head;
  try {
    head = net::read_head(fd, buffer, kTimeout);
  } catch (const net::NetError& e) {
    FUZZ_CHECK(e.kind() == net::ErrorKind::protocol || e.kind() == net::ErrorKind::closed);
    check_printed(e.what());
    return false;
  }
  FUZZ_CHECK(!head.empty() && head.size() <= protocol::kMaxHeadBytes);
  const auto end = protocol::find_head_end(head, protocol::kMaxHeadBytes);
  FUZZ_CHECK(end.state == protocol::HeadEnd::State::complete && end.length == head.size());

  protocol::Message answer;
  try {
    answer = ferry::cli::parse_answer(head);
  } catch (const ferry::cli::ServerError& e) {
    check_printed(e.what());
    return true;  // an ERROR answer: the control connection goes on
  } catch (const net::NetError& e) {
    FUZZ_CHECK(e.kind() == net::ErrorKind::protocol);
    check_printed(e.what());
    return false;
  }
  FUZZ_CHECK(!answer.is("ERROR"));

  const auto port = client::opened_port(answer);
  FUZZ_CHECK(port == reference_port(answer));

  if (answer.is("OK")) {
    if (const std::string* size = answer.header("FILESIZE")) {
      FUZZ_CHECK(protocol::parse_file_size(*size).has_value());
    }
    // As `ls` does: what followed the head, then everything until the close, is the body.
    std::string body = buffer;
    char chunk[4096];
    try {
      for (;;) {
        const std::size_t n = net::read_some(fd, chunk, sizeof chunk, kTimeout);
        if (n == 0) break;
        body.append(chunk, n);
      }
    } catch (const net::NetError&) {
      FUZZ_CHECK(false);  // a closed socket pair reads as an end, never an error
    }
    check_listing(body);
    return false;
  }
  if (!port) {
    try {
      ferry::cli::throw_unexpected(answer, "OPENED <port>");
    } catch (const net::NetError& e) {
      check_printed(e.what());
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > kMaxInput) return 0;
  int pair[2];
  FUZZ_CHECK(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) == 0);
  ferry::fs::Fd client_end(pair[0]);
  {
    ferry::fs::Fd server_end(pair[1]);
    const int buffer_size = 1 << 20;
    ::setsockopt(server_end.get(), SOL_SOCKET, SO_SNDBUF, &buffer_size, sizeof buffer_size);
    std::size_t sent = 0;
    while (sent < size) {
      const ssize_t n = ::send(server_end.get(), data + sent, size - sent, MSG_NOSIGNAL);
      if (n <= 0) break;  // the pair is full: the rest is dropped
      sent += static_cast<std::size_t>(n);
    }
  }  // the server closes

  std::string buffer;
  for (int answers = 0; answers < 64; ++answers) {
    if (!handle_answer(client_end.get(), buffer)) break;
  }
  return 0;
}
