#!/usr/bin/env bash
# postgres.sh: a private PostgreSQL server for cluster mode and its tests, on loopback. Idempotent.
#
#   bash scripts/postgres.sh start <data folder> <port>   installs Debian's postgresql when missing, makes the cluster
#                                                        (initdb) when the folder is new, starts it unless it runs,
#                                                        waits until it answers, creates the database "clouddevenv";
#                                                        prints the connection string on its last line
#   bash scripts/postgres.sh stop <data folder>          stops the server of that folder (fast shutdown)
#   bash scripts/postgres.sh install                     only installs Debian's postgresql when it is missing
#
# The server listens on 127.0.0.1:<port> only (and a socket in the data folder), runs as the postgres user (it refuses
# root), and trusts nothing but a password: user "clouddevenv", whose password is kept in <data folder>/password.
set -euo pipefail

say() { echo "postgres: $*" >&2; }

command=${1:-}
data=${2:-}
if [[ "$command" != install ]]; then
  [[ -n "$command" && -n "$data" ]] || { say "usage: postgres.sh start <data folder> <port> | stop <data folder> | install"; exit 2; }
  data=$(realpath -m "$data")
fi

bin_dir() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [[ -n "$found" && -x "$found/pg_ctl" ]] && echo "$found"
}

as_postgres() { runuser -u postgres -- "$@"; }

install_server() {
  if [[ $(id -u) -ne 0 ]]; then
    say "PostgreSQL's server is missing, and installing it needs root: run as root, or apt-get install postgresql"
    exit 1
  fi
  say "installing Debian's postgresql (from this machine's apt sources)"
  # Keep the package's scripts from starting a cluster of their own: this script starts the one it needs.
  mkdir -p /usr/sbin
  local policy=/usr/sbin/policy-rc.d had_policy=0
  [[ -e $policy ]] && had_policy=1
  [[ $had_policy -eq 1 ]] || printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends postgresql \
    >/tmp/clouddevenv-postgresql.log 2>&1 || { tail -n 30 /tmp/clouddevenv-postgresql.log >&2; say "installing postgresql failed"; exit 1; }
  [[ $had_policy -eq 1 ]] || rm -f "$policy"
}

case "$command" in
  install)
    bin_dir >/dev/null || install_server
    ;;
  start)
    port=${3:-}
    [[ "$port" =~ ^[0-9]+$ ]] || { say "start needs a port"; exit 2; }
    bin=$(bin_dir || true)
    if [[ -z "$bin" ]]; then
      install_server
      bin=$(bin_dir) || { say "postgresql is installed but no pg_ctl was found under /usr/lib/postgresql"; exit 1; }
    fi

    mkdir -p "$data"
    chown postgres:postgres "$data"
    chmod 700 "$data"
    if [[ ! -s "$data/password" ]]; then
      head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$data/password"
    fi
    chown postgres:postgres "$data/password"
    chmod 600 "$data/password"
    password=$(cat "$data/password")

    if [[ ! -f "$data/cluster/PG_VERSION" ]]; then
      say "initdb $data/cluster"
      as_postgres "$bin/initdb" -D "$data/cluster" -U clouddevenv --pwfile="$data/password" --auth=scram-sha-256 \
        --encoding=UTF8 --locale=C.UTF-8 >"$data/initdb.log" 2>&1 || { tail -n 20 "$data/initdb.log" >&2; say "initdb failed"; exit 1; }
    fi

    if ! as_postgres "$bin/pg_ctl" -D "$data/cluster" status >/dev/null 2>&1; then
      say "starting on 127.0.0.1:$port (log $data/server.log)"
      as_postgres "$bin/pg_ctl" -D "$data/cluster" -l "$data/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$data/cluster -c max_connections=200 -c fsync=on" \
        start >/dev/null || { tail -n 20 "$data/server.log" >&2; say "the server did not start"; exit 1; }
    fi

    for _ in $(seq 1 60); do
      PGPASSWORD=$password psql -h 127.0.0.1 -p "$port" -U clouddevenv -d postgres -Atqc 'select 1' >/dev/null 2>&1 && break
      sleep 0.5
    done
    PGPASSWORD=$password psql -h 127.0.0.1 -p "$port" -U clouddevenv -d postgres -Atqc 'select 1' >/dev/null \
      || { tail -n 20 "$data/server.log" >&2; say "the server does not answer on 127.0.0.1:$port"; exit 1; }
    if [[ -z $(PGPASSWORD=$password psql -h 127.0.0.1 -p "$port" -U clouddevenv -d postgres -Atqc "select 1 from pg_database where datname = 'clouddevenv'") ]]; then
      PGPASSWORD=$password psql -h 127.0.0.1 -p "$port" -U clouddevenv -d postgres -qc 'create database clouddevenv' >/dev/null
    fi
    echo "Host=127.0.0.1;Port=$port;Username=clouddevenv;Password=$password;Database=clouddevenv"
    ;;
  stop)
    bin=$(bin_dir || true)
    if [[ -n "$bin" && -f "$data/cluster/PG_VERSION" ]] && as_postgres "$bin/pg_ctl" -D "$data/cluster" status >/dev/null 2>&1; then
      as_postgres "$bin/pg_ctl" -D "$data/cluster" -m fast -w -t 60 stop >/dev/null
      say "stopped the server of $data"
    fi
    ;;
  *)
    say "unknown command '$command'"
    exit 2
    ;;
esac
