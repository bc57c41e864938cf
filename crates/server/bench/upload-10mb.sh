#!/usr/bin/env bash
# A 10 MB upload through the real (optimised) server: throughput, and how much its resident memory
# grows. Build first: cargo build --profile server -p helpdesk-server. Only talks to 127.0.0.1.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
BIN=${BIN:-$ROOT/target/server/helpdesk-server}
PORT=${PORT:-18093}
RUNS=${RUNS:-8}
WORK=$(mktemp -d)
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
HELPDESK_DEMO=1 HELPDESK_DATA_DIR=$WORK/data HELPDESK_BIND=127.0.0.1:$PORT HELPDESK_SMTP_BIND=off \
  RUST_LOG=warn "$BIN" serve >"$WORK/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.1; done
API=http://127.0.0.1:$PORT/api/v1
TOKEN=$(curl -sf -H 'content-type: application/json' -d '{"email":"demo@example.it","password":"demo-password"}' \
  "$API/session" | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')
python3 - "$WORK" <<'PY'
import os, sys
w = sys.argv[1]
line = b'2024-05-02 10:00:01 [error] PHP Fatal error: Allowed memory size exhausted in /var/www/index.php\n'
open(f'{w}/big.log', 'wb').write((line * (10_000_000 // len(line) + 1))[:10_000_000])
open(f'{w}/big.png', 'wb').write(b'\x89PNG\r\n\x1a\n' + os.urandom(10_000_000 - 8))
open(f'{w}/over.txt', 'wb').write(b'a' * 11_000_000)
open(f'{w}/small.txt', 'wb').write(b'piccolo\n')
PY
mem() { grep -E 'VmRSS|VmHWM' "/proc/$PID/status" | tr -s ' \t' ' ' | tr '\n' ' '; }
up() { curl -s -o "$WORK/resp.json" -H "authorization: Bearer $TOKEN" "$@" "$API/uploads"; }
up -F "file=@$WORK/small.txt" # warm-up: pools and caches exist before the baseline
echo "baseline: $(mem)"
for i in $(seq 1 "$RUNS"); do
  f=$([ $((i % 2)) -eq 1 ] && echo big.log || echo big.png)
  up -w "$f: HTTP %{http_code}, %{size_upload} bytes in %{time_total} s = %{speed_upload} B/s | " -F "file=@$WORK/$f"
  echo "$(mem)"
done
up -w "11 MB (Content-Length): HTTP %{http_code} in %{time_total} s | " -F "file=@$WORK/over.txt"; echo "$(mem)"
up -w "11 MB (chunked): HTTP %{http_code} in %{time_total} s | " -H 'Transfer-Encoding: chunked' -F "file=@$WORK/over.txt"
echo "$(mem)"
echo "files kept: $(ls "$WORK/data/files" | wc -l) (1 warm-up + $RUNS)"
