# tests/lib/services.sh: start and stop the real servers Sluice's tests talk
# to (redis-server from Debian, Elasticsearch and OpenSearch from the cache
# that scripts/setup fills). Sourced by tests/run, scripts/setup and the
# demo/e2e scripts; bash only.
#
#   . tests/lib/services.sh
#   sluice_services_init                # run dir, traps, watchdog; once
#   sluice_services_start redis es os   # any subset (and es_cluster,
#                                       # es_restart); the
#                                       # JVMs boot in parallel
#   ...                                 # use the SLUICE_TEST_* variables
#   sluice_services_stop_all            # optional: exit does it anyway
#
# Search engines, one key per major line the indexer supports, and es_tls
# (tests/run starts all five; KEY below is the key in upper case):
#   key     server         default  variables
#   es      Elasticsearch  8.15.0   SLUICE_ES_VERSION   SLUICE_TEST_ES_URL
#   es9     Elasticsearch  9.1.0    SLUICE_ES9_VERSION  SLUICE_TEST_ES9_URL
#   os      OpenSearch     2.17.0   SLUICE_OS_VERSION   SLUICE_TEST_OS_URL
#   os3     OpenSearch     3.0.0    SLUICE_OS3_VERSION  SLUICE_TEST_OS3_URL
#   es_tls  Elasticsearch  = es     SLUICE_ES_TLS_VERSION  SLUICE_TEST_ES_TLS_URL
# es_tls has security on: HTTPS with a certificate for 127.0.0.1 signed by a
# CA made for the run (openssl), and the user `elastic` with a random
# password (keystore bootstrap.password). It also exports
#   SLUICE_TEST_ES_TLS_CA        the CA's PEM file
#   SLUICE_TEST_ES_TLS_PASSWORD  elastic's password (never print it)
# and its URL is https://127.0.0.1:PORT. Given in the environment, all three
# must be set. The integ-test-zip has no analysis-common module, whose
# pattern_capture, unique and uax_url_email the .security index needs;
# scripts/setup installs a test-only plugin with those three into the home
# (tests/lib/es-test-analysis/), so API keys and native users can be made.
# es_cluster (not in SLUICE_SEARCH_KEYS: only when named, e.g. by tests/run
# with SLUICE_TEST_CLUSTER) is a 3-node Elasticsearch cluster (version
# SLUICE_ES_CLUSTER_VERSION, = es; SLUICE_SEARCH_HEAP each), waited on until
# green with 3 nodes, and exports
#   SLUICE_TEST_ES_CLUSTER_URLS  the three http://127.0.0.1:PORT, space-separated
#   SLUICE_TEST_ES_CLUSTER_PIDS  their process group ids, same order: a test
#                                kills a node with `kill -KILL -- -PGID`
#   SLUICE_TEST_ES_CLUSTER_DIR   the nodes' dirs n1..n3 (pid: the current
#                                process group once restarted by
#                                tests/lib/es_cluster_node.sh)
# (given URLs need the PIDS too).
# es_restart (not in SLUICE_SEARCH_KEYS either: tests/run starts it with
# es_cluster) is one Elasticsearch node (SLUICE_ES_RESTART_VERSION, = es)
# that a test stops with -9 and starts again on the same ports and data dir
# (tests/lib/es_restart.sh), with http.max_content_length 1mb so a bulk
# request over 1 MiB gets a real 413. It exports
#   SLUICE_TEST_ES_RESTART_URL   http://127.0.0.1:PORT
#   SLUICE_TEST_ES_RESTART_DIR   its node dir (pid, port, console.log), which
#                                es_restart.sh reads
#   SLUICE_TEST_ES_RESTART_PGID  the first process group id (DIR/pid has the
#                                current one once it was restarted)
# (given, the URL needs the DIR too).
# After sluice_services_start these are exported:
#   SLUICE_TEST_REDIS_URL  redis://127.0.0.1:PORT
#   SLUICE_TEST_KEY_URL    http://127.0.0.1:PORT   SLUICE_TEST_KEY_VERSION
# A URL already set in the environment means "use that server": it is waited
# on and its version read, but it is never started or stopped.
#
# Finer steps, for scripts that need them: sluice_redis_launch/_wait,
# sluice_search_launch KEY then sluice_search_wait KEY. A demo or e2e
# script starts its own processes (sluice-shipper, sluice-indexer) with
#   sluice_spawn NAME LOGFILE|- CMD ARGS...   (pid in SLUICE_LAST_PID)
# so that they are stopped with the servers, in reverse order of start, on
# every exit; `wait $SLUICE_LAST_PID` collects a foreground-like exit status.
# Run dir with every server's config, data and console.log: $SLUICE_RUN_DIR.
#
# Knobs (environment): SLUICE_CACHE (~/.cache/sluice), SLUICE_KEY_VERSION
# (table above), SLUICE_KEY_JAVA_HOME (else the oldest fitting JDK under
# /usr/lib/jvm), SLUICE_SEARCH_HEAP (512m), SLUICE_SEARCH_LEAN (1: boot for
# tests, see sluice_search_launch; 0: full JIT and all cores, for benchmarks),
# SLUICE_START_TIMEOUT (120 s), SLUICE_SERVICE_USER (sluice-es, used when we
# are root because Elasticsearch and OpenSearch refuse to run as root),
# SLUICE_KEEP_RUN_DIR=1 (keep configs, data and logs after exit).
#
# Invariants: every process started here runs in a session of its own
# (setsid), so its process group id is its pid, and is written as
# "PGID NAME" to $SLUICE_RUN_DIR/jobs before anything waits on it. Stopping
# signals exactly those process groups (TERM, then KILL after a deadline) and
# nothing else. A watchdog (tests/lib/watchdog.sh) polls the shell that called
# sluice_services_init and does the same stop if that shell dies without
# running its traps (kill -9). Own sessions also keep a terminal's Ctrl-C away
# from the servers, so shutdown happens in our order, not all at once.
#
# Functions return non-zero with a message on stderr naming what failed and
# what to do; callers run under `set -euo pipefail`.

