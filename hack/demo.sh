#!/usr/bin/env bash
# make demo: check the example manifests, then show what `kgate check --fix` changes.
set -euo pipefail
kgate=${1:-bin/kgate}
cd "$(dirname "$0")/.."

step() { printf '\n\033[1m== %s\033[0m\n\n' "$*"; }

step "kgate check examples/*.yaml   (exit status 1 means at least one object would be rejected)"
"$kgate" check examples/*.yaml || echo "(exit status $?)"

step "kgate check --fix examples/01-storageclass-gp2.yaml examples/02-llama-service.yaml"
fixed=$(mktemp -d)
trap 'rm -rf "$fixed"' EXIT
"$kgate" check --fix-dir "$fixed" examples/01-storageclass-gp2.yaml examples/02-llama-service.yaml >/dev/null 2>&1 || true
for f in examples/01-storageclass-gp2.yaml examples/02-llama-service.yaml; do
  [ -f "$fixed/$f" ] || { echo "$f: nothing to fix"; continue; }
  diff -u --label "$f" --label "$f (fixed)" "$f" "$fixed/$f" || true
done

step "the fixed manifests pass those rules"
"$kgate" check "$fixed/examples" || echo "(exit status $?)"
