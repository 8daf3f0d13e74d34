#!/usr/bin/env bash
# Build kube-apiserver and etcd for controller-runtime envtest from the Go module
# proxy (the only thing reachable here and in CI: no binary downloads), cache them
# outside the repo and print the directory to use as KUBEBUILDER_ASSETS.
#
#   export KUBEBUILDER_ASSETS="$(hack/envtest-assets.sh)"
#
# stdout carries exactly one line (the absolute directory); progress goes to stderr.
set -euo pipefail

# Pinned versions. Kubernetes matches the k8s.io/* v0.37 libraries used by the
# latest sigs.k8s.io/controller-runtime (v0.25.x); etcd v3.6 is supported by
# Kubernetes 1.37 (kubeadm MinExternalEtcdVersion is 3.5.24).
K8S_VERSION="${KGATE_ENVTEST_K8S_VERSION:-v1.37.2}"
ETCD_VERSION="${KGATE_ENVTEST_ETCD_VERSION:-v3.6.16}"
K8S_VERSION="v${K8S_VERSION#v}" ETCD_VERSION="v${ETCD_VERSION#v}"

usage() {
  cat <<EOF
Usage: hack/envtest-assets.sh [--help]

Builds kube-apiserver and kubectl ${K8S_VERSION} and etcd ${ETCD_VERSION} from source through
the Go module proxy (first run: ~10-15 min on 2 cores; then instant) and prints
the directory holding the binaries, for KUBEBUILDER_ASSETS.

Environment:
  KGATE_ENVTEST_K8S_VERSION   Kubernetes version (default ${K8S_VERSION})
  KGATE_ENVTEST_ETCD_VERSION  etcd version (default ${ETCD_VERSION})
  KGATE_CACHE_DIR             cache root (default \${XDG_CACHE_HOME:-\$HOME/.cache}/kgate);
                              binaries go to \$KGATE_CACHE_DIR/envtest/k8s-<ver>-etcd-<ver>/
EOF
}

case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  "") ;;
  *) echo "envtest-assets: unknown argument: $1 (see --help)" >&2; exit 2 ;;
esac

