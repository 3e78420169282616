#!/usr/bin/env bash
# bench_indexer.sh: `sluice-indexer run --once` from Redis into (b) a sink
# that answers every _bulk with success at once (the indexer's own cost) and,
# with --es, (a) the real Elasticsearch, compared in the same run with the
# same bulk bodies sent by curl with the same concurrency (what
# Elasticsearch itself can take).
#
#   bench/bench_indexer.sh [--events N] [--es] [--runs N] [--no-build]
#       [--perf]                      perf record the sink run(s)
#       [--perf-stat]                 perf stat -e instructions,... the sink run(s)
#       [--sink-delay MS]             the sink answers each request MS ms late,
#                                     one at a time (a slow node: peak RSS)
#       [--set KEY=JSON]...           extra elasticsearch.* or redis.* keys,
#                                     e.g. --set elasticsearch.flush_bytes='"2MiB"'
#       [--fill-shipper CODEC]        fill the stream with sluice-shipper
#                                     (build/release, grok + date over the
#                                     first N lines of the Apache corpus,
#                                     output.redis.codec CODEC) instead of
#                                     bench-fill: the entries the shipper
#                                     writes, of any codec
#
# Redis (and, with --es, Elasticsearch 8, SLUICE_SEARCH_LEAN=0 for full JIT)
# are started through tests/lib/services.sh and stopped at exit; export
# SLUICE_TEST_REDIS_URL / SLUICE_TEST_ES_URL to use servers already running.
# The stream is filled before each run by bench-fill (bench/bench_fill.c:
# shipper format 2, lz4, 2,000 events an entry, events from
# bench/out/batch_events.ndjson), which is not timed. Each indexer run:
#   wall      from start to the --once exit
#   cpu       user + sys of the indexer, from /usr/bin/time -v
#   rss       its peak RSS (maximum resident set size)
#   redis     the Redis server's used_cpu_user + used_cpu_sys (INFO cpu)
#             over the run: XREADGROUP, XACK, XDEL
# and the sink's own CPU, to show it was not the limit. The curl replay
# sends the bodies the sink saved (index renamed), to the same URL as the
# indexer (timeout, filter_path), with curl --parallel
# --parallel-max = elasticsearch.max_in_flight (3), each answer checked for
# "errors":false. Indices are deleted before each run. redis.block is 100ms
# (default 2s): --once ends on a read that finds nothing, and that wait is
# not the indexer's work.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out
BIN=$OUT/bin
EVENTS=1000000
RUNS=1
WITH_ES=0
BUILD=1
PERF=0
SINK_DELAY=0
SETS=()
FILL_CODEC=
while [ $# -gt 0 ]; do
    case $1 in
    --events) EVENTS=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --es) WITH_ES=1; shift ;;
    --no-build) BUILD=0; shift ;;
    --perf) PERF=1; shift ;;
    --perf-stat) PERF=2; shift ;;
    --sink-delay) SINK_DELAY=$2; shift 2 ;;
    --set) SETS+=("$2"); shift 2 ;;
    --fill-shipper) FILL_CODEC=$2; shift 2 ;;
    *) echo "usage: $0 [--events N] [--runs N] [--es] [--no-build] [--perf] [--perf-stat] [--sink-delay MS] [--set KEY=JSON] [--fill-shipper CODEC]" >&2; exit 2 ;;
    esac
done
mkdir -p "$BIN"

if [ $BUILD = 1 ]; then
    cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build build/release --target sluice-indexer sluice-grok sluice_common >/dev/null
    gcc -O2 -DNDEBUG -std=c11 -D_POSIX_C_SOURCE=200809L -Icommon \
        bench/bench_fill.c build/release/common/libsluice_common.a \
        -lhiredis -llz4 -lzstd -lm -o "$BIN/bench-fill"
    gcc -O2 -DNDEBUG -std=c11 -D_POSIX_C_SOURCE=200809L \
        bench/bench_sink.c -o "$BIN/bench-sink"
fi
INDEXER=${SLUICE_INDEXER:-$ROOT/build/release/bin/sluice-indexer}
if [ ! -s "$OUT/batch_events.ndjson" ]; then
    [ -s "$OUT/apache_combined.log" ] ||
        python3 bench/gen_apache.py --out "$OUT/apache_combined.log"
    build/release/bin/sluice-grok '%{HTTPD_COMBINEDLOG}' \
        "$OUT/apache_combined.log" >"$OUT/batch_events.ndjson"
fi

. tests/lib/services.sh
sluice_services_init
if [ $WITH_ES = 1 ]; then
    export SLUICE_SEARCH_LEAN=${SLUICE_SEARCH_LEAN:-0}
    sluice_services_start redis es
else
    sluice_services_start redis
