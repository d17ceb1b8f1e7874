#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback for `isthmus bench dvp --baseline postgres`.
#
#   deploy/postgres.sh start [DIR] [PORT]   install PostgreSQL from Debian's packages if it is
#                                           missing, create a cluster in DIR (default
#                                           /tmp/isthmus-pg) listening on 127.0.0.1:PORT
#                                           (default 55432) and start it
#   deploy/postgres.sh stop [DIR]           stop it
#   deploy/postgres.sh status [DIR]
#
# The cluster is for benchmarks only: trust authentication on loopback, no
# other address, fsync and synchronous_commit on (as a market would run it),
# max_prepared_transactions for the two-phase-commit baseline.
set -euo pipefail

action=${1:-start}
dir=${2:-/tmp/isthmus-pg}
port=${3:-55432}

bin_dir() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$found" ]; then
    echo "postgres.sh: PostgreSQL is not installed; installing it from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    found=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  echo "$found"
}

# PostgreSQL refuses to run as root: run its tools as the postgres user then.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case "$action" in
  start)
    bin=$(bin_dir)
    if [ ! -f "$dir/PG_VERSION" ]; then
      mkdir -p "$dir"
      [ "$(id -u)" = 0 ] && chown postgres: "$dir"
      as_owner "$bin/initdb" -D "$dir" -A trust -U postgres --no-instructions >/dev/null
      cat >>"$dir/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = on
synchronous_commit = on
max_prepared_transactions = 256
max_connections = 300
shared_buffers = 256MB
EOF
    fi
    if as_owner "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
      echo "postgres.sh: already running in $dir on 127.0.0.1:$port"
    else
      as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/log" -w start >/dev/null
      echo "postgres.sh: started in $dir on 127.0.0.1:$port"
    fi
    ;;
  stop)
    bin=$(bin_dir)
    as_owner "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null && echo "postgres.sh: stopped"
    ;;
  status)
    bin=$(bin_dir)
    as_owner "$bin/pg_ctl" -D "$dir" status
    ;;
  *)
    echo "usage: $0 start|stop|status [DIR] [PORT]" >&2
    exit 2
    ;;
esac
