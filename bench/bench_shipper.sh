#!/usr/bin/env bash
# bench_shipper.sh: `sluice-shipper run --once` on 1M Apache combined lines
# with the grok (%{HTTPD_COMBINEDLOG}) and date processors, (a) to a Redis
# stream with the default output settings and (b) to stdout > /dev/null,
# beside `sluice-grok '%{HTTPD_COMBINEDLOG}'` on the same file in the same
# run (issue 12's benchmark).
#
#   bench/bench_shipper.sh [--lines N] [--runs N] [--no-build]
#       [--perf redis|stdout]     perf record -e cpu-clock one run of that
#                                 case into bench/out/perf.shipper.data
#       [--redis-opts 'JSON']     more members of output.redis, e.g.
#                                 '"codec": "zstd"' or '"batch_bytes": "512KiB"'
#       [--only redis|stdout]     time sluice-grok and that case only
#
# The corpus is bench/gen_apache.py's (seed and size its defaults), made
# once into bench/out/apache_combined.log (--lines N: the first N lines of
# it, into bench/out/apache_N.log). A redis-server of its own is started on
# a free loopback port (no persistence) and stopped at exit. The runs are
# interleaved (grok, stdout, redis; then again), each shipper run with a new
# data_dir (an empty registry), the stream deleted after each run. Each run:
#   cpu    user + sys of the process, CPU-s per 1M lines (/usr/bin/time)
#   rss    its peak RSS (maximum resident set size), MiB
#   wall   seconds from start to exit
#   redis  the server's used_cpu_user + used_cpu_sys delta over the run
#          (INFO cpu), CPU-s per 1M events; redis runs only
# The medians are printed last, with the spread (min-max), and the ratio
# of each shipper run's CPU to sluice-grok's median.
# SLUICE_SHIPPER / SLUICE_GROK name other binaries (before/after).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out
LINES=1000000
RUNS=3
BUILD=1
PERF=
REDIS_OPTS=
ONLY=
while [ $# -gt 0 ]; do
    case $1 in
    --lines) LINES=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --perf) PERF=$2; shift 2 ;;
    --redis-opts) REDIS_OPTS=", $2"; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    *) echo "usage: $0 [--lines N] [--runs N] [--no-build] [--perf redis|stdout] [--redis-opts JSON] [--only redis|stdout]" >&2; exit 2 ;;
    esac
done
mkdir -p "$OUT"
if [ $BUILD = 1 ]; then
    cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build build/release --target sluice-shipper sluice-grok >/dev/null
fi
SHIPPER=${SLUICE_SHIPPER:-$ROOT/build/release/bin/sluice-shipper}
GROK=${SLUICE_GROK:-$ROOT/build/release/bin/sluice-grok}
CORPUS=$OUT/apache_combined.log
[ -s "$CORPUS" ] || python3 bench/gen_apache.py --out "$CORPUS"
if [ "$LINES" != 1000000 ]; then
    head -n "$LINES" "$CORPUS" >"$OUT/apache_$LINES.log"
    CORPUS=$OUT/apache_$LINES.log
fi
NLINES=$(wc -l <"$CORPUS")

WORK=$(mktemp -d /tmp/bench_shipper.XXXXXX)
. bench/redis_lib.sh
bench_redis_start "$WORK"

config() { # $1: output object, $2: data_dir
    cat <<EOF
{
  "host": { "name": "bench-1" },
  "data_dir": "$2",
  "inputs": [
    { "type": "file", "paths": ["$CORPUS"], "start_at": "beginning",
      "processors": [
        { "grok": { "patterns": ["%{HTTPD_COMBINEDLOG}"] } },
        { "date": { "field": "timestamp", "formats": ["dd/MMM/yyyy:HH:mm:ss Z"] } }
      ] }
  ],
  "output": $1,
  "log": { "level": "warn" }
}
EOF
}
config '{"redis": {"url": "redis://127.0.0.1:'"$PORT"'/0"'"$REDIS_OPTS"'}}' "$WORK/data" \
    >"$WORK/redis.json"
config '{"stdout": {}}' "$WORK/data" >"$WORK/stdout.json"

