#!/usr/bin/env bash
# A local Prefect stack for this project: server on loopback, process work pool, the deployments of
# deployments/prefect.yaml, one worker. State and logs live in the stack folder (PREFECT_HOME included),
# so nothing global is touched.
#   deployments/stack.sh up      start everything (idempotent)
#   deployments/stack.sh down    stop every process the stack started, then say "stopped"
#   deployments/stack.sh status  what is really running (processes, and the server's health endpoint)
#   deployments/stack.sh up-lake | down-lake | status-lake
#                                the same for a DuckLake warehouse (see README, "Storage backends"): a
#                                PostgreSQL server for the catalog, the Prefect server and two workers, all on
#                                loopback and run with the lake environment (envs/lake/.venv, `make lake-env`)
#
# Environment:
#   SEGMENTS_PREFECT_PORT  server port on 127.0.0.1 (default 4200; `status` and `down` use the port `up` used)
#   SEGMENTS_STACK_DIR     the stack folder: pid files, logs, PREFECT_HOME (default .stack in the repository)
#   SEGMENTS_CONFIG        pipeline config for the worker's flow runs (a path, made absolute here); the
#                          daily refresh reads it when its `config` parameter is empty, before the Prefect
#                          Variable `segments_config` and demo-data/config.yaml (relative to the repository,
#                          the worker's working directory)
#   PREFECT                the prefect executable (default .venv/bin/prefect; envs/lake/.venv/bin/prefect
#                          for the lake stack)
# For the lake stack, also (defaults differ: stack folder .stack-lake, port 4210):
#   SEGMENTS_LAKE_PG_PORT  the catalog's PostgreSQL port on 127.0.0.1 (default 5442)
#   SEGMENTS_LAKE_PG_DIR   the PostgreSQL data and socket folder (default <stack>/pg; it must be reachable by
#                          the postgres user when run as root)
#   SEGMENTS_WORKER_LIMIT  flow runs a worker runs at once (default 1 for the lake stack's workers: runs on
#                          one warehouse queue on its writer lock anyway, so runs started together go one to
#                          each worker; empty means no limit, the file stack's default)
#   SEGMENTS_CONFIG        a lake config; default demo-data/lake.yaml, written from demo-data/config.yaml (make
#                          demo) with its warehouse in the lake (data in demo-data/lake/, catalog database
#                          `lake`) and exports in demo-data/lake-exports/. The workers get the catalog's URI in
#                          SEGMENTS_LAKE_CATALOG (trust authentication on loopback: a local stack only).
#
# The server and the worker each start in a process group of their own (setsid), recorded in
# <stack>/<name>.pid, and carry SEGMENTS_STACK_PROCESS=<stack>/<name> in their environment, which their
# children inherit: uvicorn, and flow runs, which the worker starts in sessions of their own. `down` sends
# TERM to all of them, waits up to 15 s, sends KILL to what is left, and says "stopped" only when none is
# alive.
set -euo pipefail
caller_dir="$PWD"
cd "$(dirname "$0")/.."

COMMAND="${1:-up}"
LAKE=0
WORKERS="worker"
if [[ "$COMMAND" == *-lake ]]; then
  LAKE=1
  WORKERS="worker-1 worker-2"
fi
WORKER_LIMIT="${SEGMENTS_WORKER_LIMIT-$([ "$LAKE" = 1 ] && echo 1 || true)}"
STACK="${SEGMENTS_STACK_DIR:-$([ "$LAKE" = 1 ] && echo .stack-lake || echo .stack)}"
mkdir -p "$STACK"
STACK="$(cd "$STACK" && pwd)"
PORT="${SEGMENTS_PREFECT_PORT:-$(cat "$STACK/port" 2>/dev/null || ([ "$LAKE" = 1 ] && echo 4210 || echo 4200))}"
POOL="segments"
STOP_SECONDS=15
export PREFECT_HOME="$STACK/prefect"
export PREFECT_API_URL="http://127.0.0.1:$PORT/api"
export PREFECT_UI_API_URL="$PREFECT_API_URL"
export PREFECT_SERVER_ANALYTICS_ENABLED=false
export PREFECT_SERVER_API_HOST=127.0.0.1
export PREFECT_SERVER_API_PORT="$PORT"
# flow runs the worker starts send a heartbeat this often (as `segments run` does, flows/console.py); deployments/zombies.py
# crashes a run after three missed, and at least a minute more than Prefect's default beat
export PREFECT_FLOWS_HEARTBEAT_FREQUENCY="${PREFECT_FLOWS_HEARTBEAT_FREQUENCY:-60}"
PREFECT="${PREFECT:-$([ "$LAKE" = 1 ] && echo envs/lake/.venv/bin/prefect || echo .venv/bin/prefect)}"
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
  # env --default-signal: a background command of a script starts with SIGINT ignored, and Prefect's worker
  # stops on TERM by sending itself INT; without it, `down` waits STOP_SECONDS and KILLs the worker
  SEGMENTS_STACK_PROCESS="$STACK/$name" setsid bash -c 'echo "$$ $1" >"$2"; shift 2; exec env --default-signal=INT,QUIT "$@"' \
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
  env --default-signal=INT true 2>/dev/null || {
    echo "stack.sh needs env --default-signal (GNU coreutils 8.31 or newer) to start workers that stop on TERM" >&2
    return 1
  }
  [ -x "$PREFECT" ] || {
    echo "no $PREFECT: install the environment first (make .venv/.synced, or make lake-env for the lake stack)" >&2
    return 1
  }
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
  "$(dirname "$PREFECT")/python" deployments/zombies.py
  if [ -n "${SEGMENTS_CONFIG:-}" ]; then
    SEGMENTS_CONFIG="$(cd "$caller_dir" && realpath -m "$SEGMENTS_CONFIG")"
    [ -f "$SEGMENTS_CONFIG" ] || echo "warning: SEGMENTS_CONFIG=$SEGMENTS_CONFIG does not exist" >&2
    export SEGMENTS_CONFIG
  fi
  local worker
  for worker in $WORKERS; do
    if leader_alive "$worker"; then
      echo "$worker already running (pid $(group "$worker"))"
    else
      [ -z "${SEGMENTS_CONFIG:-}" ] || echo "$worker runs flows with SEGMENTS_CONFIG=$SEGMENTS_CONFIG"
      launch "$worker" "$PREFECT" worker start --pool "$POOL" --name "segments-$worker" \
        ${WORKER_LIMIT:+--limit "$WORKER_LIMIT"}
    fi
  done
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
  local failed=0 worker
  # the workers first: while they stop, they can still tell the server about their flow runs
  for worker in $WORKERS; do
    stop "$worker" || failed=1
  done
  stop server || failed=1
  return "$failed"
}

