#!/usr/bin/env bash
# Installs the project's npm dependencies at the versions of package-lock.json, then builds.
# `npm install` rather than `npm ci`: the registry this project is built from lacks some optional
# platform packages of msgpackr-extract (darwin, win32, linux-arm), which `npm install` skips as
# optional while `npm ci` refuses the whole lock file. With a lock present, `npm install`
# installs the locked versions.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]] || [[ package.json -nt node_modules/.package-lock.json ]]; then
  npm install --no-audit --no-fund
fi
npm run build --silent
