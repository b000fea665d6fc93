#!/usr/bin/env bash
# k8s-tools.sh — the offline Kubernetes tooling the manifest tests need, built from the Go
# module proxy with pinned versions: helm (go install) and the CRD YAMLs of Knative Serving,
# Knative Eventing, eventing-kafka-broker and KEDA (go mod download).
#
#   tests/infra/k8s-tools.sh install   build/download what is missing, then print
#                                      helm=<path> and crds=<folder> (one per line)
#   tests/infra/k8s-tools.sh clean     remove everything this script cached
#
# Everything lives under ${LG_DEPLOY_CACHE:-$HOME/.cache/lg-deploy}/k8s-tools (GOPATH,
# GOMODCACHE, GOCACHE and GOBIN included), so nothing global is read or written. Idempotent
# (a stamp records the pinned versions) and safe to run concurrently (flock). Needs `go`
# (on PATH, or $GO, or /usr/local/go/bin/go) and the Go module proxy.
set -euo pipefail

HELM_MODULE="helm.sh/helm/v3"
HELM_VERSION="v3.21.4"
SERVING="knative.dev/serving@v0.50.0"
EVENTING="knative.dev/eventing@v0.50.0"
# v0.50.0 (knative-v1.23) is listed but its zip is refused by the proxy; v0.49.2 = knative-v1.22.2.
EVENTING_KAFKA="knative.dev/eventing-kafka-broker@v0.49.2"
KEDA="github.com/kedacore/keda/v2@v2.20.2"

# crds/<name> <- <module>:<path inside the module>
CRDS=(
  "serving-service.yaml|$SERVING|config/core/300-resources/service.yaml"
  "eventing-pingsource.yaml|$EVENTING|config/core/resources/pingsource.yaml"
  "kafka-source.yaml|$EVENTING_KAFKA|control-plane/config/eventing-kafka-broker/100-source/100-kafka-source.yaml"
  "keda-scaledobject.yaml|$KEDA|config/crd/bases/keda.sh_scaledobjects.yaml"
)

ROOT="${LG_DEPLOY_CACHE:-$HOME/.cache/lg-deploy}/k8s-tools"
STAMP_TEXT="$HELM_MODULE@$HELM_VERSION $SERVING $EVENTING $EVENTING_KAFKA $KEDA"

go_bin() {
  if [[ -n "${GO:-}" ]]; then echo "$GO"
  elif command -v go >/dev/null 2>&1; then command -v go
  elif [[ -x /usr/local/go/bin/go ]]; then echo /usr/local/go/bin/go
  else echo "k8s-tools: no Go toolchain (set GO or put go on PATH)" >&2; exit 1
  fi
}

go_env() {
  # A Go environment confined to $ROOT; modcacherw keeps `clean` able to delete the cache.
  env GOPATH="$ROOT/go" GOMODCACHE="$ROOT/go/pkg/mod" GOCACHE="$ROOT/go/cache" \
    GOBIN="$ROOT/bin" GOFLAGS="-modcacherw -buildvcs=false" GOTOOLCHAIN=local \
    CGO_ENABLED=0 GO111MODULE=on "$@"
}

installed() {
  [[ -x "$ROOT/bin/helm" && -f "$ROOT/stamp" && "$(cat "$ROOT/stamp")" == "$STAMP_TEXT" ]] || return 1
  local entry
  for entry in "${CRDS[@]}"; do [[ -s "$ROOT/crds/${entry%%|*}" ]] || return 1; done
}

module_dir() {
  # The extracted folder of one module@version (downloaded once into the cache).
  go_env "$(go_bin)" mod download -json "$1" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p'
}

install() {
  mkdir -p "$ROOT"
  exec 9>"$ROOT/.lock"
  flock 9
  if ! installed; then
    local go started entry name rest module path dir
    go="$(go_bin)"
    started=$SECONDS
    rm -f "$ROOT/stamp"
    echo "k8s-tools: building helm $HELM_VERSION with $("$go" version)" >&2
    (cd "$ROOT" && go_env "$go" install "$HELM_MODULE/cmd/helm@$HELM_VERSION")
    mkdir -p "$ROOT/crds"
    for entry in "${CRDS[@]}"; do
      name="${entry%%|*}"; rest="${entry#*|}"; module="${rest%%|*}"; path="${rest#*|}"
      dir="$(cd "$ROOT" && module_dir "$module")"
      [[ -n "$dir" && -f "$dir/$path" ]] || { echo "k8s-tools: $module has no $path" >&2; exit 1; }
      install -m 0644 "$dir/$path" "$ROOT/crds/$name.tmp" && mv "$ROOT/crds/$name.tmp" "$ROOT/crds/$name"
    done
    echo "$STAMP_TEXT" >"$ROOT/stamp"
    echo "k8s-tools: ready in $((SECONDS - started)) s" >&2
  fi
  echo "helm=$ROOT/bin/helm"
  echo "crds=$ROOT/crds"
}

case "${1:-install}" in
  install) install ;;
  clean)
    if [[ -d "$ROOT" ]]; then chmod -R u+w "$ROOT" && rm -rf "$ROOT"; fi ;;
  *) echo "usage: $0 install|clean" >&2; exit 2 ;;
esac
