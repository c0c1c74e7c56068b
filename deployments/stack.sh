#!/usr/bin/env bash
# A local Prefect stack for this project: server on loopback, process work pool, the deployments of
# deployments/prefect.yaml, one worker. State and logs live in the stack folder (PREFECT_HOME included),
# so nothing global is touched.
#   deployments/stack.sh up      start everything (idempotent)
#   deployments/stack.sh down    stop every process the stack started, then say "stopped"
#   deployments/stack.sh status  what is really running (processes, and the server's health endpoint)
#
# Environment:
#   SEGMENTS_PREFECT_PORT  server port on 127.0.0.1 (default 4200; `status` and `down` use the port `up` used)
#   SEGMENTS_STACK_DIR     the stack folder: pid files, logs, PREFECT_HOME (default .stack in the repository)
#   SEGMENTS_CONFIG        pipeline config for the worker's flow runs (a path, made absolute here); the
#                          daily refresh reads it when its `config` parameter is empty, before the Prefect
#                          Variable `segments_config` and demo-data/config.yaml (relative to the repository,
#                          the worker's working directory)
#   PREFECT                the prefect executable (default .venv/bin/prefect)
#
# The server and the worker each start in a process group of their own (setsid), recorded in
# <stack>/<name>.pid, and carry SEGMENTS_STACK_PROCESS=<stack>/<name> in their environment, which their
# children inherit: uvicorn, and flow runs, which the worker starts in sessions of their own. `down` sends
# TERM to all of them, waits up to 15 s, sends KILL to what is left, and says "stopped" only when none is
# alive.
set -euo pipefail
caller_dir="$PWD"
cd "$(dirname "$0")/.."

STACK="${SEGMENTS_STACK_DIR:-.stack}"
mkdir -p "$STACK"
STACK="$(cd "$STACK" && pwd)"
PORT="${SEGMENTS_PREFECT_PORT:-$(cat "$STACK/port" 2>/dev/null || echo 4200)}"
POOL="segments"
STOP_SECONDS=15
export PREFECT_HOME="$STACK/prefect"
export PREFECT_API_URL="http://127.0.0.1:$PORT/api"
export PREFECT_UI_API_URL="$PREFECT_API_URL"
export PREFECT_SERVER_ANALYTICS_ENABLED=false
export PREFECT_SERVER_API_HOST=127.0.0.1
export PREFECT_SERVER_API_PORT="$PORT"
PREFECT="${PREFECT:-.venv/bin/prefect}"
BOOT_ID="$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown)"

# The process group recorded for name ("<pgid> <boot id>"), if it was recorded since the last boot.
group() {
  local pgid boot
  [ -f "$STACK/$1.pid" ] || return 1
  read -r pgid boot <"$STACK/$1.pid" || true
  [ -n "$pgid" ] && [ "$boot" = "$BOOT_ID" ] && echo "$pgid"
}

# Live (not zombie) pids started for name: every process carrying its marker (members of its process
# group included: a group id can be reused by an unrelated process group after the leader died, so
# the marker, not the group, decides).
members() {
  local name="$1" marker pid dir
  marker="SEGMENTS_STACK_PROCESS=$STACK/$name"
  {
    for dir in /proc/[0-9]*; do
      grep -qzxF "$marker" "$dir/environ" 2>/dev/null || continue
      pid="${dir#/proc/}"
      [[ "$(ps -o stat= -p "$pid" 2>/dev/null)" == Z* ]] || echo "$pid"
    done
  } | sort -nu
}

# The group leader (the server or worker process itself) is alive.
leader_alive() {
  local pgid
  pgid="$(group "$1")" || return 1
  [ -d "/proc/$pgid" ] && [[ "$(ps -o stat= -p "$pgid" 2>/dev/null)" != Z* ]] &&
    grep -qzxF "SEGMENTS_STACK_PROCESS=$STACK/$1" "/proc/$pgid/environ" 2>/dev/null
}

describe() {
  local pid
  for pid in "$@"; do
    echo "    $pid $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-150)"
  done
}

healthy() { curl -fsS --max-time 3 "$PREFECT_API_URL/health" >/dev/null 2>&1; }

# Start a command in a new session (so a new process group) with the marker of name; record the group.
launch() {
  local name="$1"
  shift
  rm -f "$STACK/$name.pid"
  SEGMENTS_STACK_PROCESS="$STACK/$name" setsid bash -c 'echo "$$ $1" >"$2"; shift 2; exec "$@"' \
    _ "$BOOT_ID" "$STACK/$name.pid" "$@" </dev/null >"$STACK/$name.log" 2>&1 &
  for _ in $(seq 1 50); do
    [ -s "$STACK/$name.pid" ] && return 0
    sleep 0.1
  done
  echo "$name did not start; see $STACK/$name.log" >&2
  return 1
}

