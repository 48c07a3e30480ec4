#!/usr/bin/env bash
# Workspace proxy benchmark (issue 4). Not a test: bounded in time, loopback only.
#
# With wrk against one small upstream (13-byte answer), in one run: requests/s and p50/p99 latency
#   direct, through our proxy (private IDE host with its access cookie), and through nginx,
#   at 1, 8 and 64 connections, the median of BENCH_REPS runs of BENCH_DURATION each;
# then the proxy with 10,000 workspaces (a wrk script cycles the Host header over 10,000 workspace hosts,
#   all cached and subscribed) against the same script on 1 workspace;
# then the proxy's memory per idle proxied WebSocket at 1,000 connections (nginx's too, for scale).
# Writes bench/proxy/RESULTS.md.
#
#   bench/proxy/run.sh                       # about 6 minutes
#   BENCH_DURATION=3s BENCH_REPS=1 bench/proxy/run.sh   # a quick look
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
DURATION="${BENCH_DURATION:-5s}"
REPS="${BENCH_REPS:-3}"
WORKSPACES="${BENCH_WORKSPACES:-10000}"
WEBSOCKETS="${BENCH_WEBSOCKETS:-1000}"
UPSTREAM_PORT=18081
PROXY_PORT=18080
CONTROL_PORT=18082
NGINX_PORT=18083
SILO_PORT=18111
GATEWAY_PORT=18130
COMMAND="bench/proxy/run.sh (BENCH_DURATION=$DURATION BENCH_REPS=$REPS BENCH_WORKSPACES=$WORKSPACES BENCH_WEBSOCKETS=$WEBSOCKETS)"

WORK="$(mktemp -d /tmp/cde-proxy-bench.XXXXXX)"
PIDS=()

cleanup() {
  # Only what this script started, by pid.
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [[ -f "$WORK/nginx/nginx.pid" ]]; then kill "$(cat "$WORK/nginx/nginx.pid")" 2>/dev/null || true; fi
  sleep 0.5
  rm -rf "$WORK"
}
trap cleanup EXIT

source "$ROOT/bench/host.sh"
bench_need wrk wrk
bench_need nginx nginx-light
command -v nginx >/dev/null || bench_need nginx nginx

# The proxy holds two sockets per WebSocket.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

echo "building the benchmark (Release)..." >&2
dotnet build -c Release "$HERE/ProxyBench" -v q -nologo >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }
BENCH_DLL="$HERE/ProxyBench/bin/Release/net10.0/ProxyBench.dll"

wait_http() { # url [host header]
  for _ in $(seq 1 100); do
    if curl -s -o /dev/null -H "Host: ${2:-localhost}" "$1"; then return 0; fi
    sleep 0.1
  done
  echo "timed out waiting for $1" >&2; exit 1
}

start_upstream() {
  dotnet "$BENCH_DLL" upstream "$UPSTREAM_PORT" >"$WORK/upstream.log" 2>&1 &
  PIDS+=($!)
  wait_http "http://127.0.0.1:$UPSTREAM_PORT/"
}

start_proxy() {
  dotnet "$BENCH_DLL" proxy "$PROXY_PORT" "$CONTROL_PORT" "http://127.0.0.1:$UPSTREAM_PORT/" "$SILO_PORT" "$GATEWAY_PORT" \
    >"$WORK/proxy.log" 2>&1 &
  PROXY_PID=$!
  PIDS+=("$PROXY_PID")
  wait_http "http://127.0.0.1:$CONTROL_PORT/rss"
}

stop_proxy() {
  kill "$PROXY_PID" 2>/dev/null || true
  wait "$PROXY_PID" 2>/dev/null || true
}

start_nginx() {
  mkdir -p "$WORK/nginx/logs"
  cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  upstream workspace { server 127.0.0.1:$UPSTREAM_PORT; keepalive 128; }
  map \$http_upgrade \$connection_upgrade { default upgrade; '' ''; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      proxy_pass http://workspace;
      proxy_http_version 1.1;
      proxy_set_header Connection \$connection_upgrade;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header X-Forwarded-Host \$http_host;
      proxy_set_header X-Forwarded-For \$remote_addr;
      proxy_read_timeout 3h;
      proxy_buffering off;
    }
  }
}
EOF
  nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf"
  wait_http "http://127.0.0.1:$NGINX_PORT/"
}