fi
REDIS_URL=$SLUICE_TEST_REDIS_URL
REDIS_HP=${REDIS_URL#redis://}
rcli() { redis-cli -h "${REDIS_HP%:*}" -p "${REDIS_HP##*:}" "$@"; }
redis_cpu() {
    rcli INFO cpu | tr -d '\r' |
        awk -F: '/^used_cpu_user:/{u=$2} /^used_cpu_sys:/{s=$2} END{printf "%.3f", u+s}'
}

WORK=$(mktemp -d "$OUT/idx.XXXXXX")
[ -n "${BENCH_KEEP:-}" ] || trap 'rm -rf "$WORK"' EXIT

# config for `run`: hosts URL, index pattern
write_config() {
    local extra_es="" extra_redis="" kv key val
    for kv in "${SETS[@]+"${SETS[@]}"}"; do
        key=${kv%%=*} val=${kv#*=}
        case $key in
        elasticsearch.*) extra_es+=", \"${key#elasticsearch.}\": $val" ;;
        redis.*) extra_redis+=", \"${key#redis.}\": $val" ;;
        esac
    done
    cat >"$WORK/indexer.json" <<EOF
{"redis": {"url": "$REDIS_URL", "consumer": "bench", "block": "100ms"$extra_redis},
 "elasticsearch": {"hosts": ["$1"], "index": "$2"$extra_es},
 "log": {"level": "info"}}
EOF
}

fill() {
    rcli FLUSHALL >/dev/null
    if [ -n "$FILL_CODEC" ]; then
        [ -s "$WORK/lines.log" ] ||
            head -n "$EVENTS" "$OUT/apache_combined.log" >"$WORK/lines.log"
        rm -rf "$WORK/ship"
        cat >"$WORK/shipper.json" <<EOF
{"host": {"name": "bench-1"}, "data_dir": "$WORK/ship",
 "inputs": [{"type": "file", "paths": ["$WORK/lines.log"], "start_at": "beginning",
   "processors": [{"grok": {"patterns": ["%{HTTPD_COMBINEDLOG}"]}},
     {"date": {"field": "timestamp", "formats": ["dd/MMM/yyyy:HH:mm:ss Z"]}}]}],
 "output": {"redis": {"url": "$REDIS_URL", "codec": "$FILL_CODEC"}},
 "log": {"level": "warn"}}
EOF
        "$ROOT/build/release/bin/sluice-shipper" -c "$WORK/shipper.json" run --once
        return
    fi
    "$BIN/bench-fill" --redis "$REDIS_HP" --events "$EVENTS" \
        "$OUT/batch_events.ndjson" >"$WORK/fill.txt"
}

# run_indexer LABEL: one timed run; prints the row
run_indexer() {
    local label=$1 r0 r1 t0 t1 prefix=()
    [ $PERF = 1 ] && prefix=(perf record -e cpu-clock -g -o "$OUT/perf.$label.data" --)
    [ $PERF = 2 ] && prefix=(perf stat -x, -o "$WORK/perf.txt" \
        -e instructions:u,instructions:k,cycles,page-faults --)
    r0=$(redis_cpu)
    t0=$(date +%s.%N)
    /usr/bin/time -v -o "$WORK/time.txt" "${prefix[@]+"${prefix[@]}"}" \
        "$INDEXER" -c "$WORK/indexer.json" run --once 2>"$WORK/indexer.log" ||
        { cat "$WORK/indexer.log" >&2; exit 1; }
    t1=$(date +%s.%N)
    r1=$(redis_cpu)
    grep -q "nothing left to index" "$WORK/indexer.log" ||
        { cat "$WORK/indexer.log" >&2; exit 1; }
    local indexed
    indexed=$(sed -n 's/.* \([0-9]*\) indexed, \([0-9]*\) already.*/\1 \2/p' "$WORK/indexer.log")
    awk -v label="$label" -v n="$EVENTS" -v t0="$t0" -v t1="$t1" \
        -v r0="$r0" -v r1="$r1" -v indexed="$indexed" '
        /User time/ {u=$NF} /System time/ {s=$NF}
        /Maximum resident set size/ {rss=$NF}
        END {
            w = t1 - t0; m = n / 1e6
            printf "%-14s %9.0f ev/s  wall %6.2f s  cpu/M %5.2f s (user %.2f sys %.2f)  rss %5.1f MiB  redis cpu/M %.2f s  [indexed+409: %s]\n",
                label, n / w, w, (u + s) / m, u / m, s / m, rss / 1024, (r1 - r0) / m, indexed
        }' "$WORK/time.txt"
    [ $PERF = 2 ] && awk -F, -v n="$EVENTS" '
        $3 ~ /^instructions|^cycles|^page-faults/ && $1 ~ /^[0-9]+$/ {
            printf "               %s: %.0f an event (%s)\n", $3, $1 / n, $1 }' \
        "$WORK/perf.txt"
    return 0
}

