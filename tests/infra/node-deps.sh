#!/usr/bin/env bash
# node-deps.sh — the pinned npm packages of the JavaScript ecosystem tests
# (tests/ecosystem/js/package-lock.json: @langchain/langgraph-sdk, @langchain/core, react,
# react-dom, esbuild), installed with `npm ci` from the npm registry.
#
#   tests/infra/node-deps.sh install   install what is missing, link it as
#                                      tests/ecosystem/js/node_modules, then print
#                                      node_modules=<folder> and esbuild=<binary>
#   tests/infra/node-deps.sh clean     remove everything this script cached, and the link
#
# One install per lockfile content, under
# ${LG_DEPLOY_CACHE:-$HOME/.cache/lg-deploy}/node-deps/<sha256 of the lockfile, 16 hex>, so a
# changed lockfile gets a fresh folder and never a half-updated one. Idempotent (a stamp is
# written last) and safe to run concurrently (flock). A cold install takes 10-30 s. Needs
# `node` and `npm` on PATH.
set -euo pipefail

JS_DIR="$(cd "$(dirname "$0")/../ecosystem/js" && pwd)"
BASE="${LG_DEPLOY_CACHE:-$HOME/.cache/lg-deploy}/node-deps"

ensure_deps() {
  command -v npm >/dev/null 2>&1 || { echo "node-deps: npm not found on PATH" >&2; exit 1; }
  local hash root started
  hash="$(sha256sum "$JS_DIR/package-lock.json" | cut -c1-16)"
  root="$BASE/$hash"
  mkdir -p "$BASE"
  exec 9>"$BASE/.lock"
  flock 9
  if [[ ! -f "$root/stamp" ]]; then
    started=$SECONDS
    rm -rf "$root"
    mkdir -p "$root"
    cp "$JS_DIR/package.json" "$JS_DIR/package-lock.json" "$root/"
    echo "node-deps: npm ci for lockfile $hash with node $(node --version)" >&2
    (cd "$root" && npm ci --no-audit --no-fund --loglevel=error >&2)
    date -u +%FT%TZ >"$root/stamp"
    echo "node-deps: ready in $((SECONDS - started)) s" >&2
  fi
  # Node resolves the test's bare imports (ESM ignores NODE_PATH) from the nearest
  # node_modules folder up from the importing file: link the cached one there.
  ln -sfn "$root/node_modules" "$JS_DIR/node_modules"
  echo "node_modules=$root/node_modules"
  echo "esbuild=$root/node_modules/.bin/esbuild"
}

case "${1:-install}" in
  install) ensure_deps ;;
  clean) rm -rf "$BASE" "$JS_DIR/node_modules" ;;
  *) echo "usage: $0 install|clean" >&2; exit 2 ;;
esac
