#!/usr/bin/env bash
# What a user waits for (issue 9, item 5): in Debian's Chromium, headless, driven by Playwright, the workspaces page's
# Launch → Running (the Open button) → code-server's workbench loaded through the proxy, and the workbench opened again
# through the proxy vs straight from the workspace gateway's published port (the peer, same run). Not a test. Bounded:
# LAUNCHES launches (default 10) of one small repository on the fallback image, each deleted before the next.
#
#   bash bench/launch/workbench.sh
# Needs: bash scripts/ensure-docker.sh && bash scripts/build-images.sh; Chromium at /usr/bin/chromium (./test.sh
# installs it) or CDE_CHROMIUM.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
launches="${LAUNCHES:-10}"
for tool in jq curl python3; do command -v "$tool" >/dev/null || { echo "$tool is missing" >&2; exit 1; }; done
source "$root/bench/host.sh"

work="$(mktemp -d /tmp/cde-workbench-bench.XXXXXX)"
chmod 755 "$work"
cleanup() {
  # Only what this script started: its host by pid, then any container of a workspace it launched.
  bench_host_stop
  docker ps -aq --filter "label=dev.clouddevenv.owner=bench-ide" | xargs -r docker rm -f >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

repo="$work/repos/plain"
mkdir -p "$repo"
printf '# plain\n' >"$repo/README.md"
printf 'print("hello")\n' >"$repo/hello.py"
git -C "$repo" init -q -b main
git -C "$repo" -c user.email=bench@cde -c user.name=bench add -A
git -C "$repo" -c user.email=bench@cde -c user.name=bench commit -qm plain

echo "building the benchmark..." >&2
dotnet build -c Release -v q -nologo "$here/WorkbenchBench" >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
bench_host_start "$work" "$work/repos"
echo "$launches launches in Chromium..." >&2
table=$(dotnet "$here/WorkbenchBench/bin/Release/net10.0/WorkbenchBench.dll" "$BENCH_API" "file://$repo" "$launches")
echo
echo "Command: \`bash bench/launch/workbench.sh\` (LAUNCHES=$launches), $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(chromium --version 2>/dev/null || echo chromium)."
echo "A repository with no devcontainer.json (the fallback image with code-server); medians in ms."
echo
echo "$table"
