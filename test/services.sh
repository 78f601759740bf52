#!/usr/bin/env bash
# Makes sure every server the test suite talks to is installed and running.
# Today that is PostgreSQL (127.0.0.1:5432, trust auth, database "test"), the
# redis-server binary (the cluster tests start private Redis servers on free ports) and
# Debian's chromium (the SDK's and the web client's browser tests), Java with unzip
# and Maven (OpenSearch, Kafka, S3Mock and Keycloak, which the tests download once and
# start themselves),
# and Debian's clamd (the ClamAV scanner's tests start their own; the distribution's
# clamd and freshclam services are stopped).
set -euo pipefail

log() { echo "[services] $*"; }

ensure_postgres() {
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    log "installing PostgreSQL (Debian package)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
  fi
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    log "starting PostgreSQL"
    local version
    version=$(ls /etc/postgresql | sort -V | tail -1)
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 60); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
  fi
  pg_isready -h 127.0.0.1 -p 5432 >/dev/null || { log "PostgreSQL did not come up"; exit 1; }
  # The suite connects as "postgres" to database "test" with trust auth on loopback.
  if ! psql -h 127.0.0.1 -U postgres -d postgres -Atqc "select 1" >/dev/null 2>&1; then
    log "loopback connections refused: adding trust lines for 127.0.0.1 and ::1 to $(su postgres -c "psql -Atqc 'show hba_file'")"
    local hba
    hba=$(su postgres -c "psql -Atqc 'show hba_file'")
    sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    su postgres -c "psql -qc 'select pg_reload_conf()'" >/dev/null
  fi
  if ! psql -h 127.0.0.1 -U postgres -d postgres -Atqc "select 1 from pg_database where datname='test'" | grep -q 1; then
    log "creating database test"
    psql -h 127.0.0.1 -U postgres -d postgres -qc "create database test" >/dev/null
  fi
  log "PostgreSQL ready"
}

ensure_redis() {
  if ! command -v redis-server >/dev/null 2>&1; then
    log "installing Redis (Debian package)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq redis-server >/dev/null
  fi
  redis-server --version >/dev/null || { log "redis-server does not run"; exit 1; }
  log "Redis ready ($(redis-server --version | grep -o 'v=[0-9.]*'))"
}

ensure_chromium() {
  # test/browser-sdk.test.ts and test/web/ drive Debian's chromium (not a downloaded browser) with playwright-core.
  if [ ! -x /usr/bin/chromium ]; then
    log "installing Chromium (Debian package)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  fi
  # The web client's screenshots show emoji (reactions); without a colour emoji font they are boxes.
  if ! fc-list 2>/dev/null | grep -qi "Noto Color Emoji"; then
    log "installing the Noto colour emoji font (Debian package)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq fonts-noto-color-emoji >/dev/null || log "no emoji font: screenshots show boxes for emoji"
  fi
  /usr/bin/chromium --version >/dev/null 2>&1 || { log "chromium does not run"; exit 1; }
  log "Chromium ready ($(/usr/bin/chromium --version 2>/dev/null | grep -o '[0-9][0-9.]*' | head -1))"
}

ensure_java_tools() {
  # test/support/opensearch.ts runs OpenSearch (Java 17, unpacked with unzip),
  # test/support/kafka.ts runs Kafka (Java 17, its jars fetched with Maven) and
  # test/support/keycloak.ts runs Keycloak (Java 17, its zip fetched with Maven and unpacked
  # with unzip); all download once into ~/.cache/colink.
  local missing=()
  command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
  command -v unzip >/dev/null 2>&1 || missing+=(unzip)
  command -v mvn >/dev/null 2>&1 || missing+=(maven)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} (Debian packages)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  log "Java ready ($(java -version 2>&1 | head -1))"
}

ensure_clamav() {
  # test/support/clamav.ts runs /usr/sbin/clamd itself, on a free port with the project's
  # one test signature. The services the package brings are not used: the distribution's
  # clamd loads the full signature database (about 1 GB of memory) and freshclam downloads
  # it, so both are stopped: through systemd where it runs, else by the pid in their pid
  # file, and only if that pid is still the program named.
  if [ ! -x /usr/sbin/clamd ]; then
    log "installing clamd (Debian package clamav-daemon)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq clamav-daemon >/dev/null
  fi
  if [ -d /run/systemd/system ]; then
    systemctl stop clamav-daemon.socket clamav-daemon.service clamav-freshclam.service \
      || log "systemctl could not stop the distribution's clamd and freshclam"
  fi
  local name pid
  for name in clamd freshclam; do
    [ -f "/run/clamav/$name.pid" ] || continue
    pid=$(tr -dc '0-9' <"/run/clamav/$name.pid")
    if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]; then
      log "stopping the distribution's $name (pid $pid from /run/clamav/$name.pid)"
      kill "$pid" || log "could not signal $name (pid $pid)"
      for _ in $(seq 1 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    fi
  done
  # Only pids read from pid files are stopped: a freshclam started otherwise is left, but said.
  if pgrep -x freshclam >/dev/null 2>&1; then
    log "freshclam still runs (pid $(pgrep -x freshclam | tr '\n' ' ')) without a pid file in /run/clamav: left alone"
  fi
  /usr/sbin/clamd --version >/dev/null || { log "clamd does not run"; exit 1; }
  log "clamd ready ($(/usr/sbin/clamd --version))"
}

ensure_debootstrap() {
  # test/runtimes.alone.test.ts builds a Debian 13 root with it (Node 22 and 24); without it
  # that test skips and says why, so a failed install is not fatal.
  if ! command -v debootstrap >/dev/null 2>&1; then
    log "installing debootstrap (Debian package)"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; } || log "debootstrap could not be installed; the runtimes test will skip"
  fi
}

ensure_postgres
ensure_redis
ensure_chromium
ensure_java_tools
ensure_clamav
ensure_debootstrap
