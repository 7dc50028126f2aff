#!/usr/bin/env bash
# Throw-away PostgreSQL server for tests and CI.
#
#   scripts/postgres.sh start [STATE_DIR]   # prints `export DURABLE_PG_*=...` lines
#   scripts/postgres.sh stop  [STATE_DIR]
#   eval "$(scripts/postgres.sh start)"
#
# STATE_DIR defaults to data/postgres; a relative STATE_DIR is taken relative to
# the repository root (not the caller's cwd), so Makefile/CI/pytest all agree.
# It holds `env` (the export lines) and `pg_home` (where the cluster lives).
# The cluster itself (data/, unix socket, postgres.log) lives in
# STATE_DIR/cluster, or in /tmp/durable-pg-<hash of STATE_DIR> when the
# `postgres` user cannot reach STATE_DIR (e.g. a repo under /root) or the path
# is too long for a unix socket.
#
# Exit codes: 0 ok, 2 usage, 3 the server cannot be installed here, 1 other
# failures (with the tail of the server log on stderr).
set -euo pipefail

readonly EXIT_USAGE=2
readonly EXIT_NO_SERVER=3
readonly PG_LIB_ROOT=${DURABLE_PG_LIB_ROOT:-/usr/lib/postgresql}
readonly DB_NAME=durable
readonly DB_USER=durable
# sun_path is 108 bytes; "/.s.PGSQL.NNNNN" needs 15 of them plus the NUL.
readonly MAX_SOCKET_DIR_LEN=90

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
repo_root=$(cd -- "$script_dir/.." && pwd -P)

log() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() {
    local code=$1
    shift
    log "error: $*"
    exit "$code"
}

usage() {
    printf 'usage: %s start|stop [STATE_DIR]   (default STATE_DIR: data/postgres under the repo)\n' \
        "$0" >&2
    exit "$EXIT_USAGE"
}

is_root() { [[ $(id -u) -eq 0 ]]; }

# initdb/pg_ctl refuse to run as root, so under root everything server-side runs
# as the `postgres` system user that the Debian package creates. We cd to / first
# because the caller's cwd (often /root) is usually unreadable to that user and
# postgres warns or fails on startup when it cannot stat it.
# fd 9 (the STATE_DIR lock) is closed for children: the postmaster daemonises and
# would otherwise hold the lock for its whole life, blocking every later call.
as_pg() {
    if is_root; then
        (cd / && runuser -u postgres -- "$@") 9>&-
    else
        (cd / && "$@") 9>&-
    fi
}

find_bindir() {
    local candidates
    # sort -V so that, if several majors are installed, the newest one wins.
    candidates=$(compgen -G "$PG_LIB_ROOT/*/bin/initdb" | sort -V || true)
    [[ -n $candidates ]] || return 1
    dirname -- "$(tail -n 1 <<<"$candidates")"
}

# Root-only steps (package install) go through sudo when run by a developer.
priv() {
    if is_root; then
        "$@" 9>&-
    else
        sudo -n "$@" 9>&-
    fi
}

apt_install() {
    local pkg
    for pkg in postgresql-15 postgresql; do
        if priv env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends -o DPkg::Lock::Timeout=300 "$pkg" >>"$install_log" 2>&1; then
            return 0
        fi
    done
    return 1
}