redis_cpu() {
    redis-cli -p "$PORT" info cpu |
        awk -F: '/^used_cpu_(sys|user):/ {s += $2} END {printf "%.4f", s}'
}

# time_run NAME CMD...: one timed run; appends "name cpu rss wall redis" to
# $WORK/rows (per 1M lines).
time_run() {
    local name=$1
    shift
    rm -rf "$WORK/data"
    local r0 r1 mem=0
    r0=$(redis_cpu)
    /usr/bin/time -f '%U %S %M %e' -o "$WORK/time" "$@" >/dev/null
    r1=$(redis_cpu)
    if [ "$name" = redis ]; then
        local n
        n=$(redis-cli -p "$PORT" xlen sluice:events)
        [ "$n" -gt 0 ] || { echo "no entries in sluice:events" >&2; exit 1; }
        mem=$(redis-cli -p "$PORT" memory usage sluice:events samples 0)
        redis-cli -p "$PORT" del sluice:events >/dev/null
    fi
    read -r u s m e <"$WORK/time"
    awk -v n="$name" -v u="$u" -v s="$s" -v m="$m" -v e="$e" -v a="$r0" \
        -v b="$r1" -v l="$NLINES" -v mem="$mem" 'BEGIN {
        k = 1e6 / l
        printf "%s %.3f %.1f %.2f %.3f %.1f\n", n, (u + s) * k, m / 1024, e,
            n == "redis" ? (b - a) * k : 0, mem * k / 1e6 }' >>"$WORK/rows"
    tail -n 1 "$WORK/rows"
}

if [ -n "$PERF" ]; then
    rm -rf "$WORK/data"
    perf record -e cpu-clock -F 2000 -g -o "$OUT/perf.shipper.data" -- \
        "$SHIPPER" -c "$WORK/$PERF.json" run --once >/dev/null
    echo "perf report -i $OUT/perf.shipper.data --no-children --sort symbol -g none"
    exit 0
fi

echo "corpus: $CORPUS ($NLINES lines); redis-server on port $PORT${REDIS_OPTS:+; redis output$REDIS_OPTS}"
echo "name cpu_s_per_1M peak_rss_MiB wall_s redis_cpu_s_per_1M redis_MB_per_1M"
for i in $(seq "$RUNS"); do
    time_run grok "$GROK" '%{HTTPD_COMBINEDLOG}' "$CORPUS"
    [ "$ONLY" = redis ] ||
        time_run stdout "$SHIPPER" -c "$WORK/stdout.json" run --once
    [ "$ONLY" = stdout ] ||
        time_run redis "$SHIPPER" -c "$WORK/redis.json" run --once
done

echo "--- median (min-max) of $RUNS runs, per 1M lines"
awk '
function med(a, n,   i, j, t) {
    for (i = 1; i <= n; i++)
        for (j = i + 1; j <= n; j++)
            if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ k = $1; n[k]++; c[k, n[k]] = $2; r[k, n[k]] = $3; w[k, n[k]] = $4; x[k, n[k]] = $5; y[k, n[k]] = $6 }
END {
    split("grok stdout redis", names, " ")
    for (q = 1; q <= 3; q++) {
        k = names[q]
        m = n[k]
        if (m == 0)
            continue
        for (i = 1; i <= m; i++) { C[i] = c[k, i]; R[i] = r[k, i]; W[i] = w[k, i]; X[i] = x[k, i]; Y[i] = y[k, i] }
        mc = med(C, m); lo = C[1]; hi = C[m]
        mr = med(R, m); rlo = R[1]; rhi = R[m]
        mw = med(W, m)
        mx = med(X, m); xlo = X[1]; xhi = X[m]
        my = med(Y, m)
        cpu[k] = mc
        printf "%-7s cpu %.2f (%.2f-%.2f) CPU-s  rss %.1f (%.1f-%.1f) MiB  wall %.2f s",
            k, mc, lo, hi, mr, rlo, rhi, mw
        if (k == "redis")
            printf "  redis %.3f (%.3f-%.3f) CPU-s, %.1f MB", mx, xlo, xhi, my
        if (k != "grok")
            printf "  x%.2f of sluice-grok", mc / cpu["grok"]
        printf "\n"
    }
}' "$WORK/rows"
