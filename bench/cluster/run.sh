#!/usr/bin/env bash
# Cluster mode measured: workspace grain commands per second with 1 and 3 silos (reads answered from memory, writes
# stored in PostgreSQL), 10,000 workspace grains across 3 silos and their memory per grain, and the failover time of a
# silo killed under a running workspace (median of 5 kills). Silos are processes on a private PostgreSQL on loopback,
# with the runtime double for containers. Not a test; bounded in count and time.
#   SECONDS_PER_RUN (20)  GRAINS (10000)  KILLS (5)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d /tmp/cde-cluster-bench-XXXXXX)"
chmod 755 "$work"
cleanup() { bash "$root/scripts/postgres.sh" stop "$work/pg" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

connection=$(bash "$root/scripts/postgres.sh" start "$work/pg" "${BENCH_DB_PORT:-55499}" | tail -n 1)
dotnet build "$here/ClusterBench" -c Release --nologo -v quiet -clp:ErrorsOnly
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
dotnet "$here/ClusterBench/bin/Release/net10.0/ClusterBench.dll" run "$connection"
