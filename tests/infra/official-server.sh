#!/usr/bin/env bash
# official-server.sh — the official LangGraph dev server (`langgraph dev` from
# langgraph-cli[inmem]) in its own virtualenv, with the packages the ecosystem project's graphs
# import (tests/ecosystem/project), all pinned, for the parity tests (tests/ecosystem).
#
#   tests/infra/official-server.sh install   create the venv if missing, then print its path
#                                            (run <path>/bin/langgraph dev ...)
#   tests/infra/official-server.sh clean     remove every venv this script made
#
# The venv lives in ${LG_DEPLOY_CACHE:-$HOME/.cache/lg-deploy}/official-<hash>, the hash taken
# over the pins and the Python version, so changing a pin makes a new venv (older ones stay until
# `clean`). Idempotent (a stamp is written last) and safe to run concurrently (flock). A cold
# install downloads about 150 MB from PyPI and takes 1-3 minutes on 2 cores. Needs python3
# (3.11+; or $PYTHON) with venv and pip, and PyPI.
set -euo pipefail

# The server, and the libraries both servers run the graphs with: keep the shared ones
# (langgraph*, langchain*) at the versions of the project's own venv, so a difference the
# parity tests find is the servers', not the libraries'.
PINS=(
  "langgraph-cli[inmem]==0.4.40"
  "langgraph-api==0.16.7"
  "langgraph-runtime-inmem==0.36.7"
  "langgraph==1.2.24"
  "langgraph-prebuilt==1.1.3"
  "langgraph-checkpoint==4.3.2"
  "langgraph-sdk==0.4.14"
  "langchain==1.5.2"
  "langchain-core==1.8.3"
  "langchain-openai==1.8.1"
  "deepagents==0.7.32"
  "langgraph-supervisor==0.0.31"
  "langgraph-swarm==0.1.0"
)

PYTHON="${PYTHON:-python3}"
CACHE="${LG_DEPLOY_CACHE:-$HOME/.cache/lg-deploy}"

venv_dir() {
  local version hash
  version="$("$PYTHON" -c 'import sys; print(sys.version.split()[0])')"
  hash="$(printf '%s\n' "$version" "${PINS[@]}" | sha256sum | cut -c1-12)"
  echo "$CACHE/official-$hash"
}

ensure_venv() {
  local dir started
  dir="$(venv_dir)"
  mkdir -p "$CACHE"
  exec 9>"$CACHE/official.lock"
  flock 9
  if [[ ! -f "$dir/stamp" || ! -x "$dir/bin/langgraph" ]]; then
    started=$SECONDS
    echo "official-server: installing ${PINS[*]} into $dir" >&2
    rm -rf "$dir"
    "$PYTHON" -m venv "$dir"
    "$dir/bin/python" -m pip install -q --disable-pip-version-check "${PINS[@]}" >&2
    printf '%s\n' "${PINS[@]}" >"$dir/stamp"
    echo "official-server: ready in $((SECONDS - started)) s" >&2
  fi
  echo "$dir"
}

case "${1:-install}" in
  install) ensure_venv ;;
  clean) rm -rf "$CACHE"/official-* ;;
  *) echo "usage: $0 install|clean" >&2; exit 2 ;;
esac
