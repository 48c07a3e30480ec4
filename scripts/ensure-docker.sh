#!/usr/bin/env bash
# ensure-docker.sh: makes sure a Docker engine answers on this machine. Idempotent.
#
#   bash scripts/ensure-docker.sh
#
# - installs Debian's docker.io when dockerd is missing (apt-get update once, then install);
# - starts dockerd in the background when the engine does not answer (no systemd here),
#   with a config of its own (/etc/clouddevenv/dockerd.json) that keeps the engine off the
#   network: no registry mirrors, no iptables/NAT/IP forwarding (containers reach nothing but
#   the host; published ports go through docker-proxy on 127.0.0.1), ports published without
#   an address bind to 127.0.0.1;
# - waits (bounded) until `docker info` answers; on failure prints the tail of dockerd's log
#   and exits non-zero.
#
# Environment:
#   DOCKER_HOST                 another engine: only checked, never started
#   CDE_DOCKER_WAIT_SECONDS     how long to wait for the engine (default 60)
#   CDE_DOCKERD_LOG             dockerd's log (default /var/log/clouddevenv-dockerd.log)
#   CDE_DOCKER_ALLOW_EGRESS=1   let containers reach the network (iptables NAT); off by default
#   CDE_DOCKER_ADDRESS_POOL     where workspace networks get their addresses (default 10.201.0.0/16, /28 each)
#   CDE_DOCKER_PIDS_MAX         processes of all the engine's containers together (default 32768)
set -euo pipefail

SOCKET=/var/run/docker.sock
PIDFILE=/var/run/docker.pid
LOG=${CDE_DOCKERD_LOG:-/var/log/clouddevenv-dockerd.log}
CONFIG=/etc/clouddevenv/dockerd.json
WAIT_SECONDS=${CDE_DOCKER_WAIT_SECONDS:-60}

say() { echo "ensure-docker: $*"; }

engine_answers() {
  timeout 10 docker info --format '{{.ServerVersion}}' >/dev/null 2>&1
}

docker_client() {
  command -v docker >/dev/null 2>&1
}

# 0. Another engine named by DOCKER_HOST: check it, start nothing.
if [[ -n "${DOCKER_HOST:-}" && "${DOCKER_HOST}" != "unix://${SOCKET}" ]]; then
  if docker_client && engine_answers; then
    say "the engine at DOCKER_HOST=${DOCKER_HOST} answers (version $(docker info --format '{{.ServerVersion}}'))"
    exit 0
  fi
  say "DOCKER_HOST=${DOCKER_HOST} does not answer, and this script only starts a local engine" >&2
  exit 1
fi

# 1. Already answering?
if docker_client && engine_answers; then
  say "engine already answers on ${SOCKET} (version $(docker info --format '{{.ServerVersion}}'))"
  exit 0
fi

# 2. Install Debian's docker.io when dockerd is missing.
if ! command -v dockerd >/dev/null 2>&1; then
  say "dockerd is missing: installing Debian's docker.io"
  export DEBIAN_FRONTEND=noninteractive
  # Keep the package's init script from starting an engine of its own configuration.
  policy_created=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    policy_created=1
  fi
  cleanup_policy() { if [[ $policy_created == 1 ]]; then rm -f /usr/sbin/policy-rc.d; fi; }
  trap cleanup_policy EXIT
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends docker.io >/tmp/clouddevenv-docker-install.log 2>&1 || {
    tail -n 30 /tmp/clouddevenv-docker-install.log >&2
    say "installing docker.io failed" >&2
    exit 1
  }
  cleanup_policy
  trap - EXIT
  say "installed $(dpkg-query -W -f '${Package} ${Version}' docker.io)"
fi

if ! docker_client; then
  say "no docker client on PATH (docker.io ships /usr/bin/docker)" >&2
  exit 1
fi

