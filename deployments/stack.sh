#!/usr/bin/env bash
# A local Prefect stack for this project: server on loopback, process work pool, both deployments,
# one worker. State and logs live in .stack/ (PREFECT_HOME included), so nothing global is touched.
#   deployments/stack.sh up      start everything (idempotent)
#   deployments/stack.sh down    stop the worker and the server
#   deployments/stack.sh status  what is running
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${SEGMENTS_PREFECT_PORT:-4200}"
POOL="segments"
STACK="$PWD/.stack"
export PREFECT_HOME="$STACK/prefect"
export PREFECT_API_URL="http://127.0.0.1:$PORT/api"
export PREFECT_UI_API_URL="$PREFECT_API_URL"
export PREFECT_SERVER_ANALYTICS_ENABLED=false
export PREFECT_SERVER_API_HOST=127.0.0.1
export PREFECT_SERVER_API_PORT="$PORT"
PREFECT="${PREFECT:-.venv/bin/prefect}"

# a pid file is trusted only if that process is still a prefect process (pids are reused after a reboot)
running() {
  [ -f "$STACK/$1.pid" ] || return 1
  local pid; pid=$(cat "$STACK/$1.pid")
  kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q prefect
}

wait_healthy() {
  for _ in $(seq 1 120); do
    if curl -fsS "$PREFECT_API_URL/health" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  echo "Prefect server did not answer on $PREFECT_API_URL/health within 120 s; see $STACK/server.log" >&2
  return 1
}

up() {
  mkdir -p "$STACK"
  if running server; then
    echo "server already running (pid $(cat "$STACK/server.pid"))"
  else
    # each in its own process group, so that `down` stops its children (uvicorn, flow runs) too
    nohup setsid "$PREFECT" server start --host 127.0.0.1 --port "$PORT" >"$STACK/server.log" 2>&1 &
    echo $! >"$STACK/server.pid"
  fi
  wait_healthy
  "$PREFECT" work-pool inspect "$POOL" >/dev/null 2>&1 || "$PREFECT" work-pool create "$POOL" --type process
  "$PREFECT" --no-prompt deploy --all --prefect-file deployments/prefect.yaml
  if running worker; then
    echo "worker already running (pid $(cat "$STACK/worker.pid"))"
  else
    nohup setsid "$PREFECT" worker start --pool "$POOL" >"$STACK/worker.log" 2>&1 &
    echo $! >"$STACK/worker.pid"
  fi
  echo "Prefect UI: http://127.0.0.1:$PORT  (API $PREFECT_API_URL); logs in $STACK/"
}

down() {
  for name in worker server; do
    if running "$name"; then
      kill -- -"$(cat "$STACK/$name.pid")" 2>/dev/null || kill "$(cat "$STACK/$name.pid")"
      echo "stopped $name"
    fi
    rm -f "$STACK/$name.pid"
  done
}

status() {
  for name in server worker; do
    if running "$name"; then echo "$name: running (pid $(cat "$STACK/$name.pid"))"; else echo "$name: stopped"; fi
  done
}

"${1:-up}"
