#!/bin/sh
# Launcher of the IDE bundle: runs code-server on the node that ships with the bundle, so that the
# bundle works in any glibc image (Debian, Ubuntu...) whatever node it has, or none.
IDE_HOME=$(dirname "$(dirname "$(readlink -f "$0")")")
exec "$IDE_HOME/node/bin/node" "$IDE_HOME/lib/node_modules/code-server/out/node/entry.js" "$@"
