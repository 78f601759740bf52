# Helpers shared by the scripts of `npm run test:runtimes` (sourced, not run).

# One line of progress, prefixed like the rest of the test output.
say() { echo "[runtimes] $*"; }

# Seconds since the epoch, with milliseconds.
now() { date +%s.%N; }

# Seconds from $1 to now, one decimal.
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# Every mount point at or under $1, deepest first, so they can be unmounted in order.
mounts_under() {
  local dir
  dir=$(realpath -m "$1")
  awk -v d="$dir" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/self/mounts | sort -r
}

# Unmounts everything at or under $1 (a lazy unmount when a process still holds it).
unmount_under() {
  local m
  for m in $(mounts_under "$1"); do
    umount "$m" 2>/dev/null || umount -l "$m"
  done
}

# Removes a root directory: first what is mounted in it (a bound /dev must never be
# emptied), then the files, never crossing into another file system.
remove_root() {
  [ -e "$1" ] || return 0
  unmount_under "$1"
  if [ -n "$(mounts_under "$1")" ]; then
    echo "[runtimes] refusing to delete $1: still mounted: $(mounts_under "$1" | tr '\n' ' ')" >&2
    return 1
  fi
  rm -rf --one-file-system "$1"
}
