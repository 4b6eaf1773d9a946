// The users file parser (src/ferryd/users_file.hpp). Input: the file's text. Properties:
// - parse_users never crashes; a refusal names a line that exists (1 ≤ line ≤ lines).
// - Every user it accepts has a valid name (refuse_user_name), a valid root
//   (refuse_user_root: relative, no `..`), an Argon2id hash with no ':', and no two users
//   share a name.
// - Written back (format_user, one a line) the users parse to the same users; with_user of
//   an accepted user into the accepted text still parses, to as many users.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_set>

#include "fuzz_check.hpp"
#include "users_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = ferry::fuzz::as_text(data, size);
  const ferryd::UsersParse parsed = ferryd::parse_users(text);
  if (!parsed.ok()) {
    const auto lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
    FUZZ_CHECK(parsed.bad_line >= 1 && parsed.bad_line <= lines);
    FUZZ_CHECK(parsed.users.empty());
    return 0;
  }
  std::unordered_set<std::string> names;
  std::string written;
  for (const ferryd::User& user : parsed.users) {
    FUZZ_CHECK(!ferryd::refuse_user_name(user.name));
    FUZZ_CHECK(!ferryd::refuse_user_root(user.root));
    FUZZ_CHECK(user.password_hash.starts_with("$argon2id$"));
    FUZZ_CHECK(user.password_hash.find(':') == std::string::npos);
    FUZZ_CHECK(names.insert(user.name).second);
    written += ferryd::format_user(user) + '\n';
  }
  const ferryd::UsersParse again = ferryd::parse_users(written);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again.users.size() == parsed.users.size());
  for (std::size_t i = 0; i < again.users.size(); ++i) {
    FUZZ_CHECK(again.users[i].name == parsed.users[i].name);
    FUZZ_CHECK(again.users[i].password_hash == parsed.users[i].password_hash);
    FUZZ_CHECK(again.users[i].root == parsed.users[i].root);
    FUZZ_CHECK(again.users[i].read_only == parsed.users[i].read_only);
  }
  if (!parsed.users.empty()) {
    const ferryd::UsersParse changed =
        ferryd::parse_users(ferryd::with_user(text, parsed.users.front()));
    FUZZ_CHECK(changed.ok());
    FUZZ_CHECK(changed.users.size() == parsed.users.size());
  }
  return 0;
}