install_server() {
    if ! is_root && ! { command -v sudo >/dev/null && sudo -n true 2>/dev/null; }; then
        die "$EXIT_NO_SERVER" "PostgreSQL server is not installed and installing it needs root (no passwordless sudo)"
    fi
    command -v apt-get >/dev/null ||
        die "$EXIT_NO_SERVER" "PostgreSQL server is not installed and apt-get is not available to install it"

    # dpkg is chatty even with -qq; keep its output for when it fails.
    install_log=$state_dir/install.log
    : >"$install_log"
    log "installing the PostgreSQL server from Debian packages (output in $install_log)"
    # The package would otherwise create and (outside containers) start a system
    # cluster on 5432 that nothing here uses; we run our own per STATE_DIR.
    priv mkdir -p /etc/postgresql-common/createcluster.d
    printf 'create_main_cluster = false\n' |
        priv tee /etc/postgresql-common/createcluster.d/durable-no-main.conf >/dev/null

    # Skip the slow `apt-get update` when the package lists are already usable;
    # a fresh container has none, so the first attempt fails and we retry.
    if ! apt_install; then
        log "install failed with the current package lists; running apt-get update"
        if ! { priv apt-get update -qq >>"$install_log" 2>&1 && apt_install; }; then
            print_log_tail "$install_log"
            die "$EXIT_NO_SERVER" "could not install the PostgreSQL server with apt-get"
        fi
    fi
}

pick_port() {
    # Asking the kernel for port 0 gives a port nobody is bound to right now; the
    # remaining race with another starter is handled by retrying the start.
    if command -v python3 >/dev/null; then
        python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
        return
    fi
    local port
    for ((port = 55432; port < 56432; port++)); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    return 1
}

