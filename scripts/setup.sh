#!/usr/bin/env bash
# Everything before the first start, without starting: install the locked npm dependencies and
# build, make PostgreSQL and Redis reachable, create the database and apply the migrations.
# `npm run setup`; scripts/start.sh and scripts/test.sh run the same first steps.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
bash scripts/ensure-services.sh
node dist/src/cli.js migrate
