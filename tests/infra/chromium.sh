#!/usr/bin/env bash
# chromium.sh — Debian's `chromium` package for the browser tests (useStream in a real page).
#
#   tests/infra/chromium.sh install   apt-get install chromium when it is missing (as root),
#                                     then print chromium=<binary>
#
# Idempotent (nothing is done when the binary is there) and safe to run concurrently (flock:
# apt would otherwise fail on its own lock). An install takes 1-3 minutes. Set CHROMIUM to
# use another binary. Without root and without chromium it fails with a clear message.
set -euo pipefail

BIN="${CHROMIUM:-/usr/bin/chromium}"
LOCK="${LG_DEPLOY_CACHE:-$HOME/.cache/lg-deploy}/chromium.lock"

ensure_chromium() {
  if [[ ! -x "$BIN" ]]; then
    mkdir -p "$(dirname "$LOCK")"
    exec 9>"$LOCK"
    flock 9
    if [[ ! -x "$BIN" ]]; then
      if [[ "$(id -u)" != 0 ]]; then
        echo "chromium: $BIN is missing; install Debian's chromium package (as root:" \
          "apt-get install -y chromium) or set CHROMIUM" >&2
        exit 1
      fi
      local started=$SECONDS
      echo "chromium: installing Debian's chromium package" >&2
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >&2
      apt-get install -y -qq chromium >&2
      [[ -x "$BIN" ]] || { echo "chromium: the package did not install $BIN" >&2; exit 1; }
      echo "chromium: ready in $((SECONDS - started)) s" >&2
    fi
  fi
  echo "chromium=$BIN"
}

case "${1:-install}" in
  install) ensure_chromium ;;
  *) echo "usage: $0 install" >&2; exit 2 ;;
esac
