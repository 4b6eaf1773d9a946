#!/usr/bin/env bash
# `make run`: serve a demo folder with ferryd on a free port and open ferry on it.
# The server stops when the client exits. The client runs in a folder of its own,
# $build/demo-client, so that what `get` fetches lands there and not in the checkout.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
demo="$build/demo"
client="$build/demo-client"
log="$build/demo-ferryd.log"

mkdir -p "$client"
[ -e "$client/upload-me.txt" ] || printf 'A file to put.\n' > "$client/upload-me.txt"

mkdir -p "$demo/docs"
[ -e "$demo/hello.txt" ] || printf 'Hello from ferry.\n' > "$demo/hello.txt"
[ -e "$demo/docs/notes with spaces.txt" ] || printf 'A file whose name has spaces.\n' > "$demo/docs/notes with spaces.txt"
[ -e "$demo/random.bin" ] || head -c 1048576 /dev/urandom > "$demo/random.bin"

# Its TLS key and certificate are made once, in the build folder (not in your home).
"$build/ferryd" --bind 127.0.0.1 --root "$demo" --state-dir "$build/demo-state" 0 2> "$log" &
server=$!
trap 'kill -TERM "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT

port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*listening on [^ ]*:\([0-9][0-9]*\)[, ].*/\1/p' "$log" | head -n 1)
  [ -n "$port" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.05
done
[ -n "$port" ] || { echo "ferryd did not start; its log:" >&2; cat "$log" >&2; exit 1; }
fingerprint=$(sed -n 's/.*TLS key fingerprint \(SHA256:[A-Za-z0-9+/]*\).*/\1/p' "$log" | head -n 1)

echo "ferryd serves $demo on port $port (its log: $log)."
echo "ferry runs in $client: what you get lands there."
echo "Its TLS key is $fingerprint: the client checks it (--fingerprint) instead of asking."
echo "Try: ls, get hello.txt, put upload-me.txt, cd docs, lls, help, quit."
cd "$client"
# The demo's known_hosts stays in the build folder too (a new port each run).
XDG_CONFIG_HOME="$build/demo-config" "$build/ferry" --fingerprint "$fingerprint" 127.0.0.1 "$port" || true
