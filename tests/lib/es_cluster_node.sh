#!/usr/bin/env bash
# tests/lib/es_cluster_node.sh start N: starts node N (1..3) of tests/run's
# es_cluster again (a test killed it with -9) with the same ports, node name
# and data dir, and waits until the cluster has its three nodes again and
# is at least yellow. Reads SLUICE_TEST_ES_CLUSTER_DIR (services.sh exports
# it); the node's new process group id is then in DIR/nN/pid. The restarted
# node is recorded in the run's jobs file, so the run stops it at exit.
# Exit 0 done, 1 failed (why on stderr), 2 usage.
set -euo pipefail
# shellcheck source=services.sh
. "$(dirname "$0")/services.sh"
base=${SLUICE_TEST_ES_CLUSTER_DIR:-}
n=${2:-}
[ "${1:-}" = start ] && [[ "$n" =~ ^[123]$ ]] ||
    { echo "usage: es_cluster_node.sh start 1|2|3" >&2; exit 2; }
[ -n "$base" ] && [ -f "$base/n$n/settings" ] ||
    { echo "es_cluster_node.sh: SLUICE_TEST_ES_CLUSTER_DIR does not name es_cluster's dir; run through tests/run" >&2; exit 2; }
SLUICE_RUN_DIR=$(dirname "$base") # sluice_spawn records the job there
dir=$base/n$n
if sluice_group_alive "$(cat "$dir/pid")"; then
    echo "es_cluster_node.sh: node $n (pgid $(cat "$dir/pid")) is running" >&2
    exit 1
fi
sluice_es_cluster_spawn "$dir"
url=http://127.0.0.1:$(cat "$dir/port")
deadline=$(($(sluice_now_ms) + SLUICE_START_TIMEOUT * 1000))
while :; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
        "$url/_cluster/health?wait_for_status=yellow&wait_for_nodes=3&timeout=2s" 2>/dev/null) || true
    [ "$code" = 200 ] && break
    if ! sluice_group_alive "$(cat "$dir/pid")" || [ "$(sluice_now_ms)" -ge "$deadline" ]; then
        sluice_log_tail "es_cluster n$n" "$dir/console.log"
        sluice_fail "es_cluster node $n on $url not back in a cluster of 3 within ${SLUICE_START_TIMEOUT}s (last HTTP status: ${code:-none}; log above)"
        exit 1
    fi
    sleep 0.25
done