# 3. Write the daemon's configuration (ours, so that /etc/docker/daemon.json is not read).
mkdir -p "$(dirname "$CONFIG")" "$(dirname "$LOG")"
if [[ "${CDE_DOCKER_ALLOW_EGRESS:-0}" == 1 ]]; then net=true; else net=false; fi
# Every workspace has a bridge network of its own: the engine's default pools hold about 30, this one 4096 (/28 each).
ADDRESS_POOL=${CDE_DOCKER_ADDRESS_POOL:-10.201.0.0/16}
# Every container of the engine, the RUN steps of image builds included (the classic builder takes no per-build
# process limit), runs under one cgroup whose process count is bounded: a fork bomb in a Dockerfile cannot take the
# host's process table. Workspaces have a limit of their own below it (Runtime:Docker:PidsLimit).
CGROUP_PARENT=clouddevenv
PIDS_MAX=${CDE_DOCKER_PIDS_MAX:-32768}
limit_pids() {
  local dir
  if [[ -d /sys/fs/cgroup/pids ]]; then                                # cgroup v1, the engine's cgroupfs driver
    dir=/sys/fs/cgroup/pids/$CGROUP_PARENT
  elif grep -qw pids /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then # cgroup v2
    echo +pids >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
    dir=/sys/fs/cgroup/$CGROUP_PARENT
  else
    say "no pids cgroup controller here: containers' processes are bounded per workspace only" >&2
    return 0
  fi
  if mkdir -p "$dir" 2>/dev/null && echo "$PIDS_MAX" >"$dir/pids.max" 2>/dev/null; then
    say "the engine's containers run under cgroup $CGROUP_PARENT, pids.max $PIDS_MAX"
  else
    say "could not set pids.max on $dir: containers' processes are bounded per workspace only" >&2
  fi
}
limit_pids
cat >"$CONFIG.new" <<EOF
{
  "hosts": ["unix://${SOCKET}"],
  "pidfile": "${PIDFILE}",
  "ip": "127.0.0.1",
  "iptables": ${net},
  "ip-forward": ${net},
  "ip-masq": ${net},
  "userland-proxy": true,
  "registry-mirrors": [],
  "default-address-pools": [{ "base": "${ADDRESS_POOL}", "size": 28 }],
  "cgroup-parent": "${CGROUP_PARENT}",
  "insecure-registries": [],
  "log-driver": "json-file",
  "log-opts": { "max-size": "10m", "max-file": "2" },
  "features": { "buildkit": false }
}
EOF
mv "$CONFIG.new" "$CONFIG"

# 4. Start dockerd unless one is already running (and merely slow to answer).
running_pid=""
if [[ -f "$PIDFILE" ]]; then
  pid=$(cat "$PIDFILE" 2>/dev/null || true)
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && grep -q dockerd "/proc/$pid/comm" 2>/dev/null; then
    running_pid=$pid
    say "dockerd is running (pid $pid) but does not answer yet; waiting for it"
  else
    say "removing stale pidfile $PIDFILE"
    rm -f "$PIDFILE"
  fi
fi

if [[ -z "$running_pid" ]]; then
  say "starting dockerd (config $CONFIG, log $LOG)"
  echo "==== $(date -Is) ensure-docker.sh starts dockerd" >>"$LOG"
  setsid nohup dockerd --config-file "$CONFIG" >>"$LOG" 2>&1 </dev/null &
  running_pid=$!
fi

# 5. Wait, bounded, until the engine answers.
start=$(date +%s)
while ! engine_answers; do
  if ! kill -0 "$running_pid" 2>/dev/null; then
    say "dockerd exited; the last lines of $LOG:" >&2
    tail -n 25 "$LOG" >&2
    exit 1
  fi
  if (( $(date +%s) - start >= WAIT_SECONDS )); then
    say "the engine did not answer within ${WAIT_SECONDS}s; the last lines of $LOG:" >&2
    tail -n 25 "$LOG" >&2
    exit 1
  fi
  sleep 0.5
done
say "engine answers on ${SOCKET} after $(( $(date +%s) - start ))s (version $(docker info --format '{{.ServerVersion}}'), pid $running_pid)"
