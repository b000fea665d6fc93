#!/usr/bin/env bash
# observability-tools.sh — the real backends the observability tests run against, built from
# the Go module proxy with pinned versions: Prometheus and promtool (PromQL parsed and
# evaluated, rules unit-tested, alerts firing against a scraped `lg-deploy up`) and Jaeger v2
# (the OTLP endpoint whose query API the trace tests read).
#
#   tests/infra/observability-tools.sh install   build what is missing, then print
#                                                prometheus=<path>, promtool=<path>, jaeger=<path>
#   tests/infra/observability-tools.sh clean     remove everything this script cached
#
# Everything lives under ${LG_DEPLOY_CACHE:-$HOME/.cache/lg-deploy}/observability-tools (Go
# caches included, dropped after a successful install). Idempotent (a stamp records the pinned
# versions) and safe to run concurrently (flock). Needs `go` and the Go module proxy.
set -euo pipefail

PROMETHEUS="github.com/prometheus/prometheus@v0.316.0"
# Jaeger v2 is the module's cmd/jaeger (the v1.x module tags carry the v2 binary); its go.mod
# has replace directives, so it is built inside a module of ours (go get -tool), not go install.
JAEGER="github.com/jaegertracing/jaeger@v1.75.0"

ROOT="${LG_DEPLOY_CACHE:-$HOME/.cache/lg-deploy}/observability-tools"
STAMP_TEXT="$PROMETHEUS $JAEGER"

# go_bin, go_env
source "$(dirname "${BASH_SOURCE[0]}")/go.sh"

installed() {
  [[ -x "$ROOT/bin/prometheus" && -x "$ROOT/bin/promtool" && -x "$ROOT/bin/jaeger" \
     && -f "$ROOT/stamp" && "$(cat "$ROOT/stamp")" == "$STAMP_TEXT" ]]
}

ensure_tools() {
  mkdir -p "$ROOT"
  exec 9>"$ROOT/.lock"
  flock 9
  if ! installed; then
    local go started
    go="$(go_bin)"
    started=$SECONDS
    rm -f "$ROOT/stamp"
    echo "observability-tools: building $STAMP_TEXT with $("$go" version)" >&2
    (cd "$ROOT" && go_env "$go" install \
      "${PROMETHEUS%@*}/cmd/prometheus@${PROMETHEUS#*@}" \
      "${PROMETHEUS%@*}/cmd/promtool@${PROMETHEUS#*@}")
    mkdir -p "$ROOT/jaeger-build"
    (
      cd "$ROOT/jaeger-build"
      [[ -f go.mod ]] || go_env "$go" mod init lgdeploy.local/jaeger-build >/dev/null 2>&1
      go_env "$go" get -tool "${JAEGER%@*}/cmd/jaeger@${JAEGER#*@}"
      go_env "$go" build -o "$ROOT/bin/jaeger" "${JAEGER%@*}/cmd/jaeger"
    )
    go_env "$go" clean -cache -modcache
    rm -rf "$ROOT/jaeger-build"
    echo "$STAMP_TEXT" >"$ROOT/stamp"
    echo "observability-tools: ready in $((SECONDS - started)) s" >&2
  fi
  echo "prometheus=$ROOT/bin/prometheus"
  echo "promtool=$ROOT/bin/promtool"
  echo "jaeger=$ROOT/bin/jaeger"
}

case "${1:-install}" in
  install) ensure_tools ;;
  clean)
    if [[ -d "$ROOT" ]]; then chmod -R u+w "$ROOT" && rm -rf "$ROOT"; fi ;;
  *) echo "usage: $0 install|clean" >&2; exit 2 ;;
esac