# The lake stack's PostgreSQL server (the DuckLake catalog), run as the postgres user when root.
PG_DIR="${SEGMENTS_LAKE_PG_DIR:-$STACK/pg}"
PG_PORT="${SEGMENTS_LAKE_PG_PORT:-$(cat "$PG_DIR/port" 2>/dev/null || echo 5442)}"
pg_bin() { ls /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -1 || command -v "$1"; }
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg() { as_postgres "$(pg_bin "$1")" "${@:2}"; }

pg_up() {
  mkdir -p "$PG_DIR"
  [ "$(id -u)" != 0 ] || chown postgres "$PG_DIR"
  if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
    pg initdb -D "$PG_DIR/data" -A trust -U postgres >"$PG_DIR/initdb.log" 2>&1 ||
      { echo "initdb failed; see $PG_DIR/initdb.log" >&2; return 1; }
  fi
  if pg pg_ctl -D "$PG_DIR/data" status >/dev/null 2>&1; then
    echo "catalog PostgreSQL already running on 127.0.0.1:$PG_PORT"
  else
    pg pg_ctl -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
      -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1" start >/dev/null ||
      { echo "PostgreSQL did not start; see $PG_DIR/server.log" >&2; return 1; }
    echo "$PG_PORT" >"$PG_DIR/port"
  fi
  pg psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "select 1 from pg_database where datname = 'lake'" |
    grep -q 1 || pg createdb -h 127.0.0.1 -p "$PG_PORT" -U postgres lake
  export SEGMENTS_LAKE_CATALOG="postgresql://postgres@127.0.0.1:$PG_PORT/lake"
}

pg_down() {
  if [ -f "$PG_DIR/data/PG_VERSION" ] && pg pg_ctl -D "$PG_DIR/data" status >/dev/null 2>&1; then
    pg pg_ctl -D "$PG_DIR/data" -m fast -w stop >/dev/null && echo "stopped catalog PostgreSQL"
  else
    echo "catalog PostgreSQL: not running"
  fi
}

# demo-data/lake.yaml: the demo config with its warehouse in the lake (sources and the rest unchanged).
lake_config() {
  [ -f demo-data/config.yaml ] || {
    echo "no demo-data/config.yaml: run make demo first, or set SEGMENTS_CONFIG to a lake config" >&2
    return 1
  }
  "$(dirname "$PREFECT")/python" - demo-data/config.yaml demo-data/lake.yaml <<'PY'
import sys
from pathlib import Path

import yaml

config = yaml.safe_load(Path(sys.argv[1]).read_text(encoding="utf-8"))
config["warehouse"] = {"ducklake": {"catalog": {"dsn_env": "SEGMENTS_LAKE_CATALOG"}, "data_path": "lake"}}
config["exports"] = "lake-exports"
Path(sys.argv[2]).write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
PY
  export SEGMENTS_CONFIG="$PWD/demo-data/lake.yaml"
}

up_lake() {
  [ -x "$PREFECT" ] || { echo "no $PREFECT: run make lake-env first" >&2; return 1; }
  pg_up
  [ -n "${SEGMENTS_CONFIG:-}" ] || lake_config
  up
  echo "catalog: $SEGMENTS_LAKE_CATALOG (data in the config's data_path)"
}

down_lake() {
  local failed=0
  down || failed=1
  pg_down || failed=1
  return "$failed"
}

status() {
  local name pid pids others
  for name in server $WORKERS; do
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
        echo "$name: running (pid $pid)"
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

case "$COMMAND" in
  up | down | status) "$COMMAND" ;;
  up-lake) up_lake ;;
  down-lake) down_lake ;;
  status-lake)
    status
    if [ -f "$PG_DIR/data/PG_VERSION" ] && pg pg_ctl -D "$PG_DIR/data" status >/dev/null 2>&1; then
      echo "catalog PostgreSQL: running on 127.0.0.1:$PG_PORT"
    else
      echo "catalog PostgreSQL: stopped"
    fi
    ;;
  *)
    echo "usage: $0 [up|down|status|up-lake|down-lake|status-lake]" >&2
    exit 2
    ;;
esac
