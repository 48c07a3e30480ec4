#!/usr/bin/env bash
# The proxy in front of a real workspace (issue 9, item 6). Not a test: bounded in time, loopback only.
#
# The real host (Release build, local mode, real Docker) launches one workspace whose postStartCommand serves a
# 5-byte answer on port 3000 inside the container (node, from the IDE bundle); the port is made public. Then wrk, in
# one run, at 8 and 64 connections, the median of BENCH_REPS runs of BENCH_DURATION each, against:
#   direct  the workspace's published gateway port (127.0.0.1, the engine's docker-proxy) with the gateway's secret
#           and target headers: the floor any proxy on this host can reach;
#   proxy   our proxy, Host 3000-<id>.localhost (route lookup, YARP, then that same gateway port);
#   nginx   nginx with upstream keep-alive to that same gateway port, setting the same two headers.
# The workspace's own address (its bridge network) is not used: here test and benchmark traffic stays on loopback, so
# every path goes through docker-proxy, and the figures compare proxies on one path, not paths.
# Prints a Markdown table, with the spread (min-max) of the direct runs as the measure of the machine's noise.
#
#   bash bench/proxy/workspace.sh                               # about 4 minutes
#   BENCH_DURATION=3s BENCH_REPS=1 bash bench/proxy/workspace.sh # a quick look
# Needs: bash scripts/ensure-docker.sh && bash scripts/build-images.sh
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
duration="${BENCH_DURATION:-5s}"
reps="${BENCH_REPS:-5}"
version="$(head -n1 "$root/images/VERSION" | tr -d '[:space:]')"
image="clouddevenv/base:$version"
docker image inspect "$image" >/dev/null 2>&1 || { echo "$image is missing: run scripts/build-images.sh" >&2; exit 1; }

source "$root/bench/host.sh"
bench_need wrk wrk
bench_need nginx nginx-light
bench_need jq jq
bench_need curl curl
nginx_port=$(bench_free_port)
work="$(mktemp -d /tmp/cde-proxy-workspace-bench.XXXXXX)"
chmod 755 "$work"
workspace=""
cleanup() {
  # Only what this script started, by pid or by its workspace id.
  if [[ -n "$workspace" ]]; then
    bench_api DELETE "/api/workspaces/$workspace" >/dev/null 2>&1 || true
    sleep 2
    docker ps -aq --filter "name=cde-$workspace" | xargs -r docker rm -f >/dev/null 2>&1 || true
  fi
  if [[ -f "$work/nginx/nginx.pid" ]]; then kill "$(cat "$work/nginx/nginx.pid")" 2>/dev/null || true; fi
  bench_host_stop
  rm -rf "$work"
}
trap cleanup EXIT

repo="$work/repos/served"
mkdir -p "$repo/.devcontainer"
cat >"$repo/.devcontainer/devcontainer.json" <<JSON
{
  "image": "$image",
  "forwardPorts": [3000],
  "postStartCommand": "nohup /opt/clouddevenv/ide/node/bin/node -e \"require('http').createServer((q, s) => s.end('hello')).listen(3000)\" > /tmp/served.log 2>&1 &"
}
JSON
echo "# served" >"$repo/README.md"
git -C "$repo" init -q -b main
git -C "$repo" -c user.email=bench@cde -c user.name=bench add -A
git -C "$repo" -c user.email=bench@cde -c user.name=bench commit -qm served

bench_host_start "$work" "$work/repos"
proxy_port=$BENCH_PROXY_PORT
bench_sign_in bench
workspace=$(bench_api POST /api/workspaces "{\"repoUrl\":\"file://$repo\"}" | jq -r .id)
echo "launched $workspace; waiting for Running and the server on port 3000..." >&2
for _ in $(seq 1 300); do
  phase=$(bench_api GET "/api/workspaces/$workspace" | jq -r .phase)
  [[ "$phase" == Running ]] && break
  [[ "$phase" == Failed ]] && { bench_api GET "/api/workspaces/$workspace" >&2; exit 1; }
  sleep 0.5
done
bench_api PUT "/api/workspaces/$workspace/ports/3000" '{"visibility":"public"}' >/dev/null

