#include "completion.hpp"

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <readline/readline.h>

#include "commands.hpp"
#include "ferry/client/completion.hpp"
#include "ferry/util/word_quoting.hpp"
#include "ferry/util/words.hpp"
#include "remote_ops.hpp"
#include "transfers.hpp"

namespace ferry::cli {
namespace {

// readline's hooks are plain functions: their state lives here, for the one prompt.
struct CompletionState {
  ClientContext* context = nullptr;
  client::ListingCache cache;
  std::vector<std::string> matches;
  std::size_t next = 0;
};
CompletionState g_completion;

const std::string kQuoteCharacters(util::kSpecialCharacters);

// readline frees what it gets, with free().
char* copy(const std::string& text) {
  return ::strdup(text.c_str());  // NOLINT(cppcoreguidelines-no-malloc)
}

extern "C" char* next_match(const char*, int state) {
  if (state == 0) g_completion.next = 0;
  if (g_completion.next >= g_completion.matches.size()) return nullptr;
  return copy(g_completion.matches[g_completion.next++]);
}

char** offer(const char* text, std::vector<std::string> matches) {
  g_completion.matches = std::move(matches);
  if (g_completion.matches.empty()) return nullptr;
  return rl_completion_matches(text, next_match);
}

std::vector<std::string> command_names(std::string_view prefix) {
  std::vector<std::string> names;
  for (const Command& command : command_table()) {
    std::string_view aliases = command.aliases;
    std::vector<std::string_view> all{command.name};
    while (!aliases.empty()) {
      const std::size_t space = aliases.find(' ');
      all.push_back(aliases.substr(0, space));
      aliases.remove_prefix(space == std::string_view::npos ? aliases.size() : space + 1);
    }
    for (const std::string_view name : all) {
      if (name != "!" && name.starts_with(prefix)) names.emplace_back(name);
    }
  }
  return names;
}

// A remote name is never a local file: readline must not stat it to decide on a `/`.
extern "C" int hide_from_stat(char** name) {
  std::free(*name);  // NOLINT(cppcoreguidelines-no-malloc): readline's allocation
  *name = copy("");
  return 0;
}

const std::vector<protocol::Entry>* listing(const std::string& directory) {
  ClientContext& context = *g_completion.context;
  const auto now = client::ListingCache::Clock::now();
  if (const auto* entries = g_completion.cache.find(directory, now)) return entries;
  context.control.set_deadline(now + context.timeout);
  try {
    auto entries = list_remote(context, directory);
    context.control.set_deadline(std::nullopt);
    g_completion.cache.store(directory, std::move(entries), now);
  } catch (const std::exception&) {
    context.control.set_deadline(std::nullopt);
    return nullptr;
  }
  return g_completion.cache.find(directory, now);
}

char** complete_remote(const char* text) {
  const std::string word =
      util::dequote_partial(text, static_cast<char>(rl_completion_quote_character));
  const std::string directory =
      remote_path(*g_completion.context, client::completion_directory(word));
  const auto* entries = listing(directory);
  if (entries == nullptr) return nullptr;
  auto matches = client::completion_candidates(word, *entries);
  // Quoted and shown as file names are (base names in a list of choices), but not
  // looked up locally; a directory takes a `/` and neither a space nor a closing quote,
  // so that its contents can be completed next.
  rl_filename_completion_desired = 1;
  rl_filename_quoting_desired = 1;
  rl_filename_stat_hook = hide_from_stat;
  if (matches.size() == 1 && matches[0].ends_with('/')) {
    rl_completion_suppress_append = 1;
    rl_completion_suppress_quote = 1;
  }
  return offer(text, std::move(matches));
}

// Which operand (from 0) the word after `words` (the command and what follows it) is.
std::size_t operand_index(const std::vector<std::string>& words) {
  std::size_t index = 0;
  bool options_ended = false;
  for (std::size_t i = 1; i < words.size(); ++i) {
    const std::string& word = words[i];
    if (!options_ended && word == "--") {
      options_ended = true;
    } else if (options_ended || word.size() < 2 || word[0] != '-') {
      ++index;
    }
  }
  return index;
}

extern "C" char** attempt_completion(const char* text, int start, int) {
  rl_attempted_completion_over = 1;  // no fallback to local names unless chosen below
  rl_filename_stat_hook = nullptr;
  std::string_view before(rl_line_buffer, static_cast<std::size_t>(start));
  // A word with an open quote starts after it: the quote is not part of what precedes.
  if (rl_completion_quote_character != 0 &&
      before.ends_with(static_cast<char>(rl_completion_quote_character))) {
    before.remove_suffix(1);
  }
  const std::size_t first = before.find_first_not_of(" \t");
  if (first != std::string_view::npos && before[first] == '!') {
    rl_attempted_completion_over = 0;  // a shell command line: local names
    return nullptr;
  }
  const util::Words split = util::split_words(before);
  if (!split.ok()) return nullptr;
  if (split.words.empty()) return offer(text, command_names(text));
  const Command* command = find_command(split.words[0]);
  if (command == nullptr) return nullptr;
  switch (operand_kind(*command, operand_index(split.words))) {
    case 'c':
      return offer(text, command_names(text));
    case 'l':
      rl_attempted_completion_over = 0;
      return nullptr;
    case 'r':
      return complete_remote(text);
    default:
      return nullptr;
  }
}

// The three hooks have readline's signatures (rl_quote_func_t, rl_dequote_func_t,
// rl_linebuf_func_t), whose pointers are not const.
// NOLINTNEXTLINE(readability-non-const-parameter)
extern "C" char* quote_match(char* text, int match_type, char* quote_pointer) {
  const char quote = quote_pointer == nullptr ? '\0' : *quote_pointer;
  const std::string_view name(text);
  const bool close = match_type == SINGLE_MATCH && !name.ends_with('/');
  return copy(util::quote_word(name, quote, close));
}

// NOLINTNEXTLINE(readability-non-const-parameter)
extern "C" char* dequote_match(char* text, int quote) {
  return copy(util::dequote_partial(text, static_cast<char>(quote)));
}

// NOLINTNEXTLINE(readability-non-const-parameter)
extern "C" int is_quoted(char* line, int index) {
  return util::is_quoted_at(line, static_cast<std::size_t>(index)) ? 1 : 0;
}

}  // namespace

void install_completion(ClientContext& context) {
  g_completion.context = &context;
  rl_attempted_completion_function = attempt_completion;
  rl_completer_word_break_characters = " \t";
  rl_completer_quote_characters = "\"'";
  rl_filename_quote_characters = kQuoteCharacters.c_str();
  rl_filename_quoting_function = quote_match;
  rl_filename_dequoting_function = dequote_match;
  rl_char_is_quoted_p = is_quoted;
}

void forget_completion_listings() {
  g_completion.cache.clear();
}

}  // namespace ferry::cli
