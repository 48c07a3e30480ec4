#!/usr/bin/env bash
# run.sh: runs CloudDevEnv on this machine as one process (Orleans silo + REST API + workspace proxy
# + dashboard), with local Docker for workspaces. Installs and starts what it needs, idempotently.
#
#   ./run.sh
#
# Then:  API and dashboard  http://127.0.0.1:5000  (/dashboard, /openapi/v1.json)
#        workspaces         http://<id>.localhost:5080
# Environment (all optional):
#   CDE_DATA_DIR          grain state and reminders (default ./.data)
#   CDE_LOCAL_REPO_ROOTS  ':'-separated folders whose Git repositories may be launched as file:// URLs
#   CDE_API_URL, CDE_PROXY_URL   listen addresses (default http://127.0.0.1:5000, http://127.0.0.1:5080)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$REPO"
say() { echo "run.sh: $*"; }

say "checking the Docker engine"
bash scripts/ensure-docker.sh
say "checking the workspace images (the first build takes a few minutes; later runs skip it)"
bash scripts/build-images.sh
say "building CloudDevEnv"
dotnet build src/Silo --nologo -v quiet -clp:ErrorsOnly

export CDE_DATA_DIR=${CDE_DATA_DIR:-$REPO/.data}
say "data in $CDE_DATA_DIR; API on ${CDE_API_URL:-http://127.0.0.1:5000}, workspaces on ${CDE_PROXY_URL:-http://<id>.localhost:5080}"
exec dotnet run --project src/Silo --no-build --no-launch-profile