# Per shell that calls sluice_services_init; never inherited from a parent.
unset SLUICE_RUN_DIR SLUICE_WATCHDOG_PID

SLUICE_ES_VERSION=${SLUICE_ES_VERSION:-8.15.0}
SLUICE_ES9_VERSION=${SLUICE_ES9_VERSION:-9.1.0}
SLUICE_OS_VERSION=${SLUICE_OS_VERSION:-2.17.0}
SLUICE_OS3_VERSION=${SLUICE_OS3_VERSION:-3.0.0}
SLUICE_ES_TLS_VERSION=${SLUICE_ES_TLS_VERSION:-$SLUICE_ES_VERSION}
SLUICE_ES_CLUSTER_VERSION=${SLUICE_ES_CLUSTER_VERSION:-$SLUICE_ES_VERSION}
SLUICE_ES_RESTART_VERSION=${SLUICE_ES_RESTART_VERSION:-$SLUICE_ES_VERSION}
# Every search engine key, in the order they are launched and reported.
SLUICE_SEARCH_KEYS=(es es9 os os3 es_tls)
SLUICE_CACHE=${SLUICE_CACHE:-$HOME/.cache/sluice}
SLUICE_SERVICE_USER=${SLUICE_SERVICE_USER:-sluice-es}
SLUICE_START_TIMEOUT=${SLUICE_START_TIMEOUT:-120}
SLUICE_SEARCH_HEAP=${SLUICE_SEARCH_HEAP:-512m}
SLUICE_SEARCH_LEAN=${SLUICE_SEARCH_LEAN:-1}
SLUICE_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -x /usr/bin/python3 ]; then
    SLUICE_PYTHON=${SLUICE_PYTHON:-/usr/bin/python3}
else
    SLUICE_PYTHON=${SLUICE_PYTHON:-python3}
fi

sluice_say() { printf 'services: %s\n' "$*" >&2; }
sluice_fail() { printf 'services: error: %s\n' "$*" >&2; return 1; }

# Monotonic-enough clock in milliseconds, for deadlines and timings.
sluice_now_ms() { date +%s%3N; }

# ---------------------------------------------------------------------------
# Distributions: "es" and "es9" are Elasticsearch, "os" and "os3" OpenSearch
# (the table at the top). A key's variables are its name in upper case.

sluice_dist_name() { # KEY -> elasticsearch|opensearch
    case $1 in
    es | es9 | es_tls | es_cluster | es_restart) echo elasticsearch ;;
    os | os3) echo opensearch ;;
    *) sluice_fail "unknown search engine '$1' (expected one of: ${SLUICE_SEARCH_KEYS[*]})" ;;
    esac
}

sluice_dist_version() { # KEY
    local var=SLUICE_${1^^}_VERSION
    echo "${!var:-}"
}

sluice_dist_home() { # KEY -> unpacked tree in the cache
    echo "$SLUICE_CACHE/$(sluice_dist_name "$1")-$(sluice_dist_version "$1")"
}

# Smallest JDK major version the distribution runs on. ES 9 and OpenSearch 3
# need 21; ES 8 runs on 17 (and breaks on 24+, which removed the security
# manager), OpenSearch 2 on 11+.
sluice_dist_java_major() { # KEY
    local major
    major=$(sluice_dist_version "$1")
    major=${major%%.*}
    case $(sluice_dist_name "$1") in
    elasticsearch) if [ "$major" -ge 9 ]; then echo 21; else echo 17; fi ;;
    opensearch) if [ "$major" -ge 3 ]; then echo 21; else echo 11; fi ;;
    esac
}

