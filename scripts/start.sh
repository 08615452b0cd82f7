#!/usr/bin/env bash
# Quick start: install, make PostgreSQL and Redis reachable, migrate, then serve the API and
# the worker in one process on $PORT (3000). MONEDERO_ROLE=api|worker runs one of them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
bash scripts/ensure-services.sh
exec node dist/src/main.js
