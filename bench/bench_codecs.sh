#!/usr/bin/env bash
# bench_codecs.sh: the output codecs compared on corpora other than
# Apache's (bench/gen_corpora.py): `sluice-shipper run --once` to a Redis
# stream, alternating the codecs round by round, per corpus:
#   json    the json processor (several loggers' shapes, nested, arrays)
#   python  multiline preset python + the traceback processor
#   syslog  grok %{SYSLOGLINE} (overwrite message) + date
#   plain   no processor (the message only)
#   apache  grok %{HTTPD_COMBINEDLOG} + date (bench/gen_apache.py's corpus,
#           bench/out/apache_combined.log, as bench_shipper.sh makes it)
#
#   bench/bench_codecs.sh [--corpora "json python syslog plain apache"]
#       [--codecs "lz4 columnar"] [--runs N] [--lines N]
#
# Each run prints: corpus codec shipper_cpu_s rss_MiB redis_cpu_s
# stream_MB (MEMORY USAGE) used_memory_MB (INFO memory, after the run,
# less the empty server's), all per 1M events where the corpus has 1M
# lines (--lines N: the first N lines of it; numbers per run, not scaled).
# After the last round of each codec the stream is decoded by
# bench/out/bin/bench-decode (built as bench_decode.c says) before it is
# deleted. SLUICE_SHIPPER names another binary. The corpora are made once
# in bench/out/corpus_KIND.log (seeded).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out
CORPORA="json python syslog plain"
CODECS="lz4 columnar"
RUNS=3
LINES=1000000
while [ $# -gt 0 ]; do
    case $1 in
    --corpora) CORPORA=$2; shift 2 ;;
    --codecs) CODECS=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --lines) LINES=$2; shift 2 ;;
    *) echo "usage: $0 [--corpora LIST] [--codecs LIST] [--runs N] [--lines N]" >&2; exit 2 ;;
    esac
done
SHIPPER=${SLUICE_SHIPPER:-$ROOT/build/release/bin/sluice-shipper}
DECODE=$OUT/bin/bench-decode
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/bench_codecs.XXXXXX)
. bench/redis_lib.sh
bench_redis_start "$WORK"

processors() { # $1: corpus kind
    case $1 in
    json) echo '"processors": [{ "json": {} }]' ;;
    python) echo '"multiline": { "preset": "python" }, "processors": [{ "traceback": {} }]' ;;
    syslog) echo '"processors": [{ "grok": { "patterns": ["%{SYSLOGLINE}"], "overwrite": ["message"] } },
        { "date": { "field": "timestamp", "formats": ["MMM  d HH:mm:ss", "MMM dd HH:mm:ss"] } }]' ;;
    plain) echo '"processors": []' ;;
    apache) echo '"processors": [{ "grok": { "patterns": ["%{HTTPD_COMBINEDLOG}"] } },
        { "date": { "field": "timestamp", "formats": ["dd/MMM/yyyy:HH:mm:ss Z"] } }]' ;;
    esac
}

config() { # $1: corpus file, $2: kind, $3: codec
    cat <<EOF
{
  "host": { "name": "bench-1" },
  "data_dir": "$WORK/data",
  "inputs": [
    { "type": "file", "paths": ["$1"], "start_at": "beginning",
      $(processors "$2") }
  ],
  "output": { "redis": { "url": "redis://127.0.0.1:$PORT/0", "codec": "$3" } },
  "log": { "level": "warn" }
}
EOF
}

redis_info() { # $1: section, $2: awk filter of keys
    redis-cli -p "$PORT" info "$1" | tr -d '\r' |
        awk -F: "$2"' {s += $2} END {printf "%.4f", s}'
}

BASE_MEM=$(redis_info memory '/^used_memory:/')
echo "redis-server on port $PORT; empty used_memory $BASE_MEM B"
echo "corpus codec shipper_cpu_s rss_MiB redis_cpu_s stream_MB used_memory_MB entries"
for kind in $CORPORA; do
    if [ "$kind" = apache ]; then
        CORPUS=$OUT/apache_combined.log
        [ -s "$CORPUS" ] || python3 bench/gen_apache.py --out "$CORPUS"
    else
        CORPUS=$OUT/corpus_$kind.log
        [ -s "$CORPUS" ] || python3 bench/gen_corpora.py --kind "$kind" --out "$CORPUS"
    fi
    if [ "$LINES" != 1000000 ]; then
        head -n "$LINES" "$CORPUS" >"$WORK/corpus.log"
        CORPUS=$WORK/corpus.log
    fi
    for codec in $CODECS; do
        config "$CORPUS" "$kind" "$codec" >"$WORK/$kind.$codec.json"
    done
    for i in $(seq "$RUNS"); do
        for codec in $CODECS; do
            rm -rf "$WORK/data"
            r0=$(redis_info cpu '/^used_cpu_(sys|user):/')
            /usr/bin/time -f '%U %S %M' -o "$WORK/time" \
                "$SHIPPER" -c "$WORK/$kind.$codec.json" run --once >/dev/null
            r1=$(redis_info cpu '/^used_cpu_(sys|user):/')
            n=$(redis-cli -p "$PORT" xlen sluice:events)
            mem=$(redis-cli -p "$PORT" memory usage sluice:events samples 0)
            used=$(redis_info memory '/^used_memory:/')
            read -r u s m <"$WORK/time"
            awk -v k="$kind" -v c="$codec" -v u="$u" -v s="$s" -v m="$m" \
                -v a="$r0" -v b="$r1" -v mem="$mem" -v used="$used" \
                -v base="$BASE_MEM" -v n="$n" 'BEGIN {
                printf "%s %s %.3f %.1f %.3f %.1f %.1f %d\n", k, c, u + s,
                    m / 1024, b - a, mem / 1e6, (used - base) / 1e6, n }'
            if [ "$i" = "$RUNS" ] && [ -x "$DECODE" ]; then
                echo "  decode $kind $codec: $("$DECODE" "$PORT" sluice:events)"
            fi
            redis-cli -p "$PORT" del sluice:events >/dev/null
        done
    done
done
