#!/usr/bin/env bash
# ctest in a sanitizer build dir, failing when any sanitizer reported anything.
# Usage: scripts/ctest-sanitized.sh BUILD_DIR JOBS
# The e2e tests run ferryd and ferry as child processes and keep their stderr to themselves,
# so a report there could pass unseen; each sanitizer writes its reports to files under
# BUILD_DIR/sanitizer-reports/ instead (log_path), and any such file fails the run.
set -euo pipefail
build=$(cd "$1" && pwd)
jobs=${2:-2}
reports=$build/sanitizer-reports
rm -rf "$reports"
mkdir -p "$reports"
export ASAN_OPTIONS="log_path=$reports/asan${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export TSAN_OPTIONS="log_path=$reports/tsan:second_deadlock_stack=1${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
export FERRY_SANITIZED=1  # tests skip what instrumentation makes meaningless (RSS)
status=0
(cd "$build" && ctest --output-on-failure -j "$jobs") || status=$?
found=$(find "$reports" -type f | sort)
if [ -n "$found" ]; then
  for f in $found; do echo "=== $f"; cat "$f"; done
  echo "sanitizer reports above: $(echo "$found" | wc -l) file(s)" >&2
  exit 1
fi
exit $status
