#!/usr/bin/env bash
# A local Isthmus network on loopback: one relay and two gateways (XETR and
# XASX), each its own process.
#
#   deploy/local-network.sh start   # keys (once), then the three nodes
#   deploy/local-network.sh status  # which are running
#   deploy/local-network.sh stop    # SIGTERM: each drains and exits
#
# Keys and certificates go to deploy/network/ (made once by
# `isthmus keys init`), stores, ledgers, logs and pids to deploy/state/.
# ISTHMUS names the binary (default: target/release/isthmus, built if missing).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
state="$here/state"
bin="${ISTHMUS:-$root/target/release/isthmus}"
nodes=(relay:relay.toml gateway:gateway-xetr.toml gateway:gateway-xasx.toml)

build() {
  if [[ ! -x "$bin" ]]; then
    echo "building $bin" >&2
    (cd "$root" && cargo build --release --locked --quiet)
  fi
}

name_of() { basename "${1#*:}" .toml; }

start() {
  build
  if [[ ! -f "$here/network/membership.json" ]]; then
    "$bin" keys init --network "$here/network"
  fi
  mkdir -p "$state/logs"
  for node in "${nodes[@]}"; do
    local kind="${node%%:*}" config="$here/${node#*:}" name
    name="$(name_of "$node")"
    if [[ -f "$state/$name.pid" ]] && kill -0 "$(cat "$state/$name.pid")" 2>/dev/null; then
      echo "$name is running already (pid $(cat "$state/$name.pid"))"
      continue
    fi
    "$bin" "$kind" --config "$config" --check >/dev/null
    "$bin" "$kind" --config "$config" >>"$state/logs/$name.log" 2>&1 &
    echo $! >"$state/$name.pid"
    echo "$name started (pid $!, log $state/logs/$name.log)"
  done
}

status() {
  for node in "${nodes[@]}"; do
    local name
    name="$(name_of "$node")"
    if [[ -f "$state/$name.pid" ]] && kill -0 "$(cat "$state/$name.pid")" 2>/dev/null; then
      echo "$name running (pid $(cat "$state/$name.pid"))"
    else
      echo "$name stopped"
    fi
  done
}

stop() {
  for node in "${nodes[@]}"; do
    local name pid
    name="$(name_of "$node")"
    [[ -f "$state/$name.pid" ]] || continue
    pid="$(cat "$state/$name.pid")"
    if kill -TERM "$pid" 2>/dev/null; then
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      echo "$name stopped"
    fi
    rm -f "$state/$name.pid"
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|status|stop" >&2; exit 2 ;;
esac
