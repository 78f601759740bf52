#!/usr/bin/env bash
# `npm test`: services up, then lint and types, then the build the end-to-end tests
# start, then every test (unit, actor, store contract and end to end) with vitest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/services.sh
echo "[test] lint (biome)"
npx biome check .
echo "[test] typecheck"
npx tsc -p tsconfig.json --noEmit
echo "[test] build"
rm -rf dist
npx tsc -p tsconfig.build.json
echo "[test] vitest"
npx vitest run "$@"
