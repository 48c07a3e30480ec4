#!/usr/bin/env bash
# Prebuild benchmark: a repository whose onCreateCommand takes 20 s, launched by CloudDevEnv without a prebuild, with
# a platform-built prebuild (POST /api/prebuilds/build's grain; pushed to a loopback registry, here already on the
# engine), and by `devcontainer up` of the reference CLI, in the same run. Not a test. Bounded: N launches each
# (default 5), every container removed afterwards.
# Needs: bash scripts/ensure-docker.sh && bash scripts/build-images.sh && bash scripts/install-node-tools.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
launches="${LAUNCHES:-5}"
cli="$root/tools/devcontainer-cli/node_modules/.bin/devcontainer"
version="$(head -n1 "$root/images/VERSION" | tr -d '[:space:]')"
image="clouddevenv/base:$version"
[ -x "$cli" ] || { echo "The reference CLI is missing: run scripts/install-node-tools.sh" >&2; exit 1; }
docker image inspect "$image" >/dev/null 2>&1 || { echo "$image is missing: run scripts/build-images.sh" >&2; exit 1; }

work="$(mktemp -d /tmp/cde-prebuild-bench-XXXXXX)"
chmod 755 "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() {
  docker ps -aq --filter "label=devcontainer.local_folder=$work/slow" | xargs -r docker rm -f >/dev/null 2>&1 || true
  bash "$root/scripts/registry.sh" stop "$work/registry" >/dev/null 2>&1 || true
  docker images --format '{{.Repository}}:{{.Tag}}' | grep "^127.0.0.1:$port/" | xargs -r docker rmi -f >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
bash "$root/scripts/registry.sh" start "$work/registry" "$port" >/dev/null

echo "Building the benchmark..." >&2
dotnet build -v q -nologo "$here/LaunchBench" >&2

stats() { sort -n | awk '{v[NR]=$1} END {m=int((NR+1)/2); printf "%d %d %d\n", v[m], v[1], v[NR]}'; }

repo="$work/slow"
mkdir -p "$repo/.devcontainer"
cat > "$repo/.devcontainer/devcontainer.json" <<JSON
{
  "image": "$image",
  "onCreateCommand": "sleep 20 && echo created >> /tmp/on-create-ran",
  "postCreateCommand": "echo post >> /tmp/post-create-ran"
}
JSON
echo "# bench" > "$repo/README.md"
git -C "$repo" init -q -b main
git -C "$repo" -c user.email=bench@cde -c user.name=bench add -A
git -C "$repo" -c user.email=bench@cde -c user.name=bench commit -qm bench

echo "CloudDevEnv without a prebuild: $launches launches..." >&2
dotnet run --no-build --project "$here/LaunchBench" -- "$repo" "$launches" > "$work/plain.txt"
echo "CloudDevEnv with a platform prebuild: build, then $launches launches..." >&2
dotnet run --no-build --project "$here/LaunchBench" -- "$repo" "$launches" "127.0.0.1:$port/bench" > "$work/prebuilt.txt" 2> "$work/prebuild.log"
built=$(grep -o 'built in [0-9]* ms' "$work/prebuild.log" | grep -o '[0-9]*')
echo "devcontainer up: $launches launches..." >&2
: > "$work/cli.txt"
for _ in $(seq 1 "$launches"); do
  start=$(date +%s%N)
  "$cli" up --workspace-folder "$repo" --skip-post-attach > "$work/cli-up.log" 2>&1 || { cat "$work/cli-up.log" >&2; exit 1; }
  end=$(date +%s%N)
  echo $(( (end - start) / 1000000 )) >> "$work/cli.txt"
  docker ps -aq --filter "label=devcontainer.local_folder=$repo" | xargs -r docker rm -f >/dev/null
done

read -r plain_med plain_min plain_max < <(cut -d' ' -f1 "$work/plain.txt" | stats)
read -r pre_med pre_min pre_max < <(cut -d' ' -f1 "$work/prebuilt.txt" | stats)
read -r preide_med _ _ < <(cut -d' ' -f2 "$work/prebuilt.txt" | stats)
read -r cli_med cli_min cli_max < <(stats < "$work/cli.txt")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
cat <<TABLE
Command: \`bash bench/launch/prebuild.sh\` (LAUNCHES=$launches), $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, Docker $(docker version --format '{{.Server.Version}}' 2>/dev/null).
A repository whose \`onCreateCommand\` is \`sleep 20\` (image \`$image\`, a quick \`postCreateCommand\`).

| launcher | median ms to Running | min | max |
|---|---:|---:|---:|
| CloudDevEnv, no prebuild (onCreateCommand runs before Running) | $plain_med | $plain_min | $plain_max |
| CloudDevEnv, platform prebuild (built once in $built ms; image on the engine) | $pre_med | $pre_min | $pre_max |
| devcontainer up (reference CLI, no prebuild, no IDE) | $cli_med | $cli_min | $cli_max |

Ratios: prebuild / no prebuild $(ratio "$pre_med" "$plain_med"); prebuild / devcontainer up $(ratio "$pre_med" "$cli_med"). With the prebuild, the
IDE answered at a median $preide_med ms.
Raw (ms, Running IDE hooks-done): no prebuild: $(tr '\n' ';' < "$work/plain.txt") prebuild: $(tr '\n' ';' < "$work/prebuilt.txt") CLI: $(tr '\n' ' ' < "$work/cli.txt")
TABLE
