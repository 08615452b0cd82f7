#!/usr/bin/env bash
# Installs the project's npm dependencies exactly as package-lock.json pins them (`npm ci`), then
# builds. Skipped when node_modules is already newer than the lock and package.json.
# The lock lists msgpackr-extract's optional platform packages of every platform (darwin, win32,
# linux-arm …); npm ci installs only the one of this machine and skips the others, so it never
# needs them from the registry.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]] || [[ package.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi
npm run build --silent
