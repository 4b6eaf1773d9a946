#include "manage_requests.hpp"

#include <fmt/format.h>

#include <vector>

#include "ferry/fs/manage.hpp"
#include "ferry/fs/request_error.hpp"
#include "ferry/protocol/escape.hpp"
#include "ferry/protocol/listing.hpp"
#include "ferry/protocol/message.hpp"

namespace ferryd {
namespace {

namespace fs = ferry::fs;
namespace protocol = ferry::protocol;

constexpr int kProtocolVersion = 2;

std::string quoted(std::string_view path) {
  return fmt::format("\"{}\"", protocol::escape_visible(path));
}

ManageAnswer ok(std::string answer = protocol::format_message("OK")) {
  return ManageAnswer{std::move(answer), {}};
}

ManageAnswer failed(const protocol::Error& error) {
  return ManageAnswer{protocol::render(error), error.text};
}

// A request that changes one path: `OK`, or the error about that path.
ManageAnswer changed(std::string_view path, const fs::SysError& error) {
  if (error.code == 0) return ok();
  return failed(fs::request_error(error, path));
}

std::string stat_answer(const fs::EntryStatus& status) {
  std::vector<protocol::Header> headers{
      {"TYPE", std::string(1, status.type)},
      {"SIZE", std::to_string(status.size)},
      {"MTIME", protocol::format_utc(status.mtime)},
      {"MODE", fmt::format("{:o}", status.mode)},
  };
  if (status.type == 'l') headers.push_back({"TARGET", protocol::escape(status.link_target)});
  return protocol::format_message("OK", headers);
}

// One row per request: the overloads std::visit picks from.
struct Handlers {
  const fs::Fd& root;

  ManageAnswer operator()(const protocol::Stat& request) const {
    auto status = fs::stat_entry(root, request.path);
    if (!status) return failed(fs::request_error(status.error(), request.path));
    return ok(stat_answer(*status));
  }
  ManageAnswer operator()(const protocol::Mkdir& request) const {
    return changed(request.path, fs::make_directory(root, request.path));
  }
  ManageAnswer operator()(const protocol::Rmdir& request) const {
    return changed(request.path, fs::remove_directory(root, request.path));
  }
  ManageAnswer operator()(const protocol::Delete& request) const {
    return changed(request.path, fs::remove_file(root, request.path));
  }
  ManageAnswer operator()(const protocol::Rename& request) const {
    const fs::RenameError result =
        fs::rename_entry(root, request.from, request.to, request.overwrite);
    if (result.error.code == 0) return ok();
    return failed(fs::request_error(result.error, result.about_to ? request.to : request.from));
  }
};

}  // namespace

std::string describe(const ManageRequest& request) {
  if (const auto* rename = std::get_if<protocol::Rename>(&request)) {
    return fmt::format("RENAME {} to {}{}", quoted(rename->from), quoted(rename->to),
                       rename->overwrite ? " (overwrite)" : "");
  }
  return std::visit(
      [](const auto& r) -> std::string {
        if constexpr (requires { r.path; }) {
          return fmt::format("{} {}", std::decay_t<decltype(r)>::kVerb, quoted(r.path));
        } else {
          return std::string(std::decay_t<decltype(r)>::kVerb);
        }
      },
      request);
}

ManageAnswer answer_manage_request(const SessionContext& context, const ManageRequest& request) {
  return std::visit(Handlers{*context.root}, request);
}

std::string features_answer(bool login_required) {
  std::vector<protocol::Header> headers{{"VERSION", std::to_string(kProtocolVersion)},
                                        {"TOKENS", "yes"}};
  if (login_required) headers.push_back({"LOGIN", "required"});
  return protocol::format_message("OK", headers);
}

}  // namespace ferryd
