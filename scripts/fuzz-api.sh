#!/usr/bin/env bash
# Fuzz the OpenAPI schema (/api/schema/) with schemathesis as an administrator: every answer must be
# something other than a server error (issue 10). Bounded: FUZZ_MAX_EXAMPLES cases per operation and
# FUZZ_MAX_TIME seconds in all (about 2-3 minutes on 2 CPUs).
#
# The product runs in a network namespace that has only loopback (`unshare -n`), so fuzzed camera
# addresses (discovery ranges, camera IPs) can never reach a network. Inside it 127.0.0.1:5432/6379
# of the host are not reachable either: SQLite and the filesystem broker under a temporary VAR_DIR,
# as `make run` uses with nothing configured. Needs root (or unprivileged user namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=$(cd "${VENV:-.venv}" && pwd)

if [ -z "${LPRNVR_FUZZ_IN_NETNS:-}" ]; then
  if [ "$(id -u)" = 0 ]; then
    exec unshare --net env LPRNVR_FUZZ_IN_NETNS=1 "$0" "$@"
  fi
  exec unshare --map-root-user --net env LPRNVR_FUZZ_IN_NETNS=1 "$0" "$@"
fi

ip link set lo up
if [ "$(ip -o link show | grep -cv ': lo:')" != 0 ] || [ -n "$(ip route show default)" ]; then
  echo "fuzz-api: refusing to run: this namespace has more than loopback" >&2
  exit 1
fi

work=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

unset DATABASE_URL REDIS_URL CELERY_BROKER_URL CELERY_RESULT_BACKEND SECRET_KEY FIELD_ENCRYPTION_KEYS
export VAR_DIR=$work/var DEBUG=false LOG_LEVEL=WARNING ALLOWED_HOSTS=127.0.0.1
export RECORDINGS_DIR=$work/var/recordings HLS_OUTPUT_DIR=$work/var/hls BACKUPS_DIR=$work/var/backups
export DISK_FREE_FLOOR_BYTES=0 PASSWORD_HASHERS=django.contrib.auth.hashers.MD5PasswordHasher
# Answer at once instead of waiting for work nobody consumes here (no worker, no media engine).
export DISCOVERY_API_WAIT=0 PLATES_LEGACY_WAIT=0 MEDIA_READY_TIMEOUT=0.2
# The fuzzer logs in wrongly on purpose: the throttle must not lock the run's own account out.
export LOGIN_MAX_FAILURES_PER_USER=1000000 LOGIN_MAX_FAILURES_PER_ADDRESS=1000000
export FUZZ_ADMIN=fuzz-admin FUZZ_PASSWORD="Fuzz-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
port=${FUZZ_PORT:-8765}
export FUZZ_BASE_URL=http://127.0.0.1:$port

"$VENV/bin/python" manage.py migrate --noinput -v0
"$VENV/bin/python" manage.py shell < scripts/fuzz/seed.py
"$VENV/bin/gunicorn" lprnvr.wsgi:application --bind "127.0.0.1:$port" --workers 2 --threads 4 --timeout 60 \
  --error-logfile "$work/server.log" --capture-output &
server=$!
for _ in $(seq 60); do
  curl -sS -o /dev/null "$FUZZ_BASE_URL/health" 2>/dev/null && break
  sleep 0.5
done

status=0
root=$PWD
# One worker: with two threads, hypothesis parses lambdas' source (ast) in both at once, which CPython
# 3.11 can break ("AST constructor recursion depth mismatch", an error of the fuzzer, not of ours).
# Run from the temporary folder: schemathesis keeps a cache (.schemathesis/) in its working directory.
cd "$work"
PYTHONPATH=$root/scripts/fuzz:$root SCHEMATHESIS_HOOKS=hooks "$VENV/bin/schemathesis" \
  --config-file "$root/scripts/fuzz/schemathesis.toml" run "$FUZZ_BASE_URL/api/schema/" \
  --checks not_a_server_error,typed_server_answer \
  --phases examples,coverage,fuzzing \
  --max-examples "${FUZZ_MAX_EXAMPLES:-25}" \
  --max-time "${FUZZ_MAX_TIME:-100}" \
  --workers "${FUZZ_WORKERS:-1}" \
  --request-timeout 30 \
  --generation-database none \
  --no-color "$@" || status=$?
if [ "$status" != 0 ]; then
  echo "fuzz-api: server errors found; the server's log:" >&2
  grep -v '^\s*$' "$work/server.log" | tail -n 200 >&2 || true
fi
exit "$status"
