#pragma once

// The prompt's history across runs: read at start, each line appended as it is entered
// (a killed client keeps what it had), cut to the last kHistoryLines at the end. Only the
// interactive prompt has one; -c and scripts never touch it.

#include <string>

namespace ferry::cli {

class PromptHistory {
 public:
  static constexpr int kHistoryLines = 1000;

  PromptHistory();  // finds and reads the file; without one, history lasts for this run
  ~PromptHistory();
  PromptHistory(const PromptHistory&) = delete;
  PromptHistory& operator=(const PromptHistory&) = delete;

  void add(const std::string& line);

 private:
  std::string path_;  // empty: no history file
};

}  // namespace ferry::cli
