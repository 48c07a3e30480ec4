#!/usr/bin/env bash
# install-test-packages.sh: the Debian packages the tests run besides the Docker engine. Idempotent: installs only
# what is missing, from the machine's own apt sources.
#
#   bash scripts/install-test-packages.sh
#
# - git: the tests make local repositories to launch;
# - strace: LocalStorage.Tests reads the system calls of a storage write (fsync, rename) to prove its durability;
# - chromium: the web page's tests drive it with Playwright (tests/Api.Tests/WebPage);
# - postgresql: cluster mode's tests start private servers of it on loopback (scripts/postgres.sh);
# - docker-registry: the devcontainer features' tests publish to a private OCI registry on loopback (scripts/registry.sh);
# - docker-compose: the reference the platform's own compose reading is compared with (DevContainers.Tests/Compose);
# - kubernetes-client (kubectl): the manifest tests render k8s/overlays/* with `kubectl kustomize`, offline.
set -euo pipefail

say() { echo "install-test-packages: $*"; }

missing=()
command -v git >/dev/null 2>&1 || missing+=(git)
command -v strace >/dev/null 2>&1 || missing+=(strace)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[[ -x /usr/bin/docker-compose ]] || missing+=(docker-compose)
command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
if [[ ${#missing[@]} -eq 0 ]]; then
  bash "$(dirname "${BASH_SOURCE[0]}")/postgres.sh" install
  bash "$(dirname "${BASH_SOURCE[0]}")/registry.sh" install
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  say "missing ${missing[*]}, and installing needs root: run as root, or apt-get install ${missing[*]}" >&2
  exit 1
fi

say "installing ${missing[*]}"
apt-get -o DPkg::Lock::Timeout=600 update -qq
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" \
  >/tmp/clouddevenv-test-packages.log 2>&1 || {
  tail -n 30 /tmp/clouddevenv-test-packages.log >&2
  say "installing ${missing[*]} failed" >&2
  exit 1
}
bash "$(dirname "${BASH_SOURCE[0]}")/postgres.sh" install
bash "$(dirname "${BASH_SOURCE[0]}")/registry.sh" install
