// The request parser: every verb of both connections, and every way a head is no request.

#include "ferry/protocol/requests.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "ferry/protocol/message.hpp"

namespace ferry::protocol {
namespace {

Message head(std::string_view text) {
  ParseResult parsed = parse_head(text);
  EXPECT_TRUE(parsed.ok()) << parsed.error;
  return parsed.message;
}

template <class Alternative>
Alternative control(std::string_view text) {
  const auto parsed = parse_control_request(head(text));
  EXPECT_TRUE(parsed.ok()) << (parsed.failure() ? parsed.failure()->error.text : "");
  const ControlRequest* request = parsed.request();
  if (request == nullptr || !std::holds_alternative<Alternative>(*request)) {
    ADD_FAILURE() << "not the expected request: " << text;
    return {};
  }
  return std::get<Alternative>(*request);
}

template <class Alternative>
Alternative transfer(std::string_view text) {
  const auto parsed = parse_transfer_request(head(text));
  EXPECT_TRUE(parsed.ok()) << (parsed.failure() ? parsed.failure()->error.text : "");
  const TransferRequest* request = parsed.request();
  if (request == nullptr || !std::holds_alternative<Alternative>(*request)) {
    ADD_FAILURE() << "not the expected request: " << text;
    return {};
  }
  return std::get<Alternative>(*request);
}

RequestFailure control_failure(std::string_view text) {
  const auto parsed = parse_control_request(head(text));
  EXPECT_FALSE(parsed.ok()) << text;
  return parsed.failure() ? *parsed.failure() : RequestFailure{};
}

RequestFailure transfer_failure(std::string_view text) {
  const auto parsed = parse_transfer_request(head(text));
  EXPECT_FALSE(parsed.ok()) << text;
  return parsed.failure() ? *parsed.failure() : RequestFailure{};
}

// ---------------------------------------------------------------- transfer connection

TEST(TransferRequests, Get) {
  EXPECT_EQ(transfer<Get>("GET\nFILENAME: a b.txt\n\n").path, "a b.txt");
  EXPECT_EQ(transfer<Get>("get\r\nfilename: x\r\n\r\n").path, "x");
  EXPECT_EQ(transfer<Get>("GET\nFILENAME: bad\\xff\nESCAPED: yes\n\n").path, "bad\xff");
  EXPECT_EQ(transfer<Get>("GET\nFILENAME: back\\slash\n\n").path, "back\\slash");
}

TEST(TransferRequests, Put) {
  const Put put = transfer<Put>("PUT\nFILENAME: a.txt\nFILESIZE: 12\n\n");
  EXPECT_EQ(put.path, "a.txt");
  EXPECT_EQ(put.size, 12u);
  EXPECT_EQ(transfer<Put>("PUT\nFILENAME: a\nFILESIZE: 9223372036854775807\n\n").size,
            9223372036854775807u);
}

TEST(TransferRequests, Ls) {
  EXPECT_EQ(transfer<Ls>("LS\n\n").path, "");
  EXPECT_EQ(transfer<Ls>("LS \n\n").path, "");
  EXPECT_EQ(transfer<Ls>("LS my photos\n\n").path, "my photos");
  EXPECT_EQ(transfer<Ls>("LS a\\nb\nESCAPED: yes\n\n").path, "a\nb");
}

TEST(TransferRequests, Failures) {
  RequestFailure f = transfer_failure("GET\n\n");
  EXPECT_EQ(f.error.text, "GET needs a FILENAME header");
  EXPECT_EQ(f.error.kind, ErrorKind::malformed);
  EXPECT_EQ(f.verb, "GET");
  EXPECT_EQ(transfer_failure("get\nFILENAME:\n\n").error.text, "get needs a FILENAME header");
  EXPECT_EQ(transfer_failure("PUT\nFILESIZE: 1\n\n").error.text, "PUT needs a FILENAME header");
  f = transfer_failure("PUT\nFILENAME: a\n\n");
  EXPECT_EQ(f.error.text, "PUT needs a FILESIZE header");
  EXPECT_EQ(f.path, "a");
  f = transfer_failure("GET\nFILENAME: a\\q\nESCAPED: yes\n\n");
  EXPECT_EQ(f.error.text, "malformed escape in path: a\\q");
  EXPECT_EQ(f.path, "a\\\\q");  // as received, escaped for the log
  EXPECT_EQ(transfer_failure("LS x\nESCAPED: maybe\n\n").error.text,
            "bad ESCAPED value: maybe (expected yes or no)");
  f = transfer_failure("OPEN 0\n\n");
  EXPECT_EQ(f.error.text, "unknown command: OPEN");
  EXPECT_EQ(f.error.kind, ErrorKind::unknown_command);
  EXPECT_TRUE(f.verb.empty());
  EXPECT_EQ(transfer_failure("MKDIR x\n\n").error.text, "unknown command: MKDIR");
}

TEST(TransferRequests, MalformedFileSizeIsRefusedEvenWithoutTheHeadCheck) {
  Message message;
  message.verb = "PUT";
  message.headers = {{"FILENAME", "a"}, {"FILESIZE", "-1"}};
  const auto parsed = parse_transfer_request(message);
  ASSERT_NE(parsed.failure(), nullptr);
  EXPECT_EQ(parsed.failure()->error.text, "malformed FILESIZE: -1");
}

// ---------------------------------------------------------------- control connection

TEST(ControlRequests, OpenQuitFeatures) {
  EXPECT_EQ(control<Open>("OPEN\n\n").port, 0);
  EXPECT_EQ(control<Open>("OPEN \n\n").port, 0);
  EXPECT_EQ(control<Open>("OPEN 0\n\n").port, 0);
  EXPECT_EQ(control<Open>("open 40123\n\n").port, 40123);
  EXPECT_EQ(control<Open>("OPEN 65535\n\n").port, 65535);
  control<Quit>("QUIT\n\n");
  control<Quit>("quit now\n\n");
  control<Features>("FEATURES\n\n");
  control<Features>("features\r\n\r\n");
}

TEST(ControlRequests, BadPorts) {
  for (const std::string_view port : {"65536", "99999", "-1", "abc", "12 34", "0x50", "123456"}) {
    const RequestFailure f = control_failure("OPEN " + std::string(port) + "\n\n");
    EXPECT_EQ(f.error.text,
              "bad port: " + std::string(port) + " (expected a number from 0 to 65535)");
    EXPECT_EQ(f.verb, "OPEN");
  }
}

TEST(ControlRequests, OpenAsksForATokenWithTokenYes) {
  EXPECT_FALSE(control<Open>("OPEN 0\n\n").with_token);
  EXPECT_TRUE(control<Open>("OPEN 0\nTOKEN: yes\n\n").with_token);
  EXPECT_TRUE(control<Open>("OPEN 40123\ntoken: yes\n\n").with_token);
  const RequestFailure f = control_failure("OPEN 0\nTOKEN: no\n\n");
  EXPECT_EQ(f.error.text, "bad TOKEN header: no (expected yes)");
}

TEST(ControlRequests, LoginTakesUserAndPasswordAsTheyAre) {
  const Login login = control<Login>("LOGIN\nUSER: alice\nPASSWORD: correct horse \n\n");
  EXPECT_TRUE(login.well_formed);
  EXPECT_EQ(login.user, "alice");
  EXPECT_EQ(login.password, "correct horse ");  // trailing spaces kept, as for any value
  // Not escaped, matched case-insensitively, headers in any order, unknown ones ignored.
  const Login other = control<Login>("login\npassword:a\\x41\nX-Y: z\nuser: bob\n\n");
  EXPECT_TRUE(other.well_formed);
  EXPECT_EQ(other.user, "bob");
  EXPECT_EQ(other.password, "a\\x41");
  EXPECT_TRUE(control<Login>("LOGIN\nUSER: alice\nPASSWORD:\n\n").well_formed);
  EXPECT_FALSE(changes_files(ControlRequest{Login{}}));
  EXPECT_EQ(verb_of(ControlRequest{Login{}}), "LOGIN");
}

TEST(ControlRequests, AMalformedLoginIsStillALoginNeverAFailure) {
  // Whatever is wrong, the session answers `login failed` after the same check: the parser
  // never answers for it.
  for (const std::string_view text :
       {"LOGIN\n\n", "LOGIN\nUSER: alice\n\n", "LOGIN\nPASSWORD: x\n\n",
        "LOGIN\nUSER:\nPASSWORD: x\n\n", "LOGIN alice\nUSER: alice\nPASSWORD: x\n\n"}) {
    EXPECT_FALSE(control<Login>(text).well_formed) << text;
  }
  // `LOGIN ` (verb, space, nothing) has an empty argument, the same as none.
  EXPECT_TRUE(control<Login>("LOGIN \nUSER: alice\nPASSWORD: x\n\n").well_formed);
  const Login partial = control<Login>("LOGIN\nPASSWORD: secret\n\n");
  EXPECT_EQ(partial.user, "");
  EXPECT_EQ(partial.password, "secret");
}

TEST(ControlRequests, PathRequests) {
  EXPECT_EQ(control<Stat>("STAT docs/a.txt\n\n").path, "docs/a.txt");
  EXPECT_EQ(control<Stat>("STAT\n\n").path, "");
  EXPECT_EQ(control<Stat>("STAT link to a\n\n").path, "link to a");
  EXPECT_EQ(control<Mkdir>("MKDIR photos/2026\n\n").path, "photos/2026");
  EXPECT_EQ(control<Rmdir>("rmdir photos\n\n").path, "photos");
  EXPECT_EQ(control<Delete>("DELETE hello.txt\n\n").path, "hello.txt");
  EXPECT_EQ(control<Delete>("DELETE a\\tb\\xff\nESCAPED: yes\n\n").path, "a\tb\xff");
  EXPECT_EQ(control<Delete>("DELETE a\\tb\nESCAPED: no\n\n").path, "a\\tb");
  EXPECT_EQ(control<Mkdir>("MKDIR  lead\n\n").path, " lead");  // the argument is kept whole
}

TEST(ControlRequests, Rename) {
  Rename r = control<Rename>("RENAME\nFROM: a.txt\nTO: docs/b.txt\n\n");
  EXPECT_EQ(r.from, "a.txt");
  EXPECT_EQ(r.to, "docs/b.txt");
  EXPECT_FALSE(r.overwrite);
  r = control<Rename>("rename\nfrom: c\nto: d\noverwrite: yes\n\n");
  EXPECT_TRUE(r.overwrite);
  EXPECT_FALSE(control<Rename>("RENAME\nFROM: c\nTO: d\nOVERWRITE: no\n\n").overwrite);
  r = control<Rename>("RENAME\nFROM: a\\nb\nTO: c\\\\d\nESCAPED: yes\n\n");
  EXPECT_EQ(r.from, "a\nb");
  EXPECT_EQ(r.to, "c\\d");
}

TEST(ControlRequests, Failures) {
  EXPECT_EQ(control_failure("RENAME\n\n").error.text, "RENAME needs FROM and TO headers");
  EXPECT_EQ(control_failure("RENAME\nFROM: a\n\n").error.text, "RENAME needs FROM and TO headers");
  EXPECT_EQ(control_failure("RENAME\nTO: a\n\n").error.text, "RENAME needs FROM and TO headers");
  EXPECT_EQ(control_failure("RENAME\nFROM: a\nTO: b\nOVERWRITE: 1\n\n").error.text,
            "bad OVERWRITE value: 1 (expected yes or no)");
  EXPECT_EQ(control_failure("RENAME\nFROM: a\\q\nTO: b\nESCAPED: yes\n\n").error.text,
            "malformed escape in path: a\\q");
  EXPECT_EQ(control_failure("RENAME\nFROM: a\nTO: b\\\nESCAPED: yes\n\n").error.text,
            "malformed escape in path: b\\");
  const RequestFailure f = control_failure("MKDIR x\\\nESCAPED: yes\n\n");
  EXPECT_EQ(f.error.text, "malformed escape in path: x\\");
  EXPECT_EQ(f.error.kind, ErrorKind::malformed);
  EXPECT_EQ(f.verb, "MKDIR");
  EXPECT_EQ(control_failure("STAT x\nESCAPED: YES\n\n").error.text,
            "bad ESCAPED value: YES (expected yes or no)");
  for (const std::string_view verb : {"GET", "PUT", "LS", "LIST", "FOO"}) {
    const RequestFailure unknown = control_failure(std::string(verb) + "\nFILENAME: x\n\n");
    EXPECT_EQ(unknown.error.text, "unknown command: " + std::string(verb));
    EXPECT_EQ(unknown.error.kind, ErrorKind::unknown_command);
  }
  EXPECT_EQ(control_failure("list\n\n").error.text, "unknown command: list");
}

TEST(Requests, VerbsAndWhatChangesFiles) {
  EXPECT_EQ(verb_of(ControlRequest{Mkdir{"a"}}), "MKDIR");
  EXPECT_EQ(verb_of(TransferRequest{Ls{}}), "LS");
  EXPECT_TRUE(changes_files(TransferRequest{Put{}}));
  EXPECT_FALSE(changes_files(TransferRequest{Get{}}));
  EXPECT_FALSE(changes_files(TransferRequest{Ls{}}));
  for (const ControlRequest& changing : {ControlRequest{Mkdir{}}, ControlRequest{Rmdir{}},
                                         ControlRequest{Delete{}}, ControlRequest{Rename{}}}) {
    EXPECT_TRUE(changes_files(changing)) << verb_of(changing);
  }
  for (const ControlRequest& reading : {ControlRequest{Open{}}, ControlRequest{Quit{}},
                                        ControlRequest{Features{}}, ControlRequest{Stat{}}}) {
    EXPECT_FALSE(changes_files(reading)) << verb_of(reading);
  }
}

}  // namespace
}  // namespace ferry::protocol