sign_in_cookie() { # workspace id -> "name=value"
  local url
  url="$(curl -s "http://127.0.0.1:$CONTROL_PORT/signin?id=$1")"
  curl -s -D - -o /dev/null --resolve "$1.localhost:$PROXY_PORT:127.0.0.1" "$url" \
    | awk 'tolower($1)=="set-cookie:" { sub(/;.*/, "", $2); print $2 }' | tr -d '\r'
}

# Prints "rps p50_ms p99_ms requests" for one wrk run; WRK_SCRIPT_ARGS go to the Lua script (after the URL).
run_wrk() { # connections url [wrk options...]
  local c="$1" url="$2"; shift 2
  local t=$(( c < 2 ? c : 2 ))
  local script_args=()
  if [[ -n "${WRK_SCRIPT_ARGS:-}" ]]; then read -r -a script_args <<<"-- $WRK_SCRIPT_ARGS"; fi
  wrk -t "$t" -c "$c" -d "$DURATION" --latency "$@" "$url" "${script_args[@]}" 2>&1 | awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /^Requests\/sec:/ { rps = $2 }
    / requests in / { requests = $1 } /Non-2xx/ { bad = $NF }
    END { if (bad > 0) { print "non-2xx responses: " bad > "/dev/stderr" } printf "%s %.3f %.3f %s\n", rps, p50, p99, requests }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

declare -A RESULT
measure() { # key command...
  local key="$1"; shift
  "$@" >>"$WORK/$key.runs"
}

summarize() { # key -> sets RESULT[key.rps|p50|p99]
  local key="$1"
  RESULT[$key.rps]="$(awk '{ print $1 }' "$WORK/$key.runs" | median)"
  RESULT[$key.p50]="$(awk '{ print $2 }' "$WORK/$key.runs" | median)"
  RESULT[$key.p99]="$(awk '{ print $3 }' "$WORK/$key.runs" | median)"
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# ---------------------------------------------------------------------------------------------------------------
start_upstream
start_proxy
start_nginx

WS_ID="bench-ide"
COOKIE="$(sign_in_cookie "$WS_ID")"
[[ -n "$COOKIE" ]] || { echo "sign-in failed" >&2; exit 1; }
PROXY_HOST="$WS_ID.localhost:$PROXY_PORT"
DIRECT_URL="http://127.0.0.1:$UPSTREAM_PORT/"
PROXY_URL="http://127.0.0.1:$PROXY_PORT/"
NGINX_URL="http://127.0.0.1:$NGINX_PORT/"
test "$(curl -s -H "Host: $PROXY_HOST" -H "Cookie: $COOKIE" "$PROXY_URL")" = "Hello, World!" \
  || { echo "the proxy does not answer as the upstream does" >&2; exit 1; }

echo "warming up (JIT, connection pools)..." >&2
DURATION=3s run_wrk 8 "$DIRECT_URL" >/dev/null
DURATION=3s run_wrk 8 "$PROXY_URL" -H "Host: $PROXY_HOST" -H "Cookie: $COOKIE" >/dev/null
DURATION=3s run_wrk 8 "$NGINX_URL" >/dev/null

CONNS=(1 8 64)
for rep in $(seq 1 "$REPS"); do
  for c in "${CONNS[@]}"; do
    echo "run $rep/$REPS, $c connections..." >&2
    measure "direct.$c" run_wrk "$c" "$DIRECT_URL"
    measure "proxy.$c" run_wrk "$c" "$PROXY_URL" -H "Host: $PROXY_HOST" -H "Cookie: $COOKIE"
    measure "nginx.$c" run_wrk "$c" "$NGINX_URL"
  done
done

# --- 10,000 workspaces: the same Lua-driven request on 1 host and cycling over N hosts (public port 3000,
# so no cookie per host is needed; the lookup, access and forwarding path is otherwise the same).
cat >"$WORK/hosts.lua" <<'EOF'
local threads = 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
function init(args) n = tonumber(args[1]); port = args[2]; step = tonumber(args[3]); i = tid end
function request()
  local host = string.format("3000-bench-%d.localhost:%s", i % n, port)
  i = i + step
  return wrk.format("GET", "/", { ["Host"] = host })
end
EOF
threads_for() { echo $(( $1 < 2 ? $1 : 2 )); }
echo "registering $WORKSPACES workspaces (each: a grain read and an observer subscription)..." >&2
# Two connections walk the hosts in order, one thread each: every host's first request misses the cache.
read -r REGISTER_RPS _ _ REGISTER_REQUESTS < <(DURATION=20s WRK_SCRIPT_ARGS="$WORKSPACES $PROXY_PORT 2" run_wrk 2 "$PROXY_URL" -s "$WORK/hosts.lua")
(( REGISTER_REQUESTS >= WORKSPACES )) || { echo "only $REGISTER_REQUESTS requests: not every workspace was registered" >&2; exit 1; }

for rep in $(seq 1 "$REPS"); do
  for c in "${CONNS[@]}"; do
    echo "run $rep/$REPS, $c connections, 1 vs $WORKSPACES workspaces..." >&2
    WRK_SCRIPT_ARGS="1 $PROXY_PORT $(threads_for "$c")" measure "one.$c" run_wrk "$c" "$PROXY_URL" -s "$WORK/hosts.lua"
    WRK_SCRIPT_ARGS="$WORKSPACES $PROXY_PORT $(threads_for "$c")" measure "many.$c" run_wrk "$c" "$PROXY_URL" -s "$WORK/hosts.lua"
  done
done
PROXY_RSS_AFTER_LOAD_KB=$(rss_kb "$PROXY_PID")

for c in "${CONNS[@]}"; do
  for k in direct proxy nginx one many; do summarize "$k.$c"; done
done

# --- idle WebSockets: a fresh proxy, RSS after a full GC before and after WEBSOCKETS idle sockets.
stop_proxy
start_proxy
COOKIE="$(sign_in_cookie "$WS_ID")"
curl -s -o /dev/null -H "Host: $PROXY_HOST" -H "Cookie: $COOKIE" "$PROXY_URL"
sleep 2
read -r _ PROXY_BASE_RSS PROXY_BASE_HEAP < <(curl -s "http://127.0.0.1:$CONTROL_PORT/rss"; echo)

ws_hold() { # url port count [cookie origin] -> holds until its stdin closes; prints when open
  mkfifo "$WORK/ws.in.$2"
  dotnet "$BENCH_DLL" ws-clients "$@" <"$WORK/ws.in.$2" >"$WORK/ws.out.$2" 2>&1 &
  WS_PID=$!
  PIDS+=("$WS_PID")
  exec {WS_FD}>"$WORK/ws.in.$2"
  for _ in $(seq 1 600); do
    grep -q '^open' "$WORK/ws.out.$2" 2>/dev/null && break
    kill -0 "$WS_PID" 2>/dev/null || { cat "$WORK/ws.out.$2" >&2; exit 1; }
    sleep 0.1
  done
  WS_OPEN=$(awk '/^open/ { print $2 }' "$WORK/ws.out.$2")
}
ws_release() {
  exec {WS_FD}>&-
  wait "$WS_PID" 2>/dev/null || true
}

echo "opening $WEBSOCKETS idle WebSockets through the proxy..." >&2
ws_hold "ws://$PROXY_HOST/ws" "$PROXY_PORT" "$WEBSOCKETS" "$COOKIE" "http://$PROXY_HOST"
PROXY_WS_OPEN=$WS_OPEN
sleep 2
read -r _ PROXY_WS_RSS PROXY_WS_HEAP < <(curl -s "http://127.0.0.1:$CONTROL_PORT/rss"; echo)
ws_release

nginx_rss_kb() { # all nginx processes of our prefix: master and workers
  local total=0 master
  master=$(cat "$WORK/nginx/nginx.pid")
  total=$(rss_kb "$master")
  for child in $(pgrep -P "$master"); do total=$(( total + $(rss_kb "$child") )); done
  echo "$total"
}
NGINX_BASE_RSS=$(nginx_rss_kb)
echo "opening $WEBSOCKETS idle WebSockets through nginx..." >&2
ws_hold "ws://127.0.0.1:$NGINX_PORT/ws" "$NGINX_PORT" "$WEBSOCKETS"
NGINX_WS_OPEN=$WS_OPEN
sleep 2
NGINX_WS_RSS=$(nginx_rss_kb)
ws_release

# ---------------------------------------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
per_ws() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { if (n > 0) printf "%.1f", (b - a) / n; else print "n/a" }'; }
fmt_rps() { awk -v v="$1" 'BEGIN { printf "%.0f", v }'; }

CPU="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
{
  echo "### Workspace proxy (issue 4)"
  echo
  echo "Command: \`$COMMAND\`, $(date -u +%Y-%m-%dT%H:%MZ)."
  echo "Machine: $(nproc) cores ($CPU), $(awk '/MemTotal/ { printf "%.0f GiB", $2/1048576 }' /proc/meminfo);"
  echo "wrk, the upstream (Kestrel, 13-byte body), the proxy and nginx all share these cores, so absolute figures are"
  echo "low and noisy: compare within the table. .NET $(dotnet --version), workstation GC (Directory.Build.props);"
  echo "$(nginx -v 2>&1 | sed 's/nginx version: //') with upstream keep-alive, \`worker_processes auto\`, access log off."
  echo "Medians of $REPS runs of $DURATION each; wrk with min(connections, 2) threads; latency in ms."
  echo
  echo "| connections | direct rps | proxy rps | nginx rps | proxy/direct | proxy/nginx | direct p50 / p99 | proxy p50 / p99 | nginx p50 / p99 |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for c in "${CONNS[@]}"; do
    echo "| $c | $(fmt_rps "${RESULT[direct.$c.rps]}") | $(fmt_rps "${RESULT[proxy.$c.rps]}") | $(fmt_rps "${RESULT[nginx.$c.rps]}") | $(ratio "${RESULT[proxy.$c.rps]}" "${RESULT[direct.$c.rps]}") | $(ratio "${RESULT[proxy.$c.rps]}" "${RESULT[nginx.$c.rps]}") | ${RESULT[direct.$c.p50]} / ${RESULT[direct.$c.p99]} | ${RESULT[proxy.$c.p50]} / ${RESULT[proxy.$c.p99]} | ${RESULT[nginx.$c.p50]} / ${RESULT[nginx.$c.p99]} |"
  done
  echo
  echo "\"proxy\" is the private IDE host \`<id>.localhost\` with the owner's access cookie: host parse, route cache,"
  echo "cookie HMAC check, YARP forwarding, activity flag."
  echo
  echo "**$WORKSPACES workspaces.** The same wrk script sends each request to the next of N public-port hosts"
  echo "\`3000-bench-<i>.localhost\`; all N were read from their grain and subscribed first (a first pass of"
  echo "$REGISTER_REQUESTS requests over the N hosts in order ran at $(fmt_rps "$REGISTER_RPS") requests/s with 2 connections, cache misses included)."
  echo "Proxy RSS after these runs: $(( PROXY_RSS_AFTER_LOAD_KB / 1024 )) MB."
  echo
  echo "| connections | 1 workspace rps | $WORKSPACES workspaces rps | ratio | 1 workspace p50 / p99 | $WORKSPACES workspaces p50 / p99 |"
  echo "|---|---|---|---|---|---|"
  for c in "${CONNS[@]}"; do
    echo "| $c | $(fmt_rps "${RESULT[one.$c.rps]}") | $(fmt_rps "${RESULT[many.$c.rps]}") | $(ratio "${RESULT[many.$c.rps]}" "${RESULT[one.$c.rps]}") | ${RESULT[one.$c.p50]} / ${RESULT[one.$c.p99]} | ${RESULT[many.$c.p50]} / ${RESULT[many.$c.p99]} |"
  done
  echo
  echo "**Idle WebSockets** ($WEBSOCKETS opened, each echoed once, then idle with no pings; RSS read after a forced"
  echo "compacting GC in the proxy, and for nginx summed over master and workers):"
  echo
  echo "| | open | RSS before | RSS with sockets | per WebSocket | GC heap per WebSocket |"
  echo "|---|---|---|---|---|---|"
  echo "| proxy | $PROXY_WS_OPEN | $(( PROXY_BASE_RSS / 1024 )) MB | $(( PROXY_WS_RSS / 1024 )) MB | $(per_ws "$PROXY_BASE_RSS" "$PROXY_WS_RSS" "$PROXY_WS_OPEN") KB | $(per_ws "$PROXY_BASE_HEAP" "$PROXY_WS_HEAP" "$PROXY_WS_OPEN") KB |"
  echo "| nginx | $NGINX_WS_OPEN | $(( NGINX_BASE_RSS / 1024 )) MB | $(( NGINX_WS_RSS / 1024 )) MB | $(per_ws "$NGINX_BASE_RSS" "$NGINX_WS_RSS" "$NGINX_WS_OPEN") KB | |"
} >"$HERE/RESULTS.md"

cat "$HERE/RESULTS.md"
