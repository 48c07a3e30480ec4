# Sourced (not run) by the benchmarks that measure the real host: builds it (Release), starts it in local mode on free
# loopback ports with the real Docker engine, signs a user in with the development sign-in, calls the API as that user,
# and stops only what it started. Needs: bash scripts/ensure-docker.sh && bash scripts/build-images.sh
#
#   source bench/host.sh
#   bench_host_start "$work" "$work/repos"   # sets BENCH_API (http://127.0.0.1:<port>), BENCH_PROXY_PORT, BENCH_HOST_PID
#   bench_sign_in bench                      # a session for user "bench" (cookie jar and CSRF token in $work)
#   bench_api POST /api/workspaces '{"repoUrl":"file://…"}'
#   bench_host_stop

# Also for any benchmark: bench_need <command> <Debian package> installs a tool it needs from the machine's own sources.
bench_need() {
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "installing $2 (Debian)..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }
  fi
}

bench_free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

bench_host_start() { # work-folder local-repo-roots
  BENCH_WORK=$1
  local roots=$2 root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  echo "building the host (Release)..." >&2
  dotnet build -c Release "$root/src/Silo" -v q -nologo >"$BENCH_WORK/host-build.log" 2>&1 || { cat "$BENCH_WORK/host-build.log" >&2; return 1; }
  local api_port silo_port gateway_port
  api_port=$(bench_free_port); BENCH_PROXY_PORT=$(bench_free_port); silo_port=$(bench_free_port); gateway_port=$(bench_free_port)
  BENCH_API="http://127.0.0.1:$api_port"
  echo "starting the host: API $BENCH_API, proxy 127.0.0.1:$BENCH_PROXY_PORT..." >&2
  CDE_DATA_DIR="$BENCH_WORK/host-data" CDE_LOCAL_REPO_ROOTS="$roots" ASPNETCORE_ENVIRONMENT=Production \
    dotnet "$root/src/Silo/bin/Release/net10.0/CloudDevEnv.Silo.dll" \
    "--Host:ApiUrl=$BENCH_API" "--Host:ProxyUrl=http://127.0.0.1:$BENCH_PROXY_PORT" "--Host:SiloPort=$silo_port" \
    "--Host:GatewayPort=$gateway_port" "--Proxy:PublicPort=$BENCH_PROXY_PORT" >"$BENCH_WORK/host.log" 2>&1 &
  BENCH_HOST_PID=$!
  for _ in $(seq 1 300); do curl -sf -o /dev/null "$BENCH_API/healthz" && return 0; sleep 0.2; done
  tail -50 "$BENCH_WORK/host.log" >&2
  return 1
}

bench_sign_in() { # user
  curl -sf -o /dev/null -c "$BENCH_WORK/cookies" -X POST --data-urlencode "user=$1" "$BENCH_API/signin/dev"
  BENCH_CSRF=$(curl -sf -b "$BENCH_WORK/cookies" "$BENCH_API/api/me" | jq -r .csrfToken)
}

bench_api() { # method path [json body]: the response body; fails on an error status
  local args=(-sf -b "$BENCH_WORK/cookies" -X "$1" -H "X-CSRF-Token: $BENCH_CSRF")
  if [[ $# -ge 3 ]]; then args+=(-H 'Content-Type: application/json' -d "$3"); fi
  curl "${args[@]}" "$BENCH_API$2"
}

bench_host_stop() {
  if [[ -n "${BENCH_HOST_PID:-}" ]]; then
    kill "$BENCH_HOST_PID" 2>/dev/null || true
    wait "$BENCH_HOST_PID" 2>/dev/null || true
    BENCH_HOST_PID=""
  fi
}