container="cde-$workspace"
inner=$(docker inspect -f '{{range $k, $v := .Config.Labels}}{{if eq $k "dev.clouddevenv.gateway-port"}}{{$v}}{{end}}{{end}}' "$container")
[[ -n "$inner" ]] || inner=$(docker inspect -f '{{range $p, $b := .NetworkSettings.Ports}}{{$p}} {{end}}' "$container" | tr ' ' '\n' | grep -m1 tcp | cut -d/ -f1)
published=$(docker port "$container" "$inner/tcp" | grep -m1 '^127.0.0.1:' | cut -d: -f2)
secret=$(docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$container" | sed -n 's/^CDE_GATEWAY_SECRET=//p')
[[ -n "$published" && -n "$secret" ]] || { echo "could not find the gateway's published port or secret of $container" >&2; exit 1; }
public_host="3000-$workspace.localhost"
for _ in $(seq 1 120); do
  [[ "$(curl -s -H "Host: $public_host" "http://127.0.0.1:$proxy_port/")" == hello ]] && break
  sleep 0.5
done
[[ "$(curl -s -H "Host: $public_host" "http://127.0.0.1:$proxy_port/")" == hello ]] \
  || { echo "port 3000 does not answer through the proxy" >&2; tail -30 "$work/host.log" >&2; exit 1; }

mkdir -p "$work/nginx/logs"
cat >"$work/nginx/nginx.conf" <<EOF
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  upstream workspace { server 127.0.0.1:$published; keepalive 128; }
  server {
    listen 127.0.0.1:$nginx_port;
    location / {
      proxy_pass http://workspace;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-CDE-Gateway-Secret "$secret";
      proxy_set_header X-CDE-Target 3000;
      proxy_buffering off;
    }
  }
}
EOF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf"
[[ "$(curl -s "http://127.0.0.1:$nginx_port/")" == hello ]] || { echo "nginx does not reach the workspace" >&2; exit 1; }
[[ "$(curl -s -H "X-CDE-Gateway-Secret: $secret" -H 'X-CDE-Target: 3000' "http://127.0.0.1:$published/")" == hello ]] \
  || { echo "the gateway does not answer directly" >&2; exit 1; }

# One wrk run: "requests/s p50 p99" (ms).
run_wrk() { # connections url [header]...
  local connections=$1 url=$2; shift 2
  local threads=$(( connections < 2 ? connections : 2 ))
  local args=()
  for header in "$@"; do args+=(-H "$header"); done
  wrk -t"$threads" -c"$connections" -d"$duration" --latency "${args[@]}" "$url" >"$work/wrk.txt"
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$work/wrk.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")
  echo "$rps $(to_ms "$p50") $(to_ms "$p99")"
}
to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'; }
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

declare -A result
for connections in 8 64; do
  for rep in $(seq 1 "$reps"); do
    # The three in turn within each repetition, so that the machine's drift falls on all of them alike.
    run_wrk "$connections" "http://127.0.0.1:$published/" "X-CDE-Gateway-Secret: $secret" "X-CDE-Target: 3000" >>"$work/direct-$connections"
    run_wrk "$connections" "http://127.0.0.1:$proxy_port/" "Host: $public_host" >>"$work/proxy-$connections"
    run_wrk "$connections" "http://127.0.0.1:$nginx_port/" >>"$work/nginx-$connections"
    echo "  $connections connections, run $rep/$reps done" >&2
  done
  for mode in direct proxy nginx; do
    result[$mode-$connections-rps]=$(cut -d' ' -f1 "$work/$mode-$connections" | median)
    result[$mode-$connections-p50]=$(cut -d' ' -f2 "$work/$mode-$connections" | median)
    result[$mode-$connections-p99]=$(cut -d' ' -f3 "$work/$mode-$connections" | median)
  done
  result[direct-$connections-spread]=$(cut -d' ' -f1 "$work/direct-$connections" | sort -g | awk 'NR==1 {min=$1} {max=$1} END {printf "%.0f-%.0f", min, max}')
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo
echo "Command: \`bash bench/proxy/workspace.sh\` (BENCH_DURATION=$duration BENCH_REPS=$reps), $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores."
echo "One workspace ($image, a node server on port 3000 answering 5 bytes), public port host $public_host;"
echo "every path ends at the workspace gateway's published port (docker-proxy, then the gateway, then the server)."
echo "Medians of $reps runs of $duration; latency in ms; direct spread = min-max requests/s of its runs."
echo
echo "| connections | direct rps (spread) | proxy rps | nginx rps | proxy/nginx | proxy/direct | direct p50 / p99 | proxy p50 / p99 | nginx p50 / p99 |"
echo "|---|---|---|---|---|---|---|---|---|"
for connections in 8 64; do
  printf '| %s | %.0f (%s) | %.0f | %.0f | %s | %s | %s / %s | %s / %s | %s / %s |\n' "$connections" \
    "${result[direct-$connections-rps]}" "${result[direct-$connections-spread]}" "${result[proxy-$connections-rps]}" "${result[nginx-$connections-rps]}" \
    "$(ratio "${result[proxy-$connections-rps]}" "${result[nginx-$connections-rps]}")" \
    "$(ratio "${result[proxy-$connections-rps]}" "${result[direct-$connections-rps]}")" \
    "${result[direct-$connections-p50]}" "${result[direct-$connections-p99]}" \
    "${result[proxy-$connections-p50]}" "${result[proxy-$connections-p99]}" \
    "${result[nginx-$connections-p50]}" "${result[nginx-$connections-p99]}"
done
