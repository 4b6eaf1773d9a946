#pragma once

// Passwords as Argon2id hashes, through libsodium's crypto_pwhash_str (the salt and the
// costs are in the string). The costs are libsodium's "interactive" ones: 64 MiB and 2
// passes, about 0.1 s on this machine's cores; a login pays them once.

#include <optional>
#include <string>
#include <string_view>

namespace ferryd {

// nullopt when libsodium cannot start or the memory is not to be had.
std::optional<std::string> hash_password(std::string_view password);

// Whether `password` is the one `hash` was made from.
bool verify_password(const std::string& hash, std::string_view password);

// A hash of a random password with the costs (m=, t=) of `model`, an Argon2id string of the
// users file (libsodium's "interactive" costs when it names none): what the password of an
// unknown user is checked against, so that it takes as long as a known user's check.
// nullopt as for hash_password.
std::optional<std::string> dummy_hash_like(std::string_view model);

}  // namespace ferryd
