#!/usr/bin/env bash
# Installs the tools the deployment checks (tests/deploy) need, pinned, into .tools/bin:
#   kube-score      security and reliability linter for the Kubernetes manifests (Go module)
#   compose-config  loads docker-compose.yml like `docker compose config` (compose-go, built
#                   from deploy/tools/composecheck) since this machine has no compose plugin
#   kustomize       only when kubectl (which embeds kustomize) is missing
# Idempotent: a tool already at its pinned version is left alone. Building one needs Go
# 1.24+ (the module proxy serves the sources).
set -euo pipefail

KUBE_SCORE_VERSION=v1.20.0
KUSTOMIZE_VERSION=v5.5.0

root="$(cd "$(dirname "$0")/../.." && pwd)"
tools="$root/.tools"
bin="$tools/bin"
mkdir -p "$bin"
# the directory ignores itself, so nothing it holds is ever committed
[[ -f "$tools/.gitignore" ]] || printf '*\n' >"$tools/.gitignore"

export GOBIN="$bin" GOFLAGS=-mod=mod GOTOOLCHAIN=local
need_go() {
	command -v go >/dev/null && return
	echo "install.sh: building $1 needs Go 1.24 or newer (apt-get install golang-go)" >&2
	exit 1
}

stamp_ok() { [[ -x "$bin/$1" && "$(cat "$bin/.$1.version" 2>/dev/null)" == "$2" ]]; }
stamp() { printf '%s' "$2" >"$bin/.$1.version"; }

if ! stamp_ok kube-score "$KUBE_SCORE_VERSION"; then
	need_go kube-score
	echo "install.sh: building kube-score $KUBE_SCORE_VERSION"
	go install "github.com/zegl/kube-score/cmd/kube-score@$KUBE_SCORE_VERSION"
	stamp kube-score "$KUBE_SCORE_VERSION"
fi

compose_version="$(cat "$root/deploy/tools/composecheck/go.mod" "$root/deploy/tools/composecheck/main.go" | sha256sum | cut -c1-16)"
if ! stamp_ok compose-config "$compose_version"; then
	need_go compose-config
	echo "install.sh: building compose-config"
	(cd "$root/deploy/tools/composecheck" && go build -trimpath -o "$bin/compose-config" .)
	stamp compose-config "$compose_version"
fi

if ! command -v kubectl >/dev/null && ! stamp_ok kustomize "$KUSTOMIZE_VERSION"; then
	need_go kustomize
	echo "install.sh: building kustomize $KUSTOMIZE_VERSION (kubectl not found)"
	go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
	stamp kustomize "$KUSTOMIZE_VERSION"
fi

echo "install.sh: tools ready in $bin"