wait_healthy() {
  for _ in $(seq 1 120); do
    if ! leader_alive server; then
      echo "the Prefect server exited; the end of $STACK/server.log:" >&2
      tail -20 "$STACK/server.log" >&2
      return 1
    fi
    if healthy; then return 0; fi
    sleep 1
  done
  echo "Prefect server did not answer on $PREFECT_API_URL/health within 120 s; see $STACK/server.log" >&2
  return 1
}

up() {
  if leader_alive server; then
    echo "server already running (pid $(group server))"
  else
    if healthy; then
      echo "something else already answers on $PREFECT_API_URL; set SEGMENTS_PREFECT_PORT to a free port" >&2
      return 1
    fi
    launch server "$PREFECT" server start --host 127.0.0.1 --port "$PORT"
    echo "$PORT" >"$STACK/port"
  fi
  wait_healthy
  "$PREFECT" work-pool inspect "$POOL" >/dev/null 2>&1 || "$PREFECT" work-pool create "$POOL" --type process
  "$PREFECT" --no-prompt deploy --all --prefect-file deployments/prefect.yaml
  if leader_alive worker; then
    echo "worker already running (pid $(group worker))"
  else
    if [ -n "${SEGMENTS_CONFIG:-}" ]; then
      SEGMENTS_CONFIG="$(cd "$caller_dir" && realpath -m "$SEGMENTS_CONFIG")"
      [ -f "$SEGMENTS_CONFIG" ] || echo "warning: SEGMENTS_CONFIG=$SEGMENTS_CONFIG does not exist" >&2
      export SEGMENTS_CONFIG
      echo "worker runs flows with SEGMENTS_CONFIG=$SEGMENTS_CONFIG"
    fi
    launch worker "$PREFECT" worker start --pool "$POOL"
  fi
  echo "Prefect UI: http://127.0.0.1:$PORT  (API $PREFECT_API_URL); logs in $STACK/"
}

# TERM every process of name, wait up to STOP_SECONDS, KILL the rest; "stopped" only when none is left.
stop() {
  local name="$1" pids left
  pids="$(members "$name")"
  if [ -z "$pids" ]; then
    rm -f "$STACK/$name.pid"
    echo "$name: not running"
    return 0
  fi
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null || true
  for _ in $(seq 1 $((STOP_SECONDS * 4))); do
    left="$(members "$name")"
    [ -z "$left" ] && break
    sleep 0.25
  done
  if [ -n "$left" ]; then
    echo "$name: still alive after ${STOP_SECONDS} s, sending KILL to:"
    # shellcheck disable=SC2086
    describe $left
    # shellcheck disable=SC2086
    kill -KILL $left 2>/dev/null || true
    for _ in $(seq 1 20); do
      left="$(members "$name")"
      [ -z "$left" ] && break
      sleep 0.25
    done
  fi
  if [ -n "$left" ]; then
    echo "$name: NOT stopped, still alive after KILL:" >&2
    # shellcheck disable=SC2086
    describe $left >&2
    return 1
  fi
  rm -f "$STACK/$name.pid"
  echo "stopped $name"
}

down() {
  local failed=0
  # the worker first: while it stops, it can still tell the server about its flow runs
  stop worker || failed=1
  stop server || failed=1
  return "$failed"
}

status() {
  local name pid pids others
  for name in server worker; do
    pids="$(members "$name")"
    if leader_alive "$name"; then
      pid="$(group "$name")"
      if [ "$name" = server ]; then
        if healthy; then
          echo "server: running (pid $pid, healthy at $PREFECT_API_URL)"
        else
          echo "server: running (pid $pid) but not answering at $PREFECT_API_URL/health"
        fi
      else
        echo "worker: running (pid $pid)"
      fi
    elif [ -z "$pids" ]; then
      echo "$name: stopped"
      continue
    else
      echo "$name: not running, but processes it started are still alive (deployments/stack.sh down stops them):"
      # shellcheck disable=SC2086
      describe $pids
      continue
    fi
    others="$(grep -vx "$pid" <<<"$pids" || true)"
    if [ -n "$others" ]; then
      echo "  with $(wc -l <<<"$others") more process(es) of its group:"
      # shellcheck disable=SC2086
      describe $others
    fi
  done
}

case "${1:-up}" in
  up | down | status) "${1:-up}" ;;
  *)
    echo "usage: $0 [up|down|status]" >&2
    exit 2
    ;;
esac
