#!/usr/bin/env bash
# Runs one command in the root with a cleared environment:
#   chroot.sh <root> <dir in the root> [NAME=VALUE ...] -- <command> [args ...]
# /proc, /dev and /dev/pts are mounted for the command and unmounted afterwards, also
# when it fails or this script is interrupted; processes it left behind in the root are
# killed first. The host's resolv.conf and hosts are copied in, so names resolve.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

root=$(realpath "$1")
dir=$2
shift 2
vars=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
  vars+=("$1")
  shift
done
[ "${1:-}" = -- ] || { echo "usage: chroot.sh <root> <dir> [NAME=VALUE ...] -- <command> ..." >&2; exit 2; }
shift

cleanup() {
  local pid
  for pid in $(ls /proc | grep -E '^[0-9]+$'); do
    [ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$root" ] && kill -9 "$pid" 2>/dev/null || true
  done
  unmount_under "$root/proc"
  unmount_under "$root/dev"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cp -L /etc/resolv.conf "$root/etc/resolv.conf"
cp -L /etc/hosts "$root/etc/hosts"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"

# Not exec: the mounts come off when the command ends.
status=0
env -i "${vars[@]}" "$(command -v chroot)" "$root" /bin/sh -c 'cd "$0" && exec "$@"' "$dir" "$@" || status=$?
exit "$status"
