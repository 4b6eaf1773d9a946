#!/usr/bin/env bash
# Runs each libFuzzer target for a set time on its checked-in seed corpus and prints, per
# target, executions per second and the coverage reached (libFuzzer's final cov/ft).
#
#   fuzz/run.sh BUILD_DIR SECONDS keep|fresh TARGET...
#
# keep:  new inputs go to BUILD_DIR/corpus/TARGET and are reused by the next run (make fuzz).
# fresh: they go to a directory emptied first, so every run starts from fuzz/corpus alone
#        (make fuzz-smoke, CI).
# fuzz/corpus/TARGET itself is only read; fuzz/TARGET.dict, when there is one, is the
# libFuzzer dictionary. A crash or a violated property stops that target with libFuzzer's
# report; its input is saved as BUILD_DIR/artifacts/TARGET-crash-<sha1> and the script
# exits 1 after running the others.
set -uo pipefail

if [ $# -lt 4 ]; then
  echo "usage: $0 BUILD_DIR SECONDS keep|fresh TARGET..." >&2
  exit 2
fi
build=$1 seconds=$2 mode=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)

# Per-target options: heads and answers need room beyond the 8 KiB head limit.
extra_args() {
  case $1 in
    fuzz_message | fuzz_client_answers) echo "-max_len=12288" ;;
    *) echo "-max_len=4096" ;;
  esac
}

failed=()
summary=()
for target in "$@"; do
  binary=$build/fuzz/$target
  seeds=$here/corpus/$target
  work=$build/corpus/$target
  log=$build/logs/$target.log
  if [ ! -x "$binary" ]; then
    echo "$binary is missing: build the fuzz targets first (make fuzz-build)" >&2
    exit 2
  fi
  [ "$mode" = fresh ] && rm -rf "$work"
  mkdir -p "$work" "$build/artifacts" "$build/logs"

  echo "== $target: ${seconds} s, seeds from fuzz/corpus/$target"
  dict=()
  [ -f "$here/$target.dict" ] && dict=(-dict="$here/$target.dict")
  # shellcheck disable=SC2046
  "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$build/artifacts/$target-" $(extra_args "$target") "${dict[@]}" \
    "$work" "$seeds" >"$log" 2>&1
  status=$?

  grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)' "$log" | sed 's/^/   /'
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1)
  [ -n "$done_line" ] || done_line=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$done_line")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$done_line")
  corp=$(sed -n 's/.* corp: \([^ ]*\).*/\1/p' <<<"$done_line")
  if [ $status -ne 0 ]; then
    echo "   FAILED (exit $status): the end of $log follows"
    tail -n 40 "$log" | sed 's/^/   | /'
    failed+=("$target")
    result=FAILED
  else
    result=ok
  fi
  summary+=("$(printf '%-20s %-6s %10s %9s %6s %7s %s' "$target" "$result" "${runs:-?}" \
    "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}")")
done

echo
printf '%-20s %-6s %10s %9s %6s %7s %s\n' target result runs exec/s cov ft corpus
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found problems in: ${failed[*]} (inputs in $build/artifacts/)" >&2
  exit 1
fi
