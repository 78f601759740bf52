#!/usr/bin/env bash
# `npm test`: services up, then lint and types, then the builds the end-to-end tests
# start (the server, the SDK package and the web client), then every test (unit, actor,
# store contract, end to end, the SDK and the web client in chromium) with vitest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/services.sh
echo "[test] lint (biome)"
npx biome check .
echo "[test] typecheck"
npx tsc -p tsconfig.json --noEmit
echo "[test] build (the server; the SDK package: browser libraries and no Node types, so a Node global in anything it imports fails here; the web client, type-checked and bundled by Vite)"
rm -rf dist client/dist web/dist
npm run build --silent
echo "[test] vitest"
npx vitest run "$@"
