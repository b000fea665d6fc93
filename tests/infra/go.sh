# go.sh — sourced by the scripts that build tools from the Go module proxy (k8s-tools.sh,
# observability-tools.sh): the Go toolchain to use and a Go environment confined to $ROOT
# (which the sourcing script sets: its folder under ${LG_DEPLOY_CACHE:-$HOME/.cache/lg-deploy}).

go_bin() {
  if [[ -n "${GO:-}" ]]; then echo "$GO"
  elif command -v go >/dev/null 2>&1; then command -v go
  elif [[ -x /usr/local/go/bin/go ]]; then echo /usr/local/go/bin/go
  else echo "$(basename "$0"): no Go toolchain (set GO or put go on PATH)" >&2; exit 1
  fi
}

go_env() {
  # GOPATH, module and build caches and GOBIN under $ROOT; modcacherw keeps `clean` able to
  # delete the cache.
  env GOPATH="$ROOT/go" GOMODCACHE="$ROOT/go/pkg/mod" GOCACHE="$ROOT/go/cache" \
    GOBIN="$ROOT/bin" GOFLAGS="-modcacherw -buildvcs=false" GOTOOLCHAIN=local \
    CGO_ENABLED=0 GO111MODULE=on "$@"
}
