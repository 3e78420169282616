#!/usr/bin/env bash
# tests/lib/es_restart.sh kill|start: stops tests/run's es_restart node with
# SIGKILL (its whole process group: launcher and server JVM), or starts it
# again with the same ports, node name and data dir and waits until it is
# healthy (yellow). Reads SLUICE_TEST_ES_RESTART_DIR (services.sh exports
# it). The restarted node is recorded in the run's jobs file, so the run
# stops it at exit as it stops every server. Exit 0 done, 1 failed (why on
# stderr), 2 usage.
set -euo pipefail
# shellcheck source=services.sh
. "$(dirname "$0")/services.sh"
dir=${SLUICE_TEST_ES_RESTART_DIR:-}
[ -n "$dir" ] && [ -f "$dir/settings" ] ||
    { echo "es_restart.sh: SLUICE_TEST_ES_RESTART_DIR does not name es_restart's node dir; run through tests/run" >&2; exit 2; }
SLUICE_RUN_DIR=$(dirname "$dir") # sluice_spawn records the job there

case ${1:-} in
kill)
    pgid=$(cat "$dir/pid")
    kill -KILL -- "-$pgid" 2>/dev/null || true
    deadline=$(($(sluice_now_ms) + 10000))
    while sluice_group_alive "$pgid"; do
        [ "$(sluice_now_ms)" -lt "$deadline" ] ||
            { sluice_fail "es_restart (pgid $pgid) still alive 10s after SIGKILL"; exit 1; }
        sleep 0.05
    done
    ;;
start)
    sluice_es_restart_spawn "$dir"
    url=http://127.0.0.1:$(cat "$dir/port")
    if ! sluice_search_poll "$url" "$SLUICE_START_TIMEOUT" "$(cat "$dir/pid")"; then
        sluice_log_tail es_restart "$dir/console.log"
        sluice_fail "es_restart on $url not healthy within ${SLUICE_START_TIMEOUT}s after a restart: $SLUICE_POLL_WHY (log above)"
        exit 1
    fi
    ;;
*)
    echo "usage: es_restart.sh kill|start" >&2
    exit 2
    ;;
esac
