#!/usr/bin/env bash
# Make sure PostgreSQL, Redis (and Mosquitto, when installed) answer on 127.0.0.1 for the tests;
# start them when they do not.
#
# The database URL the tests use is written to var/test/database_url (the Makefile reads it):
# TEST_DATABASE_URL when that server lets us in, else a private throwaway cluster. That is the case on
# a fresh Debian machine, whose cluster asks a password over TCP (scram-sha-256 in pg_hba.conf): we
# never change its authentication, we run our own cluster beside it (trust, 127.0.0.1 only).
set -euo pipefail
cd "$(dirname "$0")/.."

url=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/lprnvr}
server=${url%/*}             # postgres://user@host:port
db=${url##*/}
private_dir=${TEST_PG_DIR:-/var/tmp/lprnvr-test-pg}
private_port=${TEST_PG_PORT:-55432}

can_log_in() { psql "$1/postgres" -tAc 'SELECT 1' >/dev/null 2>&1; }

start_private_cluster() {
  local bin owner
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
  owner=$(id -un)
  [ "$owner" = root ] && owner=postgres   # PostgreSQL refuses to run as root
  if [ ! -s "$private_dir/PG_VERSION" ]; then
    echo "Creating a private PostgreSQL cluster for the tests in $private_dir (port $private_port)"
    mkdir -p "$private_dir" && chown "$owner" "$private_dir" && chmod 700 "$private_dir"
    (cd / && runuser -u "$owner" -- "$bin/initdb" -D "$private_dir" -U postgres -A trust -E UTF8 >/dev/null)
  fi
  if ! pg_isready -q -h 127.0.0.1 -p "$private_port"; then
    (cd / && runuser -u "$owner" -- "$bin/pg_ctl" -D "$private_dir" -l "$private_dir/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -c port=$private_port -c unix_socket_directories=$private_dir" start >/dev/null)
  fi
}

host_port=${server#*@}
host=${host_port%:*}
port=${host_port##*:}
if ! pg_isready -q -h "$host" -p "$port" 2>/dev/null && [ -d /etc/postgresql ]; then
  echo "Starting PostgreSQL"
  version=$(ls /etc/postgresql | sort -V | tail -n1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || service postgresql start || true
  for _ in $(seq 30); do pg_isready -q -h "$host" -p "$port" && break; sleep 1; done
fi
if ! can_log_in "$server"; then
  if [ -n "${TEST_DATABASE_URL:-}" ]; then
    echo "Cannot log in to $server (TEST_DATABASE_URL)" >&2
    exit 1
  fi
  start_private_cluster
  server="postgres://postgres@127.0.0.1:$private_port"
  url="$server/$db"
fi
can_log_in "$server"
psql "$server/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1 \
  || psql "$server/postgres" -qc "CREATE DATABASE \"$db\"" >/dev/null
mkdir -p var/test
echo "$url" > var/test/database_url
echo "PostgreSQL: $server ($db)"

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "Starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 1; done
fi
redis-cli -h 127.0.0.1 -p 6379 ping

if command -v mosquitto >/dev/null && ! (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
  echo "Starting Mosquitto"
  mosquitto -d -c /etc/mosquitto/mosquitto.conf
fi
