#!/usr/bin/env bash
# Makes headless Chromium available for the console's browser tests (test/browser/console-*.spec.ts):
# Debian's `chromium` package at /usr/bin/chromium (CHROMIUM_PATH overrides). No test tool ever
# downloads a browser: playwright-core drives this one through its executablePath.
set -euo pipefail
CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
log() { echo "[browser] $*" >&2; }
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

if [[ -x "$CHROMIUM_PATH" ]]; then
  log "Chromium is at $CHROMIUM_PATH"
  exit 0
fi
command -v apt-get >/dev/null 2>&1 || { log "no apt-get here: install Chromium and set CHROMIUM_PATH"; exit 1; }
log "installing Chromium (apt-get install chromium)"
as_root apt-get update -qq
DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
[[ -x "$CHROMIUM_PATH" ]] || { log "chromium installed but $CHROMIUM_PATH is missing"; exit 1; }
log "Chromium installed: $("$CHROMIUM_PATH" --version 2>/dev/null || echo unknown)"
