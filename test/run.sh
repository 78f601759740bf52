#!/usr/bin/env bash
# `npm test`: services up, then lint and types, then the builds the end-to-end tests
# start (the server, and the SDK package), then every test (unit, actor, store contract,
# end to end, the SDK in chromium) with vitest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/services.sh
echo "[test] lint (biome)"
npx biome check .
echo "[test] typecheck"
npx tsc -p tsconfig.json --noEmit
echo "[test] build (the server, and the SDK package: browser libraries and no Node types, so a Node global in anything it imports fails here)"
rm -rf dist client/dist
npm run build --silent
echo "[test] vitest"
npx vitest run "$@"
