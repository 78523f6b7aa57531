#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL cluster:
#   with-postgresql.sh COMMAND [ARGS...]
# Creates the cluster in a temp dir (as the `postgres` user when run as root: PostgreSQL refuses
# to run as root), starts it on a free loopback port with fsync off, exports
#   SWITCHBOARD_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:<port>/postgres
# runs COMMAND, stops the cluster (fast shutdown, then by pid if it lingers) and removes it, and
# exits with COMMAND's status.
set -u -o pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 2
fi

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
for tool in initdb pg_ctl; do
    if [ ! -x "$PG_BIN/$tool" ]; then
        echo "$0: $PG_BIN/$tool not found; install postgresql-15 or set PG_BIN" >&2
        exit 1
    fi
done

if [ "$(id -u)" -eq 0 ]; then
    as_pg() { runuser -u postgres -- "$@"; }
else
    as_pg() { "$@"; }
fi

workdir=$(mktemp -d /tmp/switchboard-pg.XXXXXX)
datadir="$workdir/data"
logfile="$workdir/server.log"
if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$workdir"
fi

cleanup() {
    local pid=""
    if [ -f "$datadir/postmaster.pid" ]; then
        pid=$(head -n 1 "$datadir/postmaster.pid" 2>/dev/null || true)
        as_pg "$PG_BIN/pg_ctl" -D "$datadir" stop -m fast -w -t 30 >/dev/null 2>&1 || true
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            kill -QUIT "$pid" 2>/dev/null || true   # immediate shutdown of the postmaster we started
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ! as_pg "$PG_BIN/initdb" -D "$datadir" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$workdir/initdb.log" 2>&1; then
    echo "$0: initdb failed:" >&2
    cat "$workdir/initdb.log" >&2
    exit 1
fi

started=""
for attempt in 1 2 3; do
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    if as_pg "$PG_BIN/pg_ctl" -D "$datadir" -l "$logfile" -w -t 60 \
            -o "-k /tmp -p $port -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start >/dev/null; then
        started=1
        break
    fi
done
if [ -z "$started" ]; then
    echo "$0: PostgreSQL did not start:" >&2
    cat "$logfile" >&2
    exit 1
fi

export SWITCHBOARD_TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:$port/postgres"
echo "$0: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" >&2

"$@"
status=$?
exit $status