echo "# $(date -u +%FT%TZ) $(uname -n) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $EVENTS events, ${SETS[*]:-defaults}"

# (b) the sink; SLUICE_INDEXERS="A B ..." runs each binary in turn in every
# run (before/after, interleaved; the order turns each run), labelled by
# its directory's name
INDEXERS=(${SLUICE_INDEXERS:-$INDEXER})
for run in $(seq "$RUNS"); do
  for k in $(seq 0 $((${#INDEXERS[@]} - 1))); do
    INDEXER=${INDEXERS[$(((k + run) % ${#INDEXERS[@]}))]}
    label=sink
    [ ${#INDEXERS[@]} -gt 1 ] && label=$(basename "$(dirname "$INDEXER")")
    fill
    save=()
    [ $WITH_ES = 1 ] && [ "$run" = 1 ] && { mkdir -p "$WORK/bodies"; save=(--save "$WORK/bodies"); }
    # the file is truncated by the sink's child shell, maybe after the loop
    # below has read the last run's port from it: remove it first
    rm -f "$WORK/sink.port"
    "$BIN/bench-sink" "${save[@]+"${save[@]}"}" --delay "$SINK_DELAY" \
        >"$WORK/sink.port" 2>"$WORK/sink.txt" &
    sink_pid=$!
    port=""
    for _ in $(seq 200); do
        port=$(sed -n 's/^port \([0-9][0-9]*\)$/\1/p' "$WORK/sink.port")
        [ -n "$port" ] && break
        sleep 0.05
    done
    [ -n "$port" ] || { echo "bench-sink did not say its port within 10 s" >&2; exit 1; }
    write_config "http://127.0.0.1:$port" "sluice-%{+yyyy.MM.dd}"
    run_indexer "$label"
    kill -TERM $sink_pid
    wait $sink_pid || true
    sed 's/^/               /' "$WORK/sink.txt"
  done
done

[ $WITH_ES = 1 ] || exit 0

# (a) the real Elasticsearch: curl with the same bodies, then the indexer
ES=$SLUICE_TEST_ES_URL
inflight=3
for kv in "${SETS[@]+"${SETS[@]}"}"; do
    case $kv in elasticsearch.max_in_flight=*) inflight=${kv#*=} ;; esac
done
# Elasticsearch 8 refuses wildcard deletes (action.destructive_requires_name)
drop_indices() {
    local i
    for i in $(curl -s "$ES/_cat/indices/curl-*,es-*?h=index"); do
        curl -s -XDELETE "$ES/$i" >/dev/null
    done
}
# the indexer's own query (indexer/es/es_sender.h), so both cost the node
# the same answers
FILTER='errors,error,status,items.*.status,items.*.error'
mkdir -p "$WORK/curl" "$WORK/answers"
for f in "$WORK"/bodies/*.ndjson; do
    sed 's/^{"create":{"_index":"sluice-/{"create":{"_index":"curl-/' "$f" \
        >"$WORK/curl/${f##*/}"
done
{
    sep=""
    for f in "$WORK"/curl/*.ndjson; do
        printf '%s' "$sep"
        sep=$'next\n'
        printf 'url = "%s/_bulk?timeout=30000ms&filter_path=%s"\n' "$ES" "$FILTER"
        printf 'data-binary = "@%s"\n' "$f"
        printf 'header = "Content-Type: application/x-ndjson"\n'
        printf 'output = "%s/answers/%s"\n' "$WORK" "${f##*/}"
    done
} >"$WORK/curl.cfg"
es_curl() {
    drop_indices
    rm -f "$WORK"/answers/*
    t0=$(date +%s.%N)
    curl -s --parallel --parallel-max "$inflight" -K "$WORK/curl.cfg" 2>/dev/null
    t1=$(date +%s.%N)
    bad=$( (grep -L '^{"errors":false' "$WORK"/answers/* || true) | wc -l)
    awk -v n="$EVENTS" -v t0="$t0" -v t1="$t1" -v bad="$bad" 'BEGIN {
        printf "%-14s %9.0f ev/s  wall %6.2f s  (%d answers not errors:false)\n",
            "es curl", n / (t1 - t0), t1 - t0, bad }'
}
es_indexer() {
    drop_indices
    fill
    write_config "$ES" "es-%{+yyyy.MM.dd}"
    run_indexer "es indexer"
}
# Odd runs curl first, even runs the indexer first: the second of a pair
# shares the node with the first one's merges.
for run in $(seq "$RUNS"); do
    if [ $((run % 2)) = 1 ]; then es_curl; es_indexer; else es_indexer; es_curl; fi
done
drop_indices
