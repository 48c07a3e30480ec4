#!/usr/bin/env bash
# registry.sh: a private OCI registry (Debian's docker-registry, the CNCF distribution registry) on loopback, for the
# tests of devcontainer features and prebuilds. Idempotent.
#
#   bash scripts/registry.sh start <data folder> <port>   installs docker-registry when missing, starts it on
#                                                        127.0.0.1:<port> with its storage in the folder, waits until it
#                                                        answers; prints its address (127.0.0.1:<port>) on its last line
#   bash scripts/registry.sh stop <data folder>          stops the registry of that folder
#   bash scripts/registry.sh install                     only installs docker-registry when it is missing
set -euo pipefail

say() { echo "registry: $*" >&2; }

install_registry() {
  command -v docker-registry >/dev/null 2>&1 && return 0
  if [[ $(id -u) -ne 0 ]]; then
    say "docker-registry is missing, and installing it needs root: run as root, or apt-get install docker-registry"
    exit 1
  fi
  say "installing Debian's docker-registry (from this machine's apt sources)"
  # Keep the package's scripts from starting a registry of their own on the default port.
  local policy=/usr/sbin/policy-rc.d had_policy=0
  [[ -e $policy ]] && had_policy=1
  [[ $had_policy -eq 1 ]] || printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends docker-registry \
    >/tmp/clouddevenv-registry.log 2>&1 || { tail -n 30 /tmp/clouddevenv-registry.log >&2; say "installing docker-registry failed"; exit 1; }
  [[ $had_policy -eq 1 ]] || rm -f "$policy"
}

command=${1:-}
case "$command" in
  install)
    install_registry
    ;;
  start)
    data=$(realpath -m "${2:?start needs a data folder}")
    port=${3:?start needs a port}
    install_registry
    mkdir -p "$data/storage"
    if [[ -f "$data/pid" ]] && kill -0 "$(cat "$data/pid")" 2>/dev/null; then
      echo "127.0.0.1:$port"
      exit 0
    fi
    cat >"$data/config.yml" <<YML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $data/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YML
    nohup docker-registry serve "$data/config.yml" >"$data/registry.log" 2>&1 &
    echo $! >"$data/pid"
    for _ in $(seq 1 100); do
      curl -fs "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && { echo "127.0.0.1:$port"; exit 0; }
      sleep 0.1
    done
    tail -n 20 "$data/registry.log" >&2
    say "the registry does not answer on 127.0.0.1:$port"
    exit 1
    ;;
  stop)
    data=$(realpath -m "${2:?stop needs a data folder}")
    if [[ -f "$data/pid" ]] && kill -0 "$(cat "$data/pid")" 2>/dev/null; then
      kill "$(cat "$data/pid")"
      rm -f "$data/pid"
      say "stopped the registry of $data"
    fi
    ;;
  *)
    say "usage: registry.sh start <data folder> <port> | stop <data folder> | install"
    exit 2
    ;;
esac
