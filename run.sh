#!/usr/bin/env bash
# run.sh: runs CloudDevEnv on this machine, with local Docker for workspaces. Installs and starts what it needs,
# idempotently.
#
#   ./run.sh             local mode: one process (Orleans silo + REST API + workspace proxy + dashboard), state in files
#   ./run.sh --cluster   cluster mode on loopback: a private PostgreSQL (its own data folder and port), the schema,
#                        3 silo processes, 1 API process and 1 proxy process; Ctrl-C stops them all
#
# Then:  API and dashboard  http://127.0.0.1:5000  (/dashboard, /openapi/v1.json)
#        workspaces         http://<id>.localhost:5080
# Environment (all optional):
#   CDE_DATA_DIR          grain state and reminders (local mode), keys, snapshots, the cluster's database (default ./.data)
#   CDE_LOCAL_REPO_ROOTS  ':'-separated folders whose Git repositories may be launched as file:// URLs
#   CDE_API_URL, CDE_PROXY_URL   listen addresses (default http://127.0.0.1:5000, http://127.0.0.1:5080)
#   CDE_CLUSTER_DB_PORT   cluster mode: the private PostgreSQL's port (default 55432)
#   CDE_CLUSTER_SILOS     cluster mode: how many silos (default 3)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$REPO"
say() { echo "run.sh: $*"; }

mode=local
case "${1:-}" in
  "") ;;
  --cluster) mode=cluster ;;
  *) echo "usage: ./run.sh [--cluster]" >&2; exit 2 ;;
esac

say "checking the Docker engine"
bash scripts/ensure-docker.sh
say "checking the workspace images (the first build takes a few minutes; later runs skip it)"
bash scripts/build-images.sh
say "building CloudDevEnv"
dotnet build src/Silo --nologo -v quiet -clp:ErrorsOnly

export CDE_DATA_DIR=${CDE_DATA_DIR:-$REPO/.data}
api_url=${CDE_API_URL:-http://127.0.0.1:5000}
proxy_url=${CDE_PROXY_URL:-http://127.0.0.1:5080}
if [[ $mode == local ]]; then
  say "data in $CDE_DATA_DIR; API on $api_url, workspaces on ${CDE_PROXY_URL:-http://<id>.localhost:5080}"
  exec dotnet run --project src/Silo --no-build --no-launch-profile
fi

# ---- cluster mode ----
host=src/Silo/bin/Debug/net10.0/CloudDevEnv.Silo.dll
db_port=${CDE_CLUSTER_DB_PORT:-55432}
silos=${CDE_CLUSTER_SILOS:-3}
mkdir -p "$CDE_DATA_DIR/cluster/logs"
say "PostgreSQL on 127.0.0.1:$db_port (data in $CDE_DATA_DIR/cluster/postgres)"
# In the environment, not on the command line, where every local user's ps would show its password.
export Cluster__ConnectionString
Cluster__ConnectionString=$(bash scripts/postgres.sh start "$CDE_DATA_DIR/cluster/postgres" "$db_port" | tail -n 1)
common=("--Host:DataDir=$CDE_DATA_DIR/cluster" "--Host:ApiUrl=$api_url" "--Host:ProxyUrl=$proxy_url")
dotnet "$host" migrate "${common[@]}" 2>/dev/null | grep -v '^\s' | grep -v '^info:' || true

pids=()
stopping=0
stop_all() {
  stopping=1
  trap - INT TERM EXIT
  say "stopping ${#pids[@]} processes"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  bash scripts/postgres.sh stop "$CDE_DATA_DIR/cluster/postgres" || true
}
trap stop_all INT TERM EXIT

start() {
  local name=$1; shift
  dotnet "$host" "${common[@]}" "$@" >"$CDE_DATA_DIR/cluster/logs/$name.log" 2>&1 &
  pids+=($!)
  say "$name: pid $!, log $CDE_DATA_DIR/cluster/logs/$name.log"
}

for i in $(seq 0 $((silos - 1))); do
  start "silo-$i" --Host:Role=Silo "--Host:SiloPort=$((11111 + i))" "--Host:GatewayPort=$((30000 + i))" "--Host:SiloHealthUrl=http://127.0.0.1:$((5091 + i))"
done
for _ in $(seq 1 120); do curl -fs http://127.0.0.1:5091/readyz >/dev/null 2>&1 && break; sleep 0.5; done
start api --Host:Role=Api
start proxy --Host:Role=Proxy
for _ in $(seq 1 120); do curl -fs "$api_url/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
say "cluster mode: $silos silos, API on $api_url (dashboard $api_url/dashboard/), workspaces on http://<id>.localhost:${proxy_url##*:}; Ctrl-C stops it"
wait -n "${pids[@]}" || true
[[ $stopping -eq 1 ]] || say "a process ended (see its log); stopping the rest"
