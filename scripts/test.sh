#!/usr/bin/env bash
# The whole test suite on a fresh machine: install, make PostgreSQL and Redis reachable, then
# run every test against a database of its own (monedero_test, recreated each run).
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/monedero_test}"
export REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"
export NODE_ENV=test
bash scripts/install.sh
bash scripts/ensure-services.sh
bash scripts/ensure-browser.sh   # headless Chromium for the console's browser tests
npx tsc -p tsconfig.json --noEmit
npx jest --ci "$@"
