#!/usr/bin/env bash
# Makes PostgreSQL and Redis reachable for Monedero, in this order of preference:
# one already running → start an installed one → docker compose (when a Docker engine runs)
# → install from the system's packages (apt-get) and start it.
# Honors DATABASE_URL and REDIS_URL; a server on another host is only checked, never started.
set -euo pipefail

DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/monedero}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"

url_host() { local rest="${1#*://}"; rest="${rest#*@}"; rest="${rest%%/*}"; echo "${rest%%:*}"; }
url_port() { local rest="${1#*://}"; rest="${rest#*@}"; rest="${rest%%/*}"; [[ "$rest" == *:* ]] && echo "${rest##*:}" || echo "$2"; }

PG_HOST=$(url_host "$DATABASE_URL"); PG_PORT=$(url_port "$DATABASE_URL" 5432)
REDIS_HOST=$(url_host "$REDIS_URL"); REDIS_PORT=$(url_port "$REDIS_URL" 6379)

log() { echo "[services] $*" >&2; }
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
is_local() { [[ "$1" == "127.0.0.1" || "$1" == "localhost" || "$1" == "::1" ]]; }
wait_port() { for _ in $(seq 1 60); do port_open "$1" "$2" && return 0; sleep 0.5; done; return 1; }
docker_engine() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
apt_updated=""
apt_install() {
  command -v apt-get >/dev/null 2>&1 || { log "no apt-get here: install $* yourself"; return 1; }
  [[ -n "$apt_updated" ]] || { as_root apt-get update -qq; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

start_postgres_cluster() {
  command -v pg_lsclusters >/dev/null 2>&1 || return 1
  local version cluster
  read -r version cluster _ < <(pg_lsclusters --no-header | head -n 1) || return 1
  [[ -n "${version:-}" ]] || return 1
  log "starting PostgreSQL cluster $version/$cluster"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start || true
  wait_port "$PG_HOST" "$PG_PORT"
}

# A freshly installed Debian cluster asks for a password over TCP; trust local TCP connections
# for the development/CI machine, as the project's default DATABASE_URL expects.
trust_local_tcp() {
  local hba
  hba=$(ls /etc/postgresql/*/main/pg_hba.conf 2>/dev/null | head -n 1) || return 0
  [[ -n "$hba" ]] || return 0
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    log "allowing trusted TCP connections from 127.0.0.1 in $hba"
    as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    as_root pg_ctlcluster --skip-systemctl-redirect "$(basename "$(dirname "$(dirname "$hba")")")" main reload || true
  fi
}

ensure_postgres() {
  port_open "$PG_HOST" "$PG_PORT" && { log "PostgreSQL is up on $PG_HOST:$PG_PORT"; return 0; }
  is_local "$PG_HOST" || { log "PostgreSQL at $PG_HOST:$PG_PORT is unreachable (not local: not starting it)"; return 1; }
  start_postgres_cluster && return 0
  if docker_engine; then
    log "starting PostgreSQL with docker compose"; docker compose up -d postgres; wait_port "$PG_HOST" "$PG_PORT" && return 0
  fi
  log "installing PostgreSQL (apt-get)"
  apt_install postgresql postgresql-client
  trust_local_tcp
  start_postgres_cluster
}

ensure_redis() {
  port_open "$REDIS_HOST" "$REDIS_PORT" && { log "Redis is up on $REDIS_HOST:$REDIS_PORT"; return 0; }
  is_local "$REDIS_HOST" || { log "Redis at $REDIS_HOST:$REDIS_PORT is unreachable (not local: not starting it)"; return 1; }
  if ! command -v redis-server >/dev/null 2>&1; then
    if docker_engine; then
      log "starting Redis with docker compose"; docker compose up -d redis; wait_port "$REDIS_HOST" "$REDIS_PORT" && return 0
    fi
    log "installing Redis (apt-get)"
    apt_install redis-server
  fi
  log "starting Redis on port $REDIS_PORT"
  mkdir -p /tmp/monedero-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /tmp/monedero-redis --logfile /tmp/monedero-redis/redis.log
  wait_port "$REDIS_HOST" "$REDIS_PORT"
}

ensure_postgres
ensure_redis
