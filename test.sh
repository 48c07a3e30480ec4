#!/usr/bin/env bash
# test.sh: runs every test of CloudDevEnv. Installs and starts what the tests need, idempotently:
# the .NET packages, a Docker engine (Debian's docker.io), git and strace, the locally built workspace
# images, and the peers (the devcontainer reference CLI, an OpenID provider, Redocly, s3rver, Kiota). Prints one closing
# line: "N passed, N failed, N skipped".
#
#   ./test.sh                 everything
#   ./test.sh --filter EXPR   only tests matching a dotnet test filter (e.g. FullyQualifiedName~Quota)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$REPO"
FILTER=()
if [[ "${1:-}" == "--filter" && -n "${2:-}" ]]; then
  FILTER=(--filter "$2")
fi

say() { echo "test.sh: $*"; }
started=$(date +%s)

say "1/5 Docker engine, and the Debian tools the tests run (git, strace)"
bash scripts/ensure-docker.sh
bash scripts/install-test-packages.sh

say "2/5 workspace images (built once; minutes on a new machine)"
bash scripts/build-images.sh

say "3/5 tools the tests run as peers (npm: devcontainer CLI, OpenID provider, Redocly, s3rver; dotnet: Kiota)"
bash scripts/install-node-tools.sh
dotnet tool restore

say "4/5 build"
dotnet build CloudDevEnv.sln --nologo -v quiet -clp:ErrorsOnly

say "5/5 tests"
results=$(mktemp -d)
status=0
# One project at a time: the machine has two cores, and the Docker tests share one engine.
for project in $(dotnet sln CloudDevEnv.sln list | grep -E '^tests/.*Tests\.csproj$'); do
  name=$(basename "$project" .csproj)
  say "   $name"
  if ! dotnet test "$project" --no-build --nologo "${FILTER[@]}" \
      --logger "trx;LogFileName=$name.trx" --results-directory "$results" \
      --blame-hang-timeout 10m -- RunConfiguration.TreatNoTestsAsError=false; then
    status=1
  fi
done

passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [[ -f "$trx" ]] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  value() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  passed=$((passed + $(value passed)))
  failed=$((failed + $(value failed)))
  skipped=$((skipped + $(value notExecuted)))
done
if [[ $status -ne 0 && $failed -eq 0 ]]; then
  failed=1   # a test host that crashed counts, even when no test result says so
fi

say "finished in $(( $(date +%s) - started )) s; results in $results"
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
