#!/usr/bin/env bash
# Install the Debian packages lprnvr needs, only those missing.
#   system-deps.sh runtime   what `make run` needs (ffmpeg, nmap, python venv, node/npm)
#   system-deps.sh test      also what the tests need (PostgreSQL, Redis, Mosquitto, GStreamer RTSP server
#                            Chromium for the browser test, gettext for the catalogue test)
set -euo pipefail
mode=${1:-runtime}

want=(ffmpeg nmap python3-venv npm)
if [ "$mode" = test ]; then
  want+=(postgresql redis-server gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 python3-gst-1.0
         gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
         gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-tools gstreamer1.0-x chromium iproute2 curl mosquitto
         gettext)
fi

missing=()
for pkg in "${want[@]}"; do
  # A package that is installed, or whose command exists from elsewhere, is not needed again.
  case "$pkg" in
    npm) command -v npm >/dev/null && continue ;;
    python3-venv) python3 -c 'import venv, ensurepip' 2>/dev/null && continue ;;
    postgresql) command -v psql >/dev/null && continue ;;
    redis-server) command -v redis-server >/dev/null && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing system packages: ${missing[*]}"
if [ "$(id -u)" = 0 ]; then SUDO=(); elif command -v sudo >/dev/null; then SUDO=(sudo); else
  echo "Please install as root: apt-get install ${missing[*]}" >&2; exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
