#!/usr/bin/env bash
# `npm run test:runtimes`: Colink on Node 22 and Node 24, in a Debian 13 (trixie) root,
# since this machine's glibc is too old for their uWebSockets.js binaries. It builds the
# root once (root.sh, cached in .cache/runtimes/), builds dist/ here into a staging copy
# of the project, and for each Node version unpacks that Node into the root (node.sh),
# runs `npm ci --omit=dev` there with this machine's npm (npm.sh), and runs the
# end-to-end check (check.mjs) in the root (chroot.sh). Prints what each phase took and
# exits non-zero if anything failed. Where it cannot run (preflight.sh), it prints one
# line saying why and exits 0. COLINK_RUNTIMES_NODES chooses the majors (default "22 24").
set -euo pipefail
cd "$(dirname "$0")/../.."
here=test/runtimes
. "$here/lib.sh"
export PATH=$PATH:/usr/sbin:/sbin

if ! reason=$(bash "$here/preflight.sh"); then
  say "skipped: $reason"
  exit 0
fi

majors=${COLINK_RUNTIMES_NODES:-22 24}
cache=$(realpath -m .cache/runtimes)
root=$cache/trixie
stage=$cache/stage
mkdir -p "$cache"
# One run at a time: runs share the root.
exec 9>"$cache/lock"
flock -w 1800 9 || { echo "[runtimes] another run still holds $cache/lock" >&2; exit 1; }

started=$(now)
declare -A took result
failed=0

t=$(now)
bash "$here/root.sh" "$cache"
took[debootstrap]=$(since "$t")

t=$(now)
npm_version=$(bash "$here/npm.sh" "$root")
say "npm $npm_version copied into the root"
say "build: tsc into $stage/dist"
rm -rf "$stage"
mkdir -p "$stage/client"
npx tsc -p tsconfig.build.json --outDir "$stage/dist"
cp package.json package-lock.json "$here/check.mjs" "$stage/"
cp client/package.json "$stage/client/"
took[build]=$(since "$t")

# The environment in the root: nothing from here but the registry settings.
env_vars=(
  HOME=/root
  "npm_config_registry=$(npm config get registry)"
  npm_config_cache=/var/cache/npm
  npm_config_update_notifier=false
  npm_config_fund=false
  npm_config_audit=false
)
[ -f "$root/etc/ssl/colink/npm-cafile.pem" ] && env_vars+=(npm_config_cafile=/etc/ssl/colink/npm-cafile.pem)
[ -f "$root/etc/ssl/colink/node-extra-ca.pem" ] && env_vars+=(NODE_EXTRA_CA_CERTS=/etc/ssl/colink/node-extra-ca.pem)
for name in https_proxy HTTPS_PROXY http_proxy HTTP_PROXY no_proxy NO_PROXY; do
  [ -n "${!name:-}" ] && env_vars+=("$name=${!name}")
done
for key in proxy https-proxy noproxy; do
  value=$(npm config get "$key")
  case $value in "" | null | undefined) ;; *) env_vars+=("npm_config_${key//-/_}=$value") ;; esac
done

for major in $majors; do
  say "---- Node $major ----"
  app=/srv/colink-node$major
  in_root=(bash "$here/chroot.sh" "$root" "$app" "${env_vars[@]}" "PATH=/opt/node$major/bin:/usr/local/bin:/usr/bin:/bin" --)
  result[$major]="node unpack FAIL"

  t=$(now)
  if ! version=$(bash "$here/node.sh" "$cache" "$root" "$major"); then
    failed=1
    continue
  fi
  took[node$major]=$(since "$t")
  say "node $version unpacked into /opt/node$major (${took[node$major]} s)"
  rm -rf "${root:?}$app"
  mkdir -p "$root$app"
  cp -a "$stage/." "$root$app/"

  t=$(now)
  if ! "${in_root[@]}" npm ci --omit=dev 2>&1 | sed 's/^/[npm ci] /'; then
    took[ci$major]=$(since "$t")
    result[$major]="node $version, npm ci FAIL (${took[ci$major]} s)"
    failed=1
    continue
  fi
  took[ci$major]=$(since "$t")

  t=$(now)
  check=ok
  "${in_root[@]}" node check.mjs || check=FAIL
  took[check$major]=$(since "$t")
  [ "$check" = ok ] || failed=1
  facts=$(node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const bad = r.steps.filter((s) => !s.ok).map((s) => `; failed: ${s.name}: ${s.error}`).join("");
    console.log(`${r.node}, glibc ${r.glibc} (Debian ${r.debian}), uWS ${r.uws ?? "not printed"}${bad}`);
  ' "$root$app/check-result.json" 2>/dev/null || echo "node $version, no check result")
  result[$major]="$facts
      node fetch+unpack ${took[node$major]} s, npm ci ok ${took[ci$major]} s, check $check ${took[check$major]} s"
done

say "---- summary ----"
say "debootstrap (trixie root): ${took[debootstrap]} s; build (tsc) and npm copy: ${took[build]} s"
for major in $majors; do
  say "Node $major: ${result[$major]}"
done
say "total: $(since "$started") s"
if [ "$failed" != 0 ]; then
  say "FAILED"
  exit 1
fi
say "passed"
