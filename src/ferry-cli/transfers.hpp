#pragma once

// The three transfers of the seed. Each builds its body, asks for a transfer port with
// `OPEN 0`, connects, sends the body, handles the answer and closes; when at most a MiB is
// left to move (an LS once its OK has come), it asks for the next command's port
// (ControlConnection::prefetch_next). They throw on failure (ServerError, LocalError,
// NetError); the command table prints and counts it. Paths are as sent: relative to the
// served root, already joined to the working directory.

#include <optional>
#include <string>
#include <vector>

#include "client_context.hpp"
#include "ferry/protocol/listing.hpp"

namespace ferry::cli {

std::vector<protocol::Entry> list_remote(ClientContext& context, const std::string& directory);
void get_file(ClientContext& context, const std::string& remote,
              const std::optional<std::string>& local);
void put_file(ClientContext& context, const std::string& local, const std::string& remote);

}  // namespace ferry::cli
