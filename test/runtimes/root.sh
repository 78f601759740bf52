#!/usr/bin/env bash
# Builds, once, the Debian 13 (trixie) root the runtimes run in, with debootstrap from
# Debian's packages: `root.sh <cache dir>` leaves it at <cache dir>/trixie. It is built
# in a temporary directory and renamed when complete, so an interrupted build is never
# reused (its leftovers are removed by the next run). Delete the directory to rebuild.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cache=$(realpath -m "$1")
root=$cache/trixie
if [ -d "$root" ]; then
  say "debootstrap: reusing $root (Debian $(cat "$root/etc/debian_version"))"
  exit 0
fi

# The mirror apt uses here when this is Debian (a local mirror or proxy keeps working),
# else Debian's own. COLINK_RUNTIMES_MIRROR overrides both.
mirror=${COLINK_RUNTIMES_MIRROR:-}
if [ -z "$mirror" ] && [ "$(. /etc/os-release && echo "$ID")" = debian ]; then
  codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
  mirror=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null |
    awk -v c="$codename" '$2 == c { print $1; exit }')
fi
mirror=${mirror:-http://deb.debian.org/debian/}

for stale in "$cache"/trixie.building.*; do
  [ -e "$stale" ] || continue
  say "debootstrap: removing $stale, left by an interrupted build"
  remove_root "$stale"
done
mkdir -p "$cache/debs"
building=$cache/trixie.building.$$
log=$cache/debootstrap.log
say "debootstrap: building a trixie root from $mirror (log: $log)"
if ! debootstrap --variant=minbase --cache-dir="$cache/debs" trixie "$building" "$mirror" >"$log" 2>&1; then
  tail -n 20 "$log" >&2
  remove_root "$building"
  echo "[runtimes] debootstrap failed (log: $log)" >&2
  exit 1
fi
# debootstrap may leave /proc or /dev mounted in the root on some hosts.
unmount_under "$building"
mv "$building" "$root"
say "debootstrap: built $root (Debian $(cat "$root/etc/debian_version"))"
