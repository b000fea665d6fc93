#!/usr/bin/env bash
# k8s-tools.sh — the offline Kubernetes tooling the manifest tests need, built from the Go
# module proxy with pinned versions: helm (go install) and the CRD YAMLs of Knative Serving,
# Knative Eventing, eventing-kafka-broker, KEDA and prometheus-operator (PrometheusRule,
# PodMonitor) (go mod download), plus the KEDA scaler sources that declare the trigger metadata
# keys (the CRD types them as free strings).
#
#   tests/infra/k8s-tools.sh install   build/download what is missing, then print
#                                      helm=<path>, crds=<folder> and keda_scalers=<folder>
#   tests/infra/k8s-tools.sh clean     remove everything this script cached
#
# Everything lives under ${LG_DEPLOY_CACHE:-$HOME/.cache/lg-deploy}/k8s-tools (GOPATH,
# GOMODCACHE, GOCACHE and GOBIN included), so nothing global is read or written; the Go caches
# are dropped after a successful install (about 90 MB stay). Idempotent (a stamp records the
# pinned versions) and safe to run concurrently (flock). A cold install takes 1.5-4 minutes on
# 2 cores. Needs `go` (on PATH, or $GO, or /usr/local/go/bin/go) and the Go module proxy.
set -euo pipefail

HELM_MODULE="helm.sh/helm/v3"
HELM_VERSION="v3.21.4"
SERVING="knative.dev/serving@v0.50.0"
EVENTING="knative.dev/eventing@v0.50.0"
# v0.50.0 (knative-v1.23): the module proxy answers .info but refuses .mod/.zip (403 "not
# available"), so the newest downloadable release: v0.49.2 = knative-v1.22.2.
EVENTING_KAFKA="knative.dev/eventing-kafka-broker@v0.49.2"
KEDA="github.com/kedacore/keda/v2@v2.20.2"
# v0.95.x: the module proxy refuses it (403 "not available"), so the newest downloadable.
PROMETHEUS_OPERATOR="github.com/prometheus-operator/prometheus-operator@v0.94.1"

# <file under $ROOT> <- <module>:<path inside the module>
FILES=(
  "crds/serving-service.yaml|$SERVING|config/core/300-resources/service.yaml"
  "crds/eventing-pingsource.yaml|$EVENTING|config/core/resources/pingsource.yaml"
  "crds/kafka-source.yaml|$EVENTING_KAFKA|control-plane/config/eventing-kafka-broker/100-source/100-kafka-source.yaml"
  "crds/kafka-sink.yaml|$EVENTING_KAFKA|control-plane/config/eventing-kafka-broker/100-sink/100-kafka-sink.yaml"
  "crds/keda-scaledobject.yaml|$KEDA|config/crd/bases/keda.sh_scaledobjects.yaml"
  "crds/keda-triggerauthentication.yaml|$KEDA|config/crd/bases/keda.sh_triggerauthentications.yaml"
  "crds/prometheusrule.yaml|$PROMETHEUS_OPERATOR|example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml"
  "crds/podmonitor.yaml|$PROMETHEUS_OPERATOR|example/prometheus-operator-crd/monitoring.coreos.com_podmonitors.yaml"
  "keda-scalers/postgresql.go|$KEDA|pkg/scalers/postgresql_scaler.go"
  "keda-scalers/kafka.go|$KEDA|pkg/scalers/kafka_scaler.go"
)

ROOT="${LG_DEPLOY_CACHE:-$HOME/.cache/lg-deploy}/k8s-tools"
STAMP_TEXT="$HELM_MODULE@$HELM_VERSION ${FILES[*]}"

# go_bin, go_env
source "$(dirname "${BASH_SOURCE[0]}")/go.sh"

installed() {
  [[ -x "$ROOT/bin/helm" && -f "$ROOT/stamp" && "$(cat "$ROOT/stamp")" == "$STAMP_TEXT" ]] || return 1
  local entry
  for entry in "${FILES[@]}"; do [[ -s "$ROOT/${entry%%|*}" ]] || return 1; done
}

module_dir() {
  # The extracted folder of one module@version (downloaded once into the cache); on failure
  # the go command's JSON (with its "Error") goes to stderr and nothing to stdout.
  local json
  json="$(go_env "$(go_bin)" mod download -json "$1" || true)"
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$json"
  grep -q '"Dir"' <<<"$json" || echo "$json" >&2
}

ensure_tools() {
  mkdir -p "$ROOT"
  exec 9>"$ROOT/.lock"
  flock 9
  if ! installed; then
    local go started entry name rest module path dir
    go="$(go_bin)"
    started=$SECONDS
    rm -f "$ROOT/stamp"
    echo "k8s-tools: installing helm $HELM_VERSION and module files with $("$go" version)" >&2
    (cd "$ROOT" && go_env "$go" install "$HELM_MODULE/cmd/helm@$HELM_VERSION")
    for entry in "${FILES[@]}"; do
      name="${entry%%|*}"; rest="${entry#*|}"; module="${rest%%|*}"; path="${rest#*|}"
      dir="$(cd "$ROOT" && module_dir "$module")"
      [[ -n "$dir" && -f "$dir/$path" ]] || { echo "k8s-tools: $module has no $path" >&2; exit 1; }
      mkdir -p "$(dirname "$ROOT/$name")"
      cp "$dir/$path" "$ROOT/$name.tmp" && chmod 0644 "$ROOT/$name.tmp"
      mv "$ROOT/$name.tmp" "$ROOT/$name"
    done
    # Only bin/ and the copied files are used from now on: drop the 1 GB of Go caches.
    go_env "$go" clean -cache -modcache
    echo "$STAMP_TEXT" >"$ROOT/stamp"
    echo "k8s-tools: ready in $((SECONDS - started)) s" >&2
  fi
  echo "helm=$ROOT/bin/helm"
  echo "crds=$ROOT/crds"
  echo "keda_scalers=$ROOT/keda-scalers"
}

case "${1:-install}" in
  install) ensure_tools ;;
  clean)
    if [[ -d "$ROOT" ]]; then chmod -R u+w "$ROOT" && rm -rf "$ROOT"; fi ;;
  *) echo "usage: $0 install|clean" >&2; exit 2 ;;
esac
