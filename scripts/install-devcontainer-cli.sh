#!/usr/bin/env bash
# Installs the pinned devcontainer reference CLI (@devcontainers/cli, see
# tools/devcontainer-cli/package-lock.json) into tools/devcontainer-cli/node_modules.
# The DevContainers conformance tests run it as their peer and fail when it is missing.
#
# Usage: scripts/install-devcontainer-cli.sh [--force]
#   Idempotent: does nothing when the pinned version is already installed.
#   --force  reinstall even then.
# Needs node (>= 20) and npm on PATH and the npm registry; prints what it does.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/tools/devcontainer-cli"
bin="$dir/node_modules/.bin/devcontainer"
force=false

for arg in "$@"; do
  case "$arg" in
    --force) force=true ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "install-devcontainer-cli: unknown argument '$arg' (usage: $0 [--force])" >&2; exit 2 ;;
  esac
done

for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "install-devcontainer-cli: '$tool' is not on PATH; install Node.js 20 or later first" >&2
    exit 1
  fi
done

pinned="$(node -p "require('$dir/package-lock.json').packages['node_modules/@devcontainers/cli'].version")"
installed=""
if [ -x "$bin" ]; then
  installed="$("$bin" --version 2>/dev/null || true)"
fi

if [ "$force" = false ] && [ "$installed" = "$pinned" ]; then
  echo "install-devcontainer-cli: @devcontainers/cli $pinned already installed in $dir (nothing to do)"
  exit 0
fi

if [ -n "$installed" ]; then
  echo "install-devcontainer-cli: found version '$installed', want $pinned: reinstalling"
fi
echo "install-devcontainer-cli: npm ci in $dir (node $(node --version), npm $(npm --version))"
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=warn)

installed="$("$bin" --version)"
if [ "$installed" != "$pinned" ]; then
  echo "install-devcontainer-cli: installed version '$installed' is not the pinned $pinned" >&2
  exit 1
fi
echo "install-devcontainer-cli: @devcontainers/cli $installed ready at $bin"
