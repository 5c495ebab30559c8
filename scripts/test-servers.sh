#!/usr/bin/env bash
# Starts (or stops) the local servers of rapport's server-backed tests, all on 127.0.0.1:
# a real Bluesky PDS (@atproto/pds + in-memory PLC), oauth2-mock-server in STRICT mode, and
# mastodon-mock (pip, pinned by tests/servers/requirements.txt).
# Versions are pinned by tests/servers/package-lock.json (Node 20 + npm).
#
#   eval "$(scripts/test-servers.sh start)"   # installs if needed, prints `export VAR=…` lines
#   scripts/test-servers.sh stop              # stops what `start` started (by PID)
#
# Owns only tests/servers/ and its own PID/log files; never touches the user's rapport data.
set -euo pipefail
cd "$(dirname "$0")/../tests/servers"
RUN_DIR=${RAPPORT_TEST_SERVERS_DIR:-${TMPDIR:-/tmp}/rapport-test-servers}
mkdir -p "$RUN_DIR"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

wait_ready() { # log-file name seconds
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    if grep -q '"ready":true' "$1" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "test-servers: $2 did not start in $3 s; its log:" >&2
  cat "$1" >&2
  return 1
}

case "${1:-start}" in
start)
  command -v node >/dev/null || { echo "test-servers: node is not installed" >&2; exit 1; }
  if [ ! -d node_modules/@atproto/pds ] || [ ! -d node_modules/oauth2-mock-server ]; then
    t0=$(date +%s)
    npm ci --no-audit --no-fund >"$RUN_DIR/npm.log" 2>&1 || { cat "$RUN_DIR/npm.log" >&2; exit 1; }
    echo "test-servers: npm ci took $(($(date +%s) - t0)) s" >&2
  fi
  if [ ! -x venv/bin/mastodon_mock ]; then
    t0=$(date +%s)
    { python3 -m venv venv && venv/bin/pip install --no-input -q -r requirements.txt; } \
      >"$RUN_DIR/pip.log" 2>&1 || { cat "$RUN_DIR/pip.log" >&2; exit 1; }
    echo "test-servers: pip install took $(($(date +%s) - t0)) s" >&2
  fi
  PLC_PORT=$(free_port); PDS_PORT=$(free_port); OAUTH_PORT=$(free_port); MASTODON_PORT=$(free_port)
  DATA_DIR=$(mktemp -d "$RUN_DIR/pds-data-XXXXXX")
  PLC_PORT=$PLC_PORT PDS_PORT=$PDS_PORT DATA_DIR=$DATA_DIR \
    nohup node start-pds.js >"$RUN_DIR/pds.log" 2>&1 </dev/null &
  echo $! >"$RUN_DIR/pds.pid"
  PORT=$OAUTH_PORT STRICT=1 nohup node start-oauth.mjs >"$RUN_DIR/oauth.log" 2>&1 </dev/null &
  echo $! >"$RUN_DIR/oauth.pid"
  nohup venv/bin/mastodon_mock serve --host 127.0.0.1 --port "$MASTODON_PORT" --in-memory \
    --domain "127.0.0.1:$MASTODON_PORT" --log-level warning >"$RUN_DIR/mastodon.log" 2>&1 </dev/null &
  echo $! >"$RUN_DIR/mastodon.pid"
  t0=$(date +%s)
  for ((i = 0; i < 300; i++)); do
    python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$MASTODON_PORT/api/v1/instance', timeout=1)" 2>/dev/null && break
    sleep 0.1
  done
  python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$MASTODON_PORT/api/v1/instance', timeout=1)" 2>/dev/null \
    || { echo "test-servers: mastodon-mock did not start; its log:" >&2; cat "$RUN_DIR/mastodon.log" >&2; exit 1; }
  wait_ready "$RUN_DIR/pds.log" "the Bluesky PDS" 60
  wait_ready "$RUN_DIR/oauth.log" "oauth2-mock-server" 30
  echo "test-servers: ready in $(($(date +%s) - t0)) s (PDS :$PDS_PORT, OAuth :$OAUTH_PORT)" >&2
  echo "export RAPPORT_TEST_PDS_URL=http://127.0.0.1:$PDS_PORT"
  echo "export RAPPORT_TEST_OAUTH_URL=http://127.0.0.1:$OAUTH_PORT"
  echo "export RAPPORT_TEST_MASTODON_URL=http://127.0.0.1:$MASTODON_PORT"
  ;;
stop)
  for name in pds oauth mastodon; do
    if [ -f "$RUN_DIR/$name.pid" ]; then
      kill "$(cat "$RUN_DIR/$name.pid")" 2>/dev/null || true
      rm -f "$RUN_DIR/$name.pid"
    fi
  done
  ;;
*)
  echo "usage: $0 start|stop" >&2
  exit 2
  ;;
esac