# Prints the home of the oldest JDK under /usr/lib/jvm whose major version is
# at least $1: the oldest fitting one is the one the release was tested on.
sluice_find_jdk() { # MIN_MAJOR
    local want=$1 best='' best_major=1000 d major
    for d in /usr/lib/jvm/*; do
        # Debian adds symlinked aliases (java-1.17.0-openjdk-amd64).
        [ -L "$d" ] && continue
        [ -x "$d/bin/java" ] && [ -r "$d/release" ] || continue
        major=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$d/release")
        [ -n "$major" ] || continue
        if [ "$major" -ge "$want" ] && [ "$major" -lt "$best_major" ]; then
            best=$d best_major=$major
        fi
    done
    [ -n "$best" ] || return 1
    echo "$best"
}

sluice_dist_java_home() { # KEY
    local override want jdk
    override=SLUICE_${1^^}_JAVA_HOME
    override=${!override:-}
    if [ -n "$override" ]; then
        [ -x "$override/bin/java" ] ||
            { sluice_fail "no bin/java in $override (from SLUICE_${1^^}_JAVA_HOME)"; return 1; }
        echo "$override"
        return 0
    fi
    want=$(sluice_dist_java_major "$1")
    jdk=$(sluice_find_jdk "$want") || {
        sluice_fail "$(sluice_dist_name "$1") $(sluice_dist_version "$1") needs JDK $want or newer and none is under /usr/lib/jvm; install one or set SLUICE_${1^^}_JAVA_HOME"
        return 1
    }
    echo "$jdk"
}

# ---------------------------------------------------------------------------
# Processes.

# Prints N distinct free TCP ports on 127.0.0.1, all bound at once while
# choosing so they differ. They come from 20000-32000, below Linux's
# ephemeral range, so an outgoing connection cannot take one before the
# server binds it.
sluice_free_ports() { # N
    "$SLUICE_PYTHON" - "$1" <<'EOF'
import random, socket, sys
n, held, ports = int(sys.argv[1]), [], []
for _ in range(1000):
    if len(ports) == n:
        break
    p = random.randint(20000, 32000)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        s.close()
        continue
    held.append(s)
    ports.append(p)
if len(ports) != n:
    sys.exit("services: error: found no free loopback port in 20000-32000")
print(*ports)
EOF
}

# Starts CMD in a new session with stdin from /dev/null and output appended
# to LOG ("-" keeps our stdout/stderr), records it in the jobs file and sets
# SLUICE_LAST_PID. Does not wait.
sluice_spawn() { # NAME LOG CMD...
    local name=$1 log=$2
    shift 2
    [ -n "${SLUICE_RUN_DIR:-}" ] || { sluice_fail "sluice_services_init was not called"; return 1; }
    if [ "$log" = - ]; then
        setsid "$@" </dev/null &
    else
        setsid "$@" </dev/null >>"$log" 2>&1 &
    fi
    SLUICE_LAST_PID=$!
    echo "$SLUICE_LAST_PID $name" >>"$SLUICE_RUN_DIR/jobs"
}

# True while any process of group PGID is alive, or the process PGID itself:
# right after sluice_spawn, setsid may not have run yet, and the group has
# no member until it does (a restart polled at once was taken for a crash).
# Zombies do not count: once the runner is gone nobody may reap them quickly.
sluice_group_alive() { # PGID
    ps -e -o pid=,pgid=,stat= |
        awk -v g="$1" '($1 == g || $2 == g) && $3 !~ /^Z/ { f = 1 } END { exit !f }'
}

# TERM the process group (and the pid itself, in case setsid has not run yet),
# wait up to GRACE seconds, then KILL. Only ever called with pids from our
# jobs file.
sluice_stop_group() { # PGID NAME [GRACE]
    local pgid=$1 name=$2 grace=${3:-20} deadline
    sluice_group_alive "$pgid" || { wait "$pgid" 2>/dev/null || true; return 0; }
    kill -TERM -- "-$pgid" "$pgid" 2>/dev/null || true
    deadline=$(($(sluice_now_ms) + grace * 1000))
    while sluice_group_alive "$pgid"; do
        if [ "$(sluice_now_ms)" -ge "$deadline" ]; then
            sluice_say "$name (pid $pgid) ignored TERM for ${grace}s; sending KILL"
            kill -KILL -- "-$pgid" "$pgid" 2>/dev/null || true
            break
        fi
        sleep 0.1
    done
    # Reap it if it is our child; harmless otherwise.
    wait "$pgid" 2>/dev/null || true
}

# Stops every job recorded in the run dir, newest first (ctest before the
# servers it talks to), and removes the run dir.
sluice_services_stop_all() {
    local dir=${SLUICE_RUN_DIR:-} pgid name
    [ -n "$dir" ] && [ -d "$dir" ] || return 0
    if [ -f "$dir/jobs" ]; then
        while read -r pgid name; do
            sluice_stop_group "$pgid" "$name" 20
        done < <(tac "$dir/jobs")
        : >"$dir/jobs"
    fi
    if [ -n "${SLUICE_WATCHDOG_PID:-}" ]; then
        kill -TERM "$SLUICE_WATCHDOG_PID" 2>/dev/null || true
        wait "$SLUICE_WATCHDOG_PID" 2>/dev/null || true
        SLUICE_WATCHDOG_PID=
    fi
    if [ "${SLUICE_KEEP_RUN_DIR:-0}" = 1 ]; then
        sluice_say "kept $dir (SLUICE_KEEP_RUN_DIR=1)"
    else
        rm -rf "$dir"
    fi
}

sluice__on_exit() {
    local rc=$?
    trap - EXIT INT TERM HUP
    if declare -F sluice_cleanup_hook >/dev/null; then
        sluice_cleanup_hook || true
    fi
    sluice_services_stop_all
    exit "$rc"
}

sluice__on_signal() { # SIGNAME CODE
    sluice_say "got SIG$1; stopping the servers"
    trap - "$1"
    exit "$2" # runs the EXIT trap
}

# Creates the run dir, installs the traps and starts the watchdog. The
# harness owns the EXIT/INT/TERM/HUP traps of the calling shell; define a
# function sluice_cleanup_hook to run your own cleanup before the servers
# stop.
sluice_services_init() {
    [ -z "${SLUICE_RUN_DIR:-}" ] || return 0
    SLUICE_RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sluice-run.XXXXXX")
    # The service user must reach its own subdirectory.
    chmod 755 "$SLUICE_RUN_DIR"
    : >"$SLUICE_RUN_DIR/jobs"
    trap sluice__on_exit EXIT
    trap 'sluice__on_signal INT 130' INT
    trap 'sluice__on_signal TERM 143' TERM
    trap 'sluice__on_signal HUP 129' HUP
    # BASHPID, not $$: the process that owns these traps, which may be a
    # ( subshell ). Do not call this inside $( ), which exits at once. Read
    # here, not in the `&` command below, where it would be the child's pid.
    local runner=$BASHPID
    setsid "$SLUICE_LIB_DIR/watchdog.sh" "$runner" "$SLUICE_RUN_DIR" \
        </dev/null >>"$SLUICE_RUN_DIR/watchdog.log" 2>&1 &
    SLUICE_WATCHDOG_PID=$!
}

# Prints the last 40 lines of a server's console log, for a failure report.
sluice_log_tail() { # NAME LOG
    printf -- '--- last 40 lines of %s (%s) ---\n' "$1" "$2" >&2
    tail -n 40 "$2" >&2 2>/dev/null || true
    printf -- '--- end of %s ---\n' "$2" >&2
}

# ---------------------------------------------------------------------------
# Redis.

sluice_redis_launch() { # [PORT]
    local port=${1:-} dir
    [ -n "$port" ] || port=$(sluice_free_ports 1)
    command -v redis-server >/dev/null ||
        { sluice_fail "redis-server not found; run scripts/setup (Debian package redis-server)"; return 1; }
    dir=$SLUICE_RUN_DIR/redis
    mkdir -p "$dir"
    # No persistence by default: tests start from nothing. Callers who test
    # durability (kill -9 of Redis) put extra arguments in the array
    # SLUICE_REDIS_ARGS, e.g. (--appendonly yes --appendfsync always).
    cat >"$dir/redis.conf" <<EOF
bind 127.0.0.1
port $port
protected-mode yes
daemonize no
save ""
appendonly no
dir $dir
logfile ""
EOF
    sluice_spawn redis "$dir/console.log" redis-server "$dir/redis.conf" \
        ${SLUICE_REDIS_ARGS[@]+"${SLUICE_REDIS_ARGS[@]}"}
    echo "$SLUICE_LAST_PID" >"$dir/pid"
    echo "$port" >"$dir/port"
}

sluice_redis_wait() { # deadline 10 s: redis-server is up in milliseconds
    local dir=$SLUICE_RUN_DIR/redis port pid deadline
    port=$(cat "$dir/port") pid=$(cat "$dir/pid")
    deadline=$(($(sluice_now_ms) + 10000))
    until [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]; do
        if ! sluice_group_alive "$pid"; then
            sluice_log_tail redis-server "$dir/console.log"
            sluice_fail "redis-server on 127.0.0.1:$port exited during startup (log above)"
            return 1
        fi
        if [ "$(sluice_now_ms)" -ge "$deadline" ]; then
            sluice_log_tail redis-server "$dir/console.log"
            sluice_fail "redis-server on 127.0.0.1:$port did not answer PING within 10s (log above)"
            return 1
        fi
        sleep 0.05
    done
    export SLUICE_TEST_REDIS_URL="redis://127.0.0.1:$port"
}

# Waits for a Redis the user pointed us at.
sluice_redis_check_url() {
    local deadline=$(($(sluice_now_ms) + 10000))
    until [ "$(redis-cli -u "$SLUICE_TEST_REDIS_URL" ping 2>/dev/null)" = PONG ]; do
        if [ "$(sluice_now_ms)" -ge "$deadline" ]; then
            sluice_fail "SLUICE_TEST_REDIS_URL=$SLUICE_TEST_REDIS_URL did not answer PING within 10s; unset it to let tests/run start redis-server"
            return 1
        fi
        sleep 0.2
    done
}

# ---------------------------------------------------------------------------
# Elasticsearch and OpenSearch.

# Launches search engine KEY on HTTP_PORT/TRANSPORT_PORT from a per-run copy of the
# config dir, with data, logs and temp files in the run dir, so the cached
# tree is only ever read. Does not wait. es_tls is Elasticsearch with
# security on (sluice_es_tls_prepare).
sluice_search_launch() { # KEY [HTTP_PORT TRANSPORT_PORT]
    local key=$1 port=${2:-} tport=${3:-}
    local -a extra=(-E discovery.type=single-node)
    if [ -z "$port" ]; then
        read -r port tport < <(sluice_free_ports 2)
    fi
    sluice__search_prepare "$key" "$SLUICE_RUN_DIR/$key" || return 1
    if [ "$key" = es_tls ]; then
        sluice_es_tls_prepare "$SLUICE_RUN_DIR/$key" || return 1
        extra+=("${SLUICE_ES_TLS_SETTINGS[@]}")
    fi
    sluice__search_spawn "$key" "$SLUICE_RUN_DIR/$key" "$key-$$" "$port" "$tport" \
        "${extra[@]}"
}

# Makes DIR a node's home in the run dir: data, logs, tmp and conf (a copy
# of the cached tree's config).
sluice__search_prepare() { # KEY DIR
    local key=$1 dir=$2 name home
    name=$(sluice_dist_name "$key") || return 1
    home=$(sluice_dist_home "$key")
    [ -x "$home/bin/$name" ] ||
        { sluice_fail "$name $(sluice_dist_version "$key") is not in $home; run scripts/setup"; return 1; }
    mkdir -p "$dir/data" "$dir/logs" "$dir/tmp"
    cp -R "$home/config" "$dir/conf"
    # jvm.options writes gc logs, heap dumps and crash files relative to the
    # working directory (the install): point them into the run dir.
    sed -i -e "s#=logs/#=$dir/logs/#g" -e "s#file=logs/#file=$dir/logs/#g" \
        -e "s#HeapDumpPath=data#HeapDumpPath=$dir/data#" "$dir/conf/jvm.options"
}

# Spawns the node prepared in DIR (sluice__search_prepare) with the common
# settings and EXTRA ones (-E k=v...); writes DIR/pid, port, started_ms.
sluice__search_spawn() { # KEY DIR NODE_NAME HTTP_PORT TRANSPORT_PORT EXTRA...
    local key=$1 dir=$2 node=$3 port=$4 tport=$5 name home java_home prefix jvm_lean
    local -a runas=() settings=()
    shift 5
    name=$(sluice_dist_name "$key")
    home=$(sluice_dist_home "$key")
    java_home=$(sluice_dist_java_home "$key") || return 1
    if [ "$(id -u)" = 0 ]; then
        id -u "$SLUICE_SERVICE_USER" >/dev/null 2>&1 ||
            { sluice_fail "user '$SLUICE_SERVICE_USER' does not exist; run scripts/setup"; return 1; }
        chown -R "$SLUICE_SERVICE_USER:" "$dir"
        runas=(setpriv "--reuid=$SLUICE_SERVICE_USER" "--regid=$SLUICE_SERVICE_USER" --init-groups)
    fi

    settings=(-E network.host=127.0.0.1
        -E "http.port=$port" -E "transport.port=$tport"
        -E "path.data=$dir/data" -E "path.logs=$dir/logs"
        -E "cluster.name=sluice-test-$key" -E "node.name=$node"
        # CI disks are often fuller than the default 85% watermark.
        -E cluster.routing.allocation.disk.threshold_enabled=false)
    if [ "$name" = elasticsearch ]; then
        prefix=ES
        # ES 8+ turns on TLS and passwords by default; the tests speak plain
        # HTTP, but for es_tls. OpenSearch's integ-test-zip has no security
        # plugin.
        [ "$key" = es_tls ] || settings+=(-E xpack.security.enabled=false)
    else
        prefix=OPENSEARCH
    fi
    settings+=("$@")
    # Lean boot: four JVMs booting at once on two cores are CPU-bound, and
    # much of a boot's CPU goes to the C2 JIT compiling code that a test run
    # never makes hot. C1 only (TieredStopAtLevel=1) and one processor's
    # worth of thread pools cut booting ES 8.15 and 9.1 and OpenSearch 2.17
    # and 3.0 together from 56 to 34 CPU-seconds, 33 s to 21 s of wall time
    # on 2 cores, and each JVM's RSS by about 45 MiB; nearly all of it is
    # C1's doing, node.processors=1 saves about 2 s. The tests send a few
    # requests each, so slower steady-state code costs nothing here;
    # benchmarks set SLUICE_SEARCH_LEAN=0.
    jvm_lean=
    if [ "$SLUICE_SEARCH_LEAN" = 1 ]; then
        jvm_lean=-XX:TieredStopAtLevel=1
        settings+=(-E node.processors=1)
    fi
    # -XX:-UsePerfData: no /tmp/hsperfdata_USER/PID files, which a killed
    # JVM would leave behind. CLI_JAVA_OPTS is the launcher process of ES 8
    # and 9, which stays up as the server's parent.
    sluice_spawn "$name" "$dir/console.log" env \
        "HOME=$dir/tmp" \
        "${prefix}_JAVA_HOME=$java_home" \
        "${prefix}_PATH_CONF=$dir/conf" \
        "${prefix}_TMPDIR=$dir/tmp" \
        "${prefix}_JAVA_OPTS=-Xms$SLUICE_SEARCH_HEAP -Xmx$SLUICE_SEARCH_HEAP -XX:-UsePerfData $jvm_lean" \
        "CLI_JAVA_OPTS=-XX:-UsePerfData $jvm_lean" \
        "${runas[@]}" "$home/bin/$name" "${settings[@]}"
    echo "$SLUICE_LAST_PID" >"$dir/pid"
    echo "$port" >"$dir/port"
    sluice_now_ms >"$dir/started_ms"
}

# es_tls: Elasticsearch with security on. In DIR/conf (prepared, not yet
# started): a CA and a node certificate for 127.0.0.1 and localhost made
# with openssl (EC P-256: milliseconds), and the keystore's
# bootstrap.password, a random password for the reserved user `elastic`
# (the keystore tool is a JVM: about 2.5 CPU-seconds). Also writes DIR/curlrc
# (CA and credentials for curl -K, so the password is on no command line)
# and DIR/password. Sets SLUICE_ES_TLS_SETTINGS.
sluice_es_tls_prepare() { # DIR
    local dir=$1 certs pw java_home
    certs=$dir/conf/certs
    mkdir -p "$certs"
    command -v openssl >/dev/null ||
        { sluice_fail "openssl not found; run scripts/setup (Debian package openssl)"; return 1; }
    if ! {
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -keyout "$certs/ca.key" -out "$certs/ca.crt" -days 3 \
            -subj /CN=sluice-test-ca -addext basicConstraints=critical,CA:TRUE &&
            openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
                -keyout "$certs/node.key" -out "$certs/node.csr" -subj /CN=localhost &&
            printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' \
                >"$certs/node.ext" &&
            openssl x509 -req -in "$certs/node.csr" -CA "$certs/ca.crt" -CAkey "$certs/ca.key" \
                -CAcreateserial -days 3 -extfile "$certs/node.ext" -out "$certs/node.crt"
    } >"$dir/openssl.log" 2>&1; then
        sluice_log_tail openssl "$dir/openssl.log"
        sluice_fail "openssl could not make es_tls's certificates in $certs (log above)"
        return 1
    fi
    pw=sluice-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
    (umask 077 && printf '%s' "$pw" >"$dir/password")
    java_home=$(sluice_dist_java_home es_tls) || return 1
    if ! env "ES_JAVA_HOME=$java_home" "ES_PATH_CONF=$dir/conf" "HOME=$dir/tmp" \
        "CLI_JAVA_OPTS=-XX:-UsePerfData -XX:TieredStopAtLevel=1 -Xshare:auto" \
        "$(sluice_dist_home es_tls)/bin/elasticsearch-keystore" add -x -f bootstrap.password \
        <"$dir/password" >"$dir/keystore.log" 2>&1; then
        sluice_log_tail elasticsearch-keystore "$dir/keystore.log"
        sluice_fail "elasticsearch-keystore could not set bootstrap.password in $dir/conf (log above)"
        return 1
    fi
    (umask 077 && printf 'cacert = "%s"\nuser = "elastic:%s"\n' "$certs/ca.crt" "$pw" >"$dir/curlrc")
    SLUICE_ES_TLS_SETTINGS=(-E xpack.security.enabled=true
        -E xpack.security.enrollment.enabled=false
        -E xpack.security.http.ssl.enabled=true
        -E xpack.security.http.ssl.certificate=certs/node.crt
        -E xpack.security.http.ssl.key=certs/node.key
        -E xpack.security.http.ssl.certificate_authorities=certs/ca.crt)
}

# Prints the version of the node behind URL (GET /_nodes/_local: ES 9's
# integ-test-zip answers GET / with 405); CURLRC: curl -K file (es_tls).
sluice_search_version() { # URL [CURLRC]
    curl -sS --max-time 10 ${2:+-K "$2"} "$1/_nodes/_local" | "$SLUICE_PYTHON" -c '
import json, sys
nodes = json.load(sys.stdin)["nodes"]
print(next(iter(nodes.values()))["version"])'
}

# Polls URL until _cluster/health is at least yellow, up to TIMEOUT seconds;
# PGID (may be empty for an outside cluster) is checked on every round so a
# server that died fails at once instead of at the deadline. On failure
# SLUICE_POLL_WHY says why. Runs in the caller's shell, never in $( ): a
# signal trap waits for a command substitution to finish, so one that polls
# for two minutes would hold off Ctrl-C that long. CURLRC: a curl -K file
# (es_tls: CA and credentials).
sluice_search_poll() { # URL TIMEOUT PGID [CURLRC]
    local url=$1 timeout=$2 pgid=$3 rc=${4:-} deadline code
    SLUICE_POLL_WHY=
    deadline=$(($(sluice_now_ms) + timeout * 1000))
    while :; do
        # With wait_for_status the server answers 200 only once the status
        # is reached (408 otherwise), so the code alone is the answer.
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 ${rc:+-K "$rc"} \
            "$url/_cluster/health?wait_for_status=yellow&timeout=2s" 2>/dev/null) || true
        [ "$code" = 200 ] && return 0
        if [ -n "$pgid" ] && ! sluice_group_alive "$pgid"; then
            SLUICE_POLL_WHY=exited
            return 1
        fi
        if [ "$(sluice_now_ms)" -ge "$deadline" ]; then
            SLUICE_POLL_WHY="timeout (last HTTP status: ${code:-none})"
            return 1
        fi
        sleep 0.25
    done
}

# Waits for a launched search engine and exports its URL and version.
sluice_search_wait() { # KEY
    local key=$1 name dir port pid url t0 var rc=
    name=$(sluice_dist_name "$key")
    dir=$SLUICE_RUN_DIR/$key
    port=$(cat "$dir/port") pid=$(cat "$dir/pid") t0=$(cat "$dir/started_ms")
    url="http://127.0.0.1:$port"
    if [ "$key" = es_tls ]; then
        url="https://127.0.0.1:$port" rc=$dir/curlrc
    fi
    if ! sluice_search_poll "$url" "$SLUICE_START_TIMEOUT" "$pid" "$rc"; then
        sluice_log_tail "$name" "$dir/console.log"
        case $SLUICE_POLL_WHY in
        exited) sluice_fail "$name $(sluice_dist_version "$key") on $url exited during startup (log above; SLUICE_KEEP_RUN_DIR=1 keeps all its logs)" ;;
        *) sluice_fail "$name $(sluice_dist_version "$key") on $url not healthy within ${SLUICE_START_TIMEOUT}s: $SLUICE_POLL_WHY (log above; raise SLUICE_START_TIMEOUT on a slow machine)" ;;
        esac
        return 1
    fi
    echo $(($(sluice_now_ms) - t0)) >"$dir/ready_ms"
    var=${key^^}
    export "SLUICE_TEST_${var}_URL=$url"
    export "SLUICE_TEST_${var}_VERSION=$(sluice_search_version "$url" "$rc")"
    if [ "$key" = es_tls ]; then
        export SLUICE_TEST_ES_TLS_CA=$dir/conf/certs/ca.crt
        SLUICE_TEST_ES_TLS_PASSWORD=$(cat "$dir/password")
        export SLUICE_TEST_ES_TLS_PASSWORD
    fi
}

# Waits for a cluster the user pointed us at and exports its version.
sluice_search_check_url() { # KEY
    local key=$1 var url
    var=${key^^}
    url=SLUICE_TEST_${var}_URL
    url=${!url}
    url=${url%/}
    local rc=
    if [ "$key" = es_tls ]; then
        [ -n "${SLUICE_TEST_ES_TLS_CA:-}" ] && [ -n "${SLUICE_TEST_ES_TLS_PASSWORD:-}" ] ||
            { sluice_fail "SLUICE_TEST_ES_TLS_URL is set without SLUICE_TEST_ES_TLS_CA and SLUICE_TEST_ES_TLS_PASSWORD (the CA file and the password of the user elastic); set both or unset the URL"; return 1; }
        rc=$SLUICE_RUN_DIR/es_tls.curlrc
        (umask 077 && printf 'cacert = "%s"\nuser = "elastic:%s"\n' \
            "$SLUICE_TEST_ES_TLS_CA" "$SLUICE_TEST_ES_TLS_PASSWORD" >"$rc")
    fi
    if ! sluice_search_poll "$url" 30 "" "$rc"; then
        sluice_fail "SLUICE_TEST_${var}_URL=$url is not healthy (yellow or green) within 30s: $SLUICE_POLL_WHY; fix the cluster or unset the variable to let the harness start one"
        return 1
    fi
    export "SLUICE_TEST_${var}_URL=$url"
    export "SLUICE_TEST_${var}_VERSION=$(sluice_search_version "$url" "$rc")"
}

# es_cluster: three Elasticsearch nodes on loopback forming one cluster
# (every node master-eligible and data; discovery.seed_hosts and
# cluster.initial_master_nodes name the three transport ports), each with
# SLUICE_SEARCH_HEAP, in $SLUICE_RUN_DIR/es_cluster/n1..n3. Not in
# SLUICE_SEARCH_KEYS: tests/run starts it only when asked (SLUICE_TEST_CLUSTER=1).
sluice_es_cluster_launch() {
    local base=$SLUICE_RUN_DIR/es_cluster i seeds masters
    local -a p=()
    read -r -a p < <(sluice_free_ports 6 || true)
    [ ${#p[@]} -eq 6 ] || { sluice_fail "could not pick free loopback ports for es_cluster"; return 1; }
    seeds="127.0.0.1:${p[1]},127.0.0.1:${p[3]},127.0.0.1:${p[5]}"
    masters="es_cluster-n1-$$,es_cluster-n2-$$,es_cluster-n3-$$"
    mkdir -p "$base"
    for i in 1 2 3; do
        sluice__search_prepare es_cluster "$base/n$i" || return 1
        printf '%s\n' "es_cluster-n$i-$$" "${p[2 * i - 2]}" "${p[2 * i - 1]}" \
            -E "discovery.seed_hosts=$seeds" -E "cluster.initial_master_nodes=$masters" \
            >"$base/n$i/settings"
        sluice_es_cluster_spawn "$base/n$i" || return 1
    done
    sluice_now_ms >"$base/started_ms"
}

# Spawns the cluster node of DIR with DIR/settings (first launch, and
# restarts by tests/lib/es_cluster_node.sh).
sluice_es_cluster_spawn() { # DIR
    local -a a=()
    mapfile -t a <"$1/settings"
    sluice__search_spawn es_cluster "$1" "${a[@]}"
}

# Waits until the cluster has three nodes and is green; exports
# SLUICE_TEST_ES_CLUSTER_URLS (the three HTTP URLs, space-separated) and
# SLUICE_TEST_ES_CLUSTER_PIDS (their process group ids, in the same order:
# `kill -KILL -- -PGID` kills a node, launcher and server JVM).
sluice_es_cluster_wait() {
    local base=$SLUICE_RUN_DIR/es_cluster i url code deadline t0 urls='' pids='' dead=''
    for i in 1 2 3; do
        urls+="${urls:+ }http://127.0.0.1:$(cat "$base/n$i/port")"
        pids+="${pids:+ }$(cat "$base/n$i/pid")"
    done
    url=${urls%% *} t0=$(cat "$base/started_ms")
    deadline=$(($(sluice_now_ms) + SLUICE_START_TIMEOUT * 1000))
    while :; do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
            "$url/_cluster/health?wait_for_status=green&wait_for_nodes=3&timeout=2s" 2>/dev/null) || true
        [ "$code" = 200 ] && break
        for i in 1 2 3; do
            sluice_group_alive "$(cat "$base/n$i/pid")" || dead=n$i
        done
        if [ -n "$dead" ] || [ "$(sluice_now_ms)" -ge "$deadline" ]; then
            for i in 1 2 3; do sluice_log_tail "es_cluster n$i" "$base/n$i/console.log"; done
            if [ -n "$dead" ]; then
                sluice_fail "es_cluster node $dead exited during startup (logs above; SLUICE_KEEP_RUN_DIR=1 keeps them)"
            else
                sluice_fail "es_cluster ($urls) not green with 3 nodes within ${SLUICE_START_TIMEOUT}s (last HTTP status: ${code:-none}; logs above)"
            fi
            return 1
        fi
        sleep 0.25
    done
    echo $(($(sluice_now_ms) - t0)) >"$base/ready_ms"
    export SLUICE_TEST_ES_CLUSTER_URLS=$urls SLUICE_TEST_ES_CLUSTER_PIDS=$pids
    export SLUICE_TEST_ES_CLUSTER_DIR=$base
    export SLUICE_TEST_ES_CLUSTER_VERSION
    SLUICE_TEST_ES_CLUSTER_VERSION=$(sluice_search_version "$url")
}

# es_restart: one node in $SLUICE_RUN_DIR/es_restart whose settings are
# kept in DIR/settings, one per line, so tests/lib/es_restart.sh starts it
# again exactly so (same ports, name and data) after a test killed it.
# http.max_content_length is static: a node only takes it at start.
sluice_es_restart_launch() {
    local dir=$SLUICE_RUN_DIR/es_restart port tport
    read -r port tport < <(sluice_free_ports 2 || true)
    [ -n "$tport" ] || { sluice_fail "could not pick free loopback ports for es_restart"; return 1; }
    sluice__search_prepare es_restart "$dir" || return 1
    printf '%s\n' "es_restart-$$" "$port" "$tport" -E discovery.type=single-node \
        -E http.max_content_length=1mb >"$dir/settings"
    sluice_es_restart_spawn "$dir"
}

# Spawns the node of DIR with DIR/settings (first launch and restarts).
sluice_es_restart_spawn() { # DIR
    local -a a=()
    mapfile -t a <"$1/settings"
    sluice__search_spawn es_restart "$1" "${a[@]}"
}

# Waits for es_restart and exports its URL, DIR and PGID (and VERSION).
sluice_es_restart_wait() {
    local dir=$SLUICE_RUN_DIR/es_restart url
    url=http://127.0.0.1:$(cat "$dir/port")
    if ! sluice_search_poll "$url" "$SLUICE_START_TIMEOUT" "$(cat "$dir/pid")"; then
        sluice_log_tail es_restart "$dir/console.log"
        sluice_fail "es_restart on $url not healthy within ${SLUICE_START_TIMEOUT}s: $SLUICE_POLL_WHY (log above)"
        return 1
    fi
    echo $(($(sluice_now_ms) - $(cat "$dir/started_ms"))) >"$dir/ready_ms"
    export SLUICE_TEST_ES_RESTART_URL=$url SLUICE_TEST_ES_RESTART_DIR=$dir
    export SLUICE_TEST_ES_RESTART_PGID SLUICE_TEST_ES_RESTART_VERSION
    SLUICE_TEST_ES_RESTART_PGID=$(cat "$dir/pid")
    SLUICE_TEST_ES_RESTART_VERSION=$(sluice_search_version "$url")
}

# ---------------------------------------------------------------------------
# All together.

# Starts the named services (redis and search engine keys) that the
# environment does not already provide, all launched before any is waited
# on, and exports the SLUICE_TEST_* variables. Fails, after printing the
# reason and the server's log, if one does not come up.
sluice_services_start() { # redis|es|es9|os|os3|es_tls|es_cluster|es_restart...
    local want=" $* " s url rc=0 i=1
    local -a p=()
    for s in "$@"; do
        case " redis ${SLUICE_SEARCH_KEYS[*]} es_cluster es_restart " in *" $s "*) ;;
        *) sluice_fail "unknown service '$s' (expected redis, es_cluster, es_restart or one of: ${SLUICE_SEARCH_KEYS[*]})"; return 1 ;;
        esac
    done
    sluice_services_init
    # One port for redis, two (HTTP, transport) per search engine.
    read -r -a p < <(sluice_free_ports $((1 + 2 * ${#SLUICE_SEARCH_KEYS[@]})) || true)
    [ ${#p[@]} -eq $((1 + 2 * ${#SLUICE_SEARCH_KEYS[@]})) ] ||
        { sluice_fail "could not pick free loopback ports (python3 missing? run scripts/setup)"; return 1; }
    case $want in *" redis "*)
        [ -n "${SLUICE_TEST_REDIS_URL:-}" ] || sluice_redis_launch "${p[0]}" || return 1 ;;
    esac
    for s in "${SLUICE_SEARCH_KEYS[@]}"; do
        case $want in *" $s "*)
            url=SLUICE_TEST_${s^^}_URL
            [ -n "${!url:-}" ] || sluice_search_launch "$s" "${p[i]}" "${p[i + 1]}" || return 1 ;;
        esac
        i=$((i + 2))
    done
    case $want in *" es_cluster "*)
        [ -n "${SLUICE_TEST_ES_CLUSTER_URLS:-}" ] || sluice_es_cluster_launch || return 1 ;;
    esac
    case $want in *" es_restart "*)
        [ -n "${SLUICE_TEST_ES_RESTART_URL:-}" ] || sluice_es_restart_launch || return 1 ;;
    esac
    # Wait for all even when one fails, so every failure is reported.
    case $want in *" redis "*)
        if [ -n "${SLUICE_TEST_REDIS_URL:-}" ] && [ ! -f "$SLUICE_RUN_DIR/redis/pid" ]; then
            sluice_redis_check_url || rc=1
        else
            sluice_redis_wait || rc=1
        fi ;;
    esac
    for s in "${SLUICE_SEARCH_KEYS[@]}"; do
        case $want in *" $s "*)
            if [ -f "$SLUICE_RUN_DIR/$s/pid" ]; then
                sluice_search_wait "$s" || rc=1
            else
                sluice_search_check_url "$s" || rc=1
            fi ;;
        esac
    done
    case $want in *" es_cluster "*)
        if [ -f "$SLUICE_RUN_DIR/es_cluster/started_ms" ]; then
            sluice_es_cluster_wait || rc=1
        elif [ -z "${SLUICE_TEST_ES_CLUSTER_PIDS:-}" ]; then
            sluice_fail "SLUICE_TEST_ES_CLUSTER_URLS is set without SLUICE_TEST_ES_CLUSTER_PIDS (the nodes' process group ids, which the test kills); set both or unset the URLs"
            rc=1
        fi ;;
    esac
    case $want in *" es_restart "*)
        if [ -f "$SLUICE_RUN_DIR/es_restart/settings" ]; then
            sluice_es_restart_wait || rc=1
        elif [ -z "${SLUICE_TEST_ES_RESTART_DIR:-}" ]; then
            sluice_fail "SLUICE_TEST_ES_RESTART_URL is set without SLUICE_TEST_ES_RESTART_DIR (the node dir tests/lib/es_restart.sh restarts); set both or unset the URL"
            rc=1
        fi ;;
    esac
    return $rc
}

# One line per service for a run's summary.
sluice_services_describe() {
    local s dir
    [ -z "${SLUICE_TEST_REDIS_URL:-}" ] || {
        if [ -f "$SLUICE_RUN_DIR/redis/pid" ]; then
            echo "redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') at $SLUICE_TEST_REDIS_URL"
        else
            echo "redis at $SLUICE_TEST_REDIS_URL (given)"
        fi
    }
    for s in "${SLUICE_SEARCH_KEYS[@]}"; do
        local var url ver
        var=${s^^}
        url=SLUICE_TEST_${var}_URL ver=SLUICE_TEST_${var}_VERSION
        url=${!url:-} ver=${!ver:-}
        [ -n "$url" ] || continue
        dir=$SLUICE_RUN_DIR/$s
        if [ -f "$dir/ready_ms" ]; then
            echo "$(sluice_dist_name "$s") $ver at $url (ready in $(awk -v m="$(cat "$dir/ready_ms")" 'BEGIN { printf "%.1f", m / 1000 }')s)"
        else
            echo "$(sluice_dist_name "$s") $ver at $url (given)"
        fi
    done
    [ -z "${SLUICE_TEST_ES_CLUSTER_URLS:-}" ] || {
        dir=$SLUICE_RUN_DIR/es_cluster
        if [ -f "$dir/ready_ms" ]; then
            echo "elasticsearch ${SLUICE_TEST_ES_CLUSTER_VERSION:-} 3-node cluster at $SLUICE_TEST_ES_CLUSTER_URLS (green in $(awk -v m="$(cat "$dir/ready_ms")" 'BEGIN { printf "%.1f", m / 1000 }')s)"
        else
            echo "elasticsearch cluster at $SLUICE_TEST_ES_CLUSTER_URLS (given)"
        fi
    }
    [ -z "${SLUICE_TEST_ES_RESTART_URL:-}" ] || {
        dir=$SLUICE_RUN_DIR/es_restart
        if [ -f "$dir/ready_ms" ]; then
            echo "elasticsearch ${SLUICE_TEST_ES_RESTART_VERSION:-} restartable node at $SLUICE_TEST_ES_RESTART_URL (ready in $(awk -v m="$(cat "$dir/ready_ms")" 'BEGIN { printf "%.1f", m / 1000 }')s)"
        else
            echo "elasticsearch restartable node at $SLUICE_TEST_ES_RESTART_URL (given)"
        fi
    }
}
