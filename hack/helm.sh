#!/usr/bin/env bash
# Print the path of a helm binary: the installed one, else one built once from the
# Go module proxy into a cache outside the repository.
set -euo pipefail
HELM_VERSION="${KGATE_HELM_VERSION:-v3.19.0}"
if command -v helm >/dev/null 2>&1; then command -v helm; exit 0; fi
dir="${KGATE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kgate}/helm-${HELM_VERSION}"
if [[ ! -x "$dir/helm" ]]; then
  echo "helm.sh: building helm $HELM_VERSION (once)..." >&2
  mkdir -p "$dir"
  (cd "$dir" && GOBIN="$dir" GOFLAGS= go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION") >&2
fi
echo "$dir/helm"
