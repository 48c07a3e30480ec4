#!/usr/bin/env bash
# Launch latency: CloudDevEnv (grain CreateAsync -> Running, and -> code-server answering on its published port)
# against `devcontainer up` of the reference CLI, on the same small repository and image, in the same run.
# Not a test. Bounded: N launches each (default 10), every container removed afterwards.
# Needs: bash scripts/ensure-docker.sh && bash scripts/build-images.sh && bash scripts/install-node-tools.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
launches="${LAUNCHES:-10}"
cli="$root/tools/devcontainer-cli/node_modules/.bin/devcontainer"
version="$(head -n1 "$root/images/VERSION" | tr -d '[:space:]')"
image="clouddevenv/base:$version"
[ -x "$cli" ] || { echo "The reference CLI is missing: run scripts/install-node-tools.sh" >&2; exit 1; }
docker image inspect "$image" >/dev/null 2>&1 || { echo "$image is missing: run scripts/build-images.sh" >&2; exit 1; }

work="$(mktemp -d /tmp/cde-launch-bench-XXXXXX)"
chmod 755 "$work"
cleanup() {
  for folder in "$work"/*/; do
    docker ps -aq --filter "label=devcontainer.local_folder=${folder%/}" | xargs -r docker rm -f >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

echo "Building the benchmark..." >&2
dotnet build -v q -nologo "$here/LaunchBench" >&2

stats() { # column file -> "median p90" (nearest rank)
  sort -n | awk '{v[NR]=$1} END {m=int((NR+1)/2); p=int((NR*9+9)/10); if (p>NR) p=NR; printf "%d %d\n", v[m], v[p]}'
}

# One scenario: a repository whose devcontainer.json has this postCreateCommand, launched by both launchers. With
# "dockerfile", the devcontainer.json builds a Dockerfile on that image instead, and each launcher launches once
# before the timed launches, so that both are timed with their build cache warm.
scenario() { # name postCreateCommand [dockerfile]
  local name="$1" hook="$2" build="${3:-}"
  repo="$work/$name"
  rm -rf "$repo"; mkdir -p "$repo/.devcontainer"
  if [[ "$build" == dockerfile ]]; then
    printf 'FROM %s\nRUN echo built > /etc/bench-built\n' "$image" > "$repo/.devcontainer/Dockerfile"
    source_line='"build": { "dockerfile": "Dockerfile" },'
  else
    source_line="\"image\": \"$image\","
  fi
  cat > "$repo/.devcontainer/devcontainer.json" <<JSON
{
  $source_line
  "containerEnv": { "BENCH": "1" },
  "postCreateCommand": "$hook"
}
JSON
  echo "# bench" > "$repo/README.md"
  git -C "$repo" init -q -b main
  git -C "$repo" -c user.email=bench@cde -c user.name=bench add -A
  git -C "$repo" -c user.email=bench@cde -c user.name=bench commit -qm bench
  if [[ "$build" == dockerfile ]]; then
    echo "[$name] warming both build caches..." >&2
    dotnet run --no-build --project "$here/LaunchBench" -- "$repo" 1 > /dev/null
    "$cli" up --workspace-folder "$repo" --skip-post-attach > "$work/cli-up.log" 2>&1 || { cat "$work/cli-up.log" >&2; exit 1; }
    docker ps -aq --filter "label=devcontainer.local_folder=$repo" | xargs -r docker rm -f >/dev/null
  fi

  echo "[$name] CloudDevEnv: $launches launches..." >&2
  dotnet run --no-build --project "$here/LaunchBench" -- "$repo" "$launches" > "$work/$name-cde.txt"
  echo "[$name] devcontainer up: $launches launches..." >&2
  : > "$work/$name-cli.txt"
  for i in $(seq 1 "$launches"); do
    start=$(date +%s%N)
    "$cli" up --workspace-folder "$repo" --skip-post-attach > "$work/cli-up.log" 2>&1 || { cat "$work/cli-up.log" >&2; exit 1; }
    end=$(date +%s%N)
    echo $(( (end - start) / 1000000 )) >> "$work/$name-cli.txt"
    docker ps -aq --filter "label=devcontainer.local_folder=$repo" | xargs -r docker rm -f >/dev/null
  done

  read -r run_med run_p90 < <(cut -d' ' -f1 "$work/$name-cde.txt" | stats)
  read -r ide_med ide_p90 < <(cut -d' ' -f2 "$work/$name-cde.txt" | stats)
  read -r hooks_med hooks_p90 < <(cut -d' ' -f3 "$work/$name-cde.txt" | stats)
  read -r cli_med cli_p90 < <(stats < "$work/$name-cli.txt")
  ratio=$(awk -v a="$run_med" -v b="$cli_med" 'BEGIN { printf "%.2f", a / b }')
  cat <<TABLE
| ($name) ${build:+Dockerfile on the image (cache warm), }\`postCreateCommand: $hook\` | median ms | p90 ms |
|---|---:|---:|
| CloudDevEnv: CreateAsync -> Running | $run_med | $run_p90 |
| CloudDevEnv: CreateAsync -> code-server answers | $ide_med | $ide_p90 |
| CloudDevEnv: CreateAsync -> postCreateCommand done (in the background) | $hooks_med | $hooks_p90 |
| devcontainer up (reference CLI, no IDE; returns after postCreateCommand) | $cli_med | $cli_p90 |
| ratio Running / devcontainer up | $ratio | |

Raw (ms): CloudDevEnv Running/IDE/hooks: $(tr '\n' ';' < "$work/$name-cde.txt") CLI: $(tr '\n' ' ' < "$work/$name-cli.txt")

TABLE
}

# SCENARIOS picks some of them (default all): a, b, c.
scenarios="${SCENARIOS:-a b c}"
tables="$(
  if [[ " $scenarios " == *" a "* ]]; then scenario a-quick-hook 'echo created > /tmp/post-create-ran'; fi
  if [[ " $scenarios " == *" b "* ]]; then scenario b-slow-hook 'sleep 5 && echo created > /tmp/post-create-ran'; fi
  if [[ " $scenarios " == *" c "* ]]; then scenario c-dockerfile 'echo created > /tmp/post-create-ran' dockerfile; fi
)"
echo "$tables"
cat > "$here/RESULTS.md" <<MD
# Launch latency

Command: \`bash bench/launch/run.sh\` (LAUNCHES=$launches), $(date -u +%Y-%m-%d), $(nproc) cores, Docker $(docker version --format '{{.Server.Version}}' 2>/dev/null).

Small repositories (a README and a devcontainer.json with \`image: $image\`, \`containerEnv\` and a
\`postCreateCommand\`: (a) a quick one, (b) one that sleeps 5 s; (c) the quick one with a one-line Dockerfile on that
image, each launcher's build cache warmed by one untimed launch), each launched $launches times by each launcher in the
same run (scenarios: $scenarios), each container removed before the next launch. CloudDevEnv is timed from the workspace grain's \`CreateAsync\`
(in-process silo, real Docker runtime) to phase Running (the one clone, made by a short-lived container in the
workspace's volume, in the workspace folder; the hooks up to \`waitFor\` run; code-server answering), to an HTTP GET of the IDE through the workspace gateway succeeding from outside, and to
the hooks after \`waitFor\` (here postCreateCommand, which the spec lets run after tools connect) being done.
\`devcontainer up\` bind-mounts the folder instead of cloning, starts no IDE and returns after postCreateCommand.

$tables
MD
echo "Wrote $here/RESULTS.md" >&2