log() { echo "envtest-assets: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

CACHE_ROOT="${KGATE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kgate}/envtest"
[[ "$CACHE_ROOT" == /* ]] || CACHE_ROOT="$PWD/$CACHE_ROOT"   # stdout must be absolute
DEST="${CACHE_ROOT}/k8s-${K8S_VERSION#v}-etcd-${ETCD_VERSION#v}"
STAMP="k8s=${K8S_VERSION} etcd=${ETCD_VERSION} kubectl"

# Fast path: a complete cache entry has both binaries and a matching stamp.
cached() {
  [[ -x "$DEST/kube-apiserver" && -x "$DEST/etcd" && -x "$DEST/kubectl" && -f "$DEST/.stamp" ]] &&
    [[ "$(<"$DEST/.stamp")" == "$STAMP" ]]
}
if cached; then echo "$DEST"; exit 0; fi

command -v go >/dev/null || die "go is not on PATH"
mkdir -p "$CACHE_ROOT" || die "cannot create $CACHE_ROOT"

# Serialize concurrent callers (parallel test runs) so only one builds; the others
# wait and then take the fast path.
if command -v flock >/dev/null; then
  exec 9>"$CACHE_ROOT/.lock"
  flock 9 || die "cannot lock $CACHE_ROOT/.lock"
  if cached; then echo "$DEST"; exit 0; fi
  rm -rf "$CACHE_ROOT"/.build.*   # leftovers of killed builds (we hold the lock)
fi

# Build into a temp dir on the same filesystem, then rename: an interrupted
# build never leaves a half-filled cache entry behind.
TMP="$(mktemp -d "$CACHE_ROOT/.build.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT; trap 'exit 143' TERM   # so the EXIT trap cleans up on Ctrl-C/kill
mkdir -p "$TMP/out"
cd "$TMP"   # never let go commands see (or edit) the repository's go.mod

# Server binaries are static upstream (no cgo), which also avoids needing gcc.
export CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -mod=mod"

# write_wrapper DIR MODULE VERSION REPLACE_VERSION
# `go install mod@ver` refuses modules whose go.mod has replace directives, and
# those directives (e.g. k8s.io/api => ./staging/src/k8s.io/api) are ignored when
# the module is a dependency. So generate a wrapper main module that requires
# MODULE and replaces every module upstream points at a local path with its
# published REPLACE_VERSION (derived from upstream's go.mod, not hard-coded).
write_wrapper() {
  local dir="$1" mod="$2" ver="$3" repl_ver="$4" json gomod m
  json="$(go mod download -json "$mod@$ver")" ||
    die "cannot download $mod@$ver from the Go module proxy: $(sed -n 's/.*"Error": "\(.*\)".*/\1/p' <<<"$json")"
  gomod="$(sed -n 's/.*"GoMod": "\(.*\)".*/\1/p' <<<"$json")"
  [[ -f "$gomod" ]] || die "no go.mod for $mod@$ver in: $json"
  mkdir -p "$dir"
  {
    echo "module kgate.local/envtest-wrapper"
    grep -E '^go [0-9]' "$gomod" || echo "go 1.24"
    grep -E '^godebug ' "$gomod" || true   # keep upstream's runtime defaults
    echo "require $mod $ver"
    # Replace lines ("X => ./path" in a block or after "replace"), minus the
    # FORBIDDEN_DEPENDENCY guards etcd uses to keep modules out of its graph.
    awk '/=>[[:space:]]*\.\.?\// && !/FORBIDDEN/ { sub(/^[[:space:]]*replace[[:space:]]+/, ""); print $1 }' "$gomod" |
      sort -u | while read -r m; do echo "replace $m => $m $repl_ver"; done
  } >"$dir/go.mod"
  log "$mod@$ver: wrapper replaces $(grep -c '^replace' "$dir/go.mod") local-path modules with $repl_ver"
}

START=$SECONDS
# --- kube-apiserver: staging modules k8s.io/* are published as v0.<minor>.<patch>.
K8S_STAGING_VERSION="v0.${K8S_VERSION#v1.}"
write_wrapper "$TMP/k8s" k8s.io/kubernetes "$K8S_VERSION" "$K8S_STAGING_VERSION"
IFS=. read -r k8s_major k8s_minor _ <<<"${K8S_VERSION#v}"
build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
k8s_ldflags="-s -w"
# Same variables as upstream's hack/lib/version.sh, so --version reports the real
# version (envtest and kubectl compare server versions).
for kv in "gitVersion=$K8S_VERSION" "gitMajor=$k8s_major" "gitMinor=$k8s_minor" \
  "gitTreeState=archive" "buildDate=$build_date"; do
  k8s_ldflags+=" -X k8s.io/component-base/version.$kv -X k8s.io/client-go/pkg/version.$kv"
done
log "building kube-apiserver $K8S_VERSION (slow on a cold cache)..."
(cd "$TMP/k8s" && nice -n 10 go build -trimpath -ldflags "$k8s_ldflags" \
  -o "$TMP/out/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver) >&2 ||
  die "building kube-apiserver $K8S_VERSION failed"
# kubectl of the same version, for machines that have none: the tests and the demo
# put this directory at the end of PATH, so an installed kubectl still wins.
log "building kubectl $K8S_VERSION..."
(cd "$TMP/k8s" && nice -n 10 go build -trimpath -ldflags "$k8s_ldflags" \
  -o "$TMP/out/kubectl" k8s.io/kubernetes/cmd/kubectl) >&2 ||
  die "building kubectl $K8S_VERSION failed"

# --- etcd: the main package is the root of go.etcd.io/etcd/server/v3 (v3.5/v3.6),
# whose go.mod replaces api/client/pkg with ../ paths, hence a wrapper too.
write_wrapper "$TMP/etcd" go.etcd.io/etcd/server/v3 "$ETCD_VERSION" "$ETCD_VERSION"
log "building etcd $ETCD_VERSION..."
(cd "$TMP/etcd" && nice -n 10 go build -trimpath \
  -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=module-$ETCD_VERSION" \
  -o "$TMP/out/etcd" go.etcd.io/etcd/server/v3) >&2 ||
  die "building etcd $ETCD_VERSION failed"

"$TMP/out/kube-apiserver" --version >&2 || die "built kube-apiserver does not run"
"$TMP/out/etcd" --version >&2 || die "built etcd does not run"
echo "$STAMP" >"$TMP/out/.stamp"

# Publish atomically; a stale or partial entry (no valid stamp) is replaced.
rm -rf "$DEST"
mv -T "$TMP/out" "$DEST" || cached || die "could not move build into $DEST"
log "done in $((SECONDS - START))s"
echo "$DEST"