# Where the cluster goes: inside STATE_DIR when the server user can get there,
# else a /tmp directory keyed by STATE_DIR so different STATE_DIRs never clash.
choose_pg_home() {
    local preferred="$state_dir/cluster"
    if ((${#preferred} <= MAX_SOCKET_DIR_LEN)) && as_pg test -x "$state_dir" 2>/dev/null; then
        echo "$preferred"
    else
        echo "/tmp/durable-pg-$(printf '%s' "$state_dir" | sha256sum | cut -c1-16)"
    fi
}

recorded_pg_home() {
    [[ -f $state_dir/pg_home ]] && cat -- "$state_dir/pg_home"
}

is_running() {
    local home=$1
    [[ -n ${bindir:-} && -f $home/data/postmaster.pid ]] &&
        as_pg "$bindir/pg_ctl" status -D "$home/data" >/dev/null 2>&1
}

print_log_tail() {
    local logfile=$1
    if [[ -f $logfile ]]; then
        log "last lines of $logfile:"
        tail -n 30 -- "$logfile" >&2 || true
    fi
}

env_lines() {
    local port=$1
    printf 'export DURABLE_PG_HOST=127.0.0.1\n'
    printf 'export DURABLE_PG_PORT=%s\n' "$port"
    printf 'export DURABLE_PG_USER=%s\n' "$DB_USER"
    printf 'export DURABLE_PG_PASSWORD=\n'
    printf 'export DURABLE_PG_DATABASE=%s\n' "$DB_NAME"
}

destroy_cluster() {
    local home=$1
    [[ -n $home && -d $home ]] || return 0
    if is_running "$home"; then
        log "stopping the server in $home"
        as_pg "$bindir/pg_ctl" stop -D "$home/data" -m fast -w -t 60 >/dev/null ||
            log "warning: pg_ctl stop failed; removing $home anyway"
    fi
    rm -rf -- "$home"
}

cmd_stop() {
    bindir=$(find_bindir || true)
    local home
    home=$(recorded_pg_home || true)
    # Without a record (deleted by hand), still clean up where start would have put it.
    [[ -n $home ]] || home=$(choose_pg_home)
    destroy_cluster "$home"
    rm -f -- "$state_dir/env" "$state_dir/pg_home"
    log "stopped (state dir $state_dir)"
}

cmd_start() {
    bindir=$(find_bindir || true)
    if [[ -z $bindir ]]; then
        install_server
        bindir=$(find_bindir) ||
            die "$EXIT_NO_SERVER" "apt-get succeeded but no initdb under $PG_LIB_ROOT/*/bin"
    fi
    if is_root && ! id postgres >/dev/null 2>&1; then
        die 1 "running as root but there is no 'postgres' user to own the cluster (initdb refuses root)"
    fi

    local home
    home=$(recorded_pg_home || true)
    if [[ -n $home && -f $state_dir/env ]] && is_running "$home"; then
        log "already running for $state_dir (cluster in $home)"
        cat -- "$state_dir/env"
        return 0
    fi
    # Anything left over (crash, reboot, killed CI job) is disposable: start clean.
    destroy_cluster "$home"
    rm -f -- "$state_dir/env" "$state_dir/pg_home"

    home=$(choose_pg_home)
    destroy_cluster "$home"
    # Refuse a pre-planted symlink in the shared /tmp fallback.
    [[ ! -L $home ]] || die 1 "$home is a symlink; refusing to use it"
    mkdir -m 700 -- "$home"
    if is_root; then
        chown postgres:postgres -- "$home"
    fi
    printf '%s\n' "$home" >"$state_dir/pg_home"

    local data=$home/data logfile=$home/postgres.log
    log "initialising a cluster in $data ($("$bindir/postgres" --version))"
    as_pg "$bindir/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
        --no-sync --no-instructions >"$home/initdb.out" 2>&1 || {
        print_log_tail "$home/initdb.out"
        die 1 "initdb failed"
    }

    # Trust is acceptable only because nothing but loopback (and a 0700 socket
    # directory) can reach this server.
    as_pg tee "$data/pg_hba.conf" >/dev/null <<'EOF'
local all all               trust
host  all all 127.0.0.1/32  trust
EOF
    # postgresql.conf string literals escape ' by doubling it.
    local home_conf=${home//\'/\'\'}
    # Durability is pointless for a throw-away test database; these make
    # dbt's many small transactions several times faster.
    as_pg tee -a "$data/postgresql.conf" >/dev/null <<EOF

# --- added by scripts/postgres.sh ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$home_conf'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 50
EOF

    local port attempt
    for attempt in 1 2 3 4 5; do
        port=$(pick_port) || die 1 "could not find a free TCP port"
        # Last setting wins in postgresql.conf, so retries just append a port.
        printf 'port = %s\n' "$port" | as_pg tee -a "$data/postgresql.conf" >/dev/null
        log "starting on 127.0.0.1:$port"
        if as_pg "$bindir/pg_ctl" start -D "$data" -l "$logfile" -w -t 60 >/dev/null; then
            break
        fi
        if ((attempt < 5)) && grep -qE 'could not (bind|create listen socket)|in use' "$logfile" 2>/dev/null; then
            log "port $port was taken meanwhile; retrying with another"
            continue
        fi
        print_log_tail "$logfile"
        die 1 "the server did not start"
    done

    as_pg "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres \
        -c "CREATE ROLE $DB_USER LOGIN SUPERUSER" \
        -c "CREATE DATABASE $DB_NAME OWNER $DB_USER" >&2 || {
        print_log_tail "$logfile"
        die 1 "could not create role/database $DB_USER"
    }

    env_lines "$port" >"$state_dir/env"
    log "ready: cluster in $home, env in $state_dir/env"
    cat -- "$state_dir/env"
}

main() {
    [[ $# -ge 1 && $# -le 2 ]] || usage
    local cmd=$1 arg=${2:-data/postgres}
    [[ $arg == /* ]] || arg=$repo_root/$arg
    case $cmd in
    start) mkdir -p -- "$arg" ;;
    stop) [[ -d $arg ]] || {
        log "nothing to stop: $arg does not exist"
        return 0
    } ;;
    *) usage ;;
    esac
    state_dir=$(cd -- "$arg" && pwd -P)

    # Serialise start/stop per STATE_DIR so concurrent callers (parallel CI
    # steps, pytest-xdist) do not both initdb into the same place.
    exec 9>"$state_dir/.lock"
    flock -w 300 9 || die 1 "timed out waiting for the lock on $state_dir"

    case $cmd in
    start) cmd_start ;;
    stop) cmd_stop ;;
    *) usage ;;
    esac
}

main "$@"
