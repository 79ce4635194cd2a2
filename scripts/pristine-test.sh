#!/usr/bin/env bash
# Run the README's `make test` as a new user would on a fresh Debian 12 machine, without Docker:
#
#   1. debootstrap a minimal Debian 12 (bookworm) root once (kept as a pristine base), copy it to a
#      fresh work root for this run, and clone this repository's HEAD into it (/root/lprnvr);
#   2. in a chroot, with the network: the prerequisites a new user has (git, make), then every
#      install step of `make test` (system packages, virtualenv, front-end packages);
#   3. in a chroot inside a network namespace with only loopback up (`unshare -n`): `make test`
#      itself, which starts its own PostgreSQL, Redis and Mosquitto there as on a fresh machine and
#      proves the suite needs nothing beyond loopback.
#
# Needs root, debootstrap and a Debian mirror. Output: var/pristine-test.log (the last line is
# pytest's result line). PRISTINE_DIR (default /var/tmp/lprnvr-pristine) holds the roots;
# PRISTINE_KEEP=1 keeps this run's root for inspection.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${PRISTINE_DIR:-/var/tmp/lprnvr-pristine}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
base=$dir/base
root=$dir/run
log=$repo/var/pristine-test.log
mkdir -p "$dir" "$repo/var"

[ "$(id -u)" = 0 ] || { echo "pristine-test.sh needs root (debootstrap, chroot, unshare)" >&2; exit 1; }
command -v debootstrap >/dev/null || apt-get install -y -q debootstrap

if [ ! -e "$base/.complete" ]; then
  rm -rf "$base"
  debootstrap --variant=minbase bookworm "$base" "$mirror"
  touch "$base/.complete"
fi

cleanup() {
  # Daemons started inside the root (PostgreSQL, Redis, Mosquitto) die with it.
  for pid in $(ls /proc | grep -E '^[0-9]+$'); do
    [ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$root" ] && kill -9 "$pid" 2>/dev/null || true
  done
  for m in dev/shm dev/pts dev sys proc run ""; do umount -l "$root/$m" 2>/dev/null || true; done
  if grep -q " $root[/ ]" /proc/mounts; then
    echo "pristine-test: mounts left under $root; not removing it" >&2   # never rm -rf through a bound /dev
  elif [ "${PRISTINE_KEEP:-0}" != 1 ]; then
    rm -rf "$root"
  fi
}
trap cleanup EXIT
PRISTINE_KEEP=0 cleanup
[ ! -e "$root" ] || { echo "pristine-test: cannot clear $root" >&2; exit 1; }
cp -a "$base" "$root"
rm -f "$root/.complete"

# As a freshly installed Debian 12: the release, its updates and security; the host's resolver.
cat > "$root/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
cp /etc/resolv.conf "$root/etc/resolv.conf"
# The host's trust store, for pip and npm: a network that intercepts TLS (a proxy with its own CA)
# is trusted in the root as on the host. On an open network it is Debian's own bundle anyway.
cp /etc/ssl/certs/ca-certificates.crt "$root/usr/local/share/host-ca.crt"
# A chroot has no init: packages must not try to start services (test-services.sh starts what it needs).
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d" && chmod +x "$root/usr/sbin/policy-rc.d"

# The root must be a mount point: `ip -n <ns>` (the WS-Discovery test) remounts / as a slave, which
# fails on a plain folder.
mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount -t sysfs sys "$root/sys"
mount --bind /dev "$root/dev"
mount -t devpts devpts "$root/dev/pts" -o newinstance,ptmxmode=0666 || mount --bind /dev/pts "$root/dev/pts"
mount -t tmpfs shm "$root/dev/shm"
mount -t tmpfs run "$root/run"

git clone -q --no-local "$repo" "$root/root/lprnvr"
in_root() { chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
  PIP_CERT=/usr/local/share/host-ca.crt NODE_EXTRA_CA_CERTS=/usr/local/share/host-ca.crt \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin bash -c "$1"; }

set +e
{
  set -e
  echo "== $(date -u +%FT%TZ) pristine Debian $(cat "$root/etc/debian_version"), clone of $(git -C "$repo" rev-parse --short HEAD)"
  echo "== step 2: prerequisites and install steps (network)"
  in_root "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends git make ca-certificates"
  in_root "cd /root/lprnvr && scripts/system-deps.sh test && make install-dev assets"
  echo "== step 3: make test (network namespace: loopback only)"
  unshare -n bash -c "ip link set lo up && $(declare -f in_root); root=$root; in_root 'cd /root/lprnvr && make test'"
} 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
echo "== result: $(grep -E '^=+ .*(passed|failed|error).* =+$' "$log" | tail -n1)" | tee -a "$log"
exit "$status"
