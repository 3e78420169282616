#!/usr/bin/env bash
# run_grok_bench.sh: sluice-grok '%{HTTPD_COMBINEDLOG}' against a hand-written
# PCRE2 JIT baseline (bench/baseline_pcre2.c) that writes the same JSON.
#
#   bench/run_grok_bench.sh [--runs N] [--callgrind] [--no-build]
#
#   --runs N      runs per configuration, median taken (default 5)
#   --callgrind   also count instructions with valgrind on 100k lines
#                 (repeatable where wall time is not: a shared machine)
#   --no-build    use the binaries already built (build/release, bench/out/bin)
#   SLUICE_GROK=path  measure that sluice-grok (a CMake Release build, say)
#                 instead of the one this script compiles
#
# Steps: build both programs (-O2 -DNDEBUG, the flags of CMake's Release
# type), generate the corpus if missing (bench/gen_apache.py, 1M lines),
# take the regex from `sluice-grok --explain` so both run the same one, check
# that both write byte-identical output on 10k lines (--utf and --bytes),
# then time each configuration, runs interleaved so that a burst of load from
# elsewhere hits both sides alike. Output goes to /dev/null. Prints a table:
# lines/s and MB/s by wall time, CPU-seconds (user+sys) per million lines,
# peak RSS, and the ratio sluice-grok / baseline in lines per second.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/bench/out
BIN=$OUT/bin
CORPUS=$OUT/apache_combined.log
RUNS=5
CALLGRIND=0
BUILD=1
while [ $# -gt 0 ]; do
    case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --callgrind) CALLGRIND=1; shift ;;
    --no-build) BUILD=0; shift ;;
    -h | --help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "run_grok_bench.sh: unknown option '$1'; see --help" >&2; exit 2 ;;
    esac
done
mkdir -p "$BIN"

CFLAGS=(-std=c11 -O2 -DNDEBUG -D_POSIX_C_SOURCE=200809L)
if [ "$BUILD" = 1 ]; then
    echo "== building (cc ${CFLAGS[*]})"
    # sluice-grok from the CMake Release tree, as every other benchmark:
    # compiling common/*.c by hand here stopped linking once common/ used
    # hiredis, lz4 and zstd.
    cmake -S "$ROOT" -B "$ROOT/build/release" -G Ninja \
        -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$ROOT/build/release" --target sluice-grok >/dev/null
    # shellcheck disable=SC2046
    cc "${CFLAGS[@]}" -Wall -Wextra -Werror "$ROOT/bench/baseline_pcre2.c" \
        $(pkg-config --cflags --libs libpcre2-8) -o "$BIN/baseline-pcre2"
fi
GROK=${SLUICE_GROK:-$ROOT/build/release/bin/sluice-grok}
BASE=$BIN/baseline-pcre2
PATTERN='%{HTTPD_COMBINEDLOG}'

if [ ! -s "$CORPUS" ]; then
    echo "== generating $CORPUS (1M lines)"
    python3 "$ROOT/bench/gen_apache.py" --lines 1000000 --out "$CORPUS"
fi
LINES=$(wc -l <"$CORPUS")
BYTES=$(stat -c %s "$CORPUS")

RE=$OUT/httpd_combinedlog.re
"$GROK" --explain "$PATTERN" | sed -n 's/^regex: //p' >"$RE"
[ -s "$RE" ] || { echo "no regex from sluice-grok --explain" >&2; exit 1; }

echo "== checking byte-identical output on 10k lines"
head -n 10000 "$CORPUS" >"$OUT/check10k.log"
for mode in utf bytes; do
    "$GROK" --$mode "$PATTERN" "$OUT/check10k.log" >"$OUT/check.grok.$mode.json"
    "$BASE" --$mode "$RE" "$OUT/check10k.log" >"$OUT/check.base.$mode.json"
    if ! cmp "$OUT/check.grok.$mode.json" "$OUT/check.base.$mode.json"; then
        echo "FAIL: --$mode outputs differ; the timings would compare" \
            "different work" >&2
        exit 1
    fi
    echo "--$mode: identical ($(wc -c <"$OUT/check.grok.$mode.json") bytes)"
done

# One run: appends "wall cpu rss_kb" to $OUT/times.<name>.
run_one() {
    local name=$1
    shift
    /usr/bin/time -f '%e %U %S %M' -o "$OUT/time.tmp" "$@" \
        >/dev/null 2>"$OUT/stderr.$name"
    awk '{ printf "%s %.3f %s\n", $1, $2 + $3, $4 }' "$OUT/time.tmp" \
        >>"$OUT/times.$name"
}

CONFIGS="grok-utf base-utf grok-bytes base-bytes match-utf match-bytes"
cmd_of() {
    case $1 in
    grok-utf) echo "$GROK --utf $PATTERN" ;;
    grok-bytes) echo "$GROK --bytes $PATTERN" ;;
    base-utf) echo "$BASE --utf $RE" ;;
    base-bytes) echo "$BASE --bytes $RE" ;;
    match-utf) echo "$BASE --match-only --utf $RE" ;;
    match-bytes) echo "$BASE --match-only --bytes $RE" ;;
    esac
}
for c in $CONFIGS; do rm -f "$OUT/times.$c"; done
echo "== timing: $RUNS runs each, $LINES lines, $BYTES bytes" \
    "(load average: $(cut -d' ' -f1-3 /proc/loadavg))"
cat "$CORPUS" >/dev/null # warm the page cache
for ((i = 1; i <= RUNS; i++)); do
    for c in $CONFIGS; do
        # shellcheck disable=SC2046
        run_one "$c" $(cmd_of "$c") "$CORPUS"
    done
    printf '.'
done
echo
# Where sluice-grok's time goes: its own count of time inside pcre2_match.
"$GROK" --utf --stats "$PATTERN" "$CORPUS" 2>"$OUT/stats.utf" >/dev/null
"$GROK" --bytes --stats "$PATTERN" "$CORPUS" 2>"$OUT/stats.bytes" >/dev/null

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
col() { awk -v k="$2" '{ print $k }' "$OUT/times.$1"; }
wall() { col "$1" 1 | median; }
cpu() { col "$1" 2 | median; }
rss() { col "$1" 3 | sort -n | tail -1; }

printf '\n%-12s %12s %8s %14s %12s %10s\n' config "lines/s" "MB/s" \
    "CPU-s/1M" "RSS MiB" "wall s"
for c in $CONFIGS; do
    w=$(wall "$c")
    u=$(cpu "$c")
    awk -v c="$c" -v w="$w" -v u="$u" -v r="$(rss "$c")" -v l="$LINES" \
        -v b="$BYTES" 'BEGIN { printf "%-12s %12.0f %8.1f %14.3f %12.1f %10.3f\n",
            c, l / w, b / w / 1e6, u * 1e6 / l, r / 1024, w }'
done
echo
for mode in utf bytes; do
    awk -v m="$mode" -v gw="$(wall grok-$mode)" -v bw="$(wall base-$mode)" \
        -v gu="$(cpu grok-$mode)" -v bu="$(cpu base-$mode)" \
        -v mu="$(cpu match-$mode)" -v l="$LINES" 'BEGIN {
        printf "--%s: ratio sluice-grok/baseline lines/s: %.2f by wall time," \
            " %.2f by CPU time (goal >= 0.80)\n", m, bw / gw, bu / gu
        printf "--%s: CPU-s per 1M lines: matching only %.2f; baseline adds" \
            " %.2f for JSON; sluice-grok adds %.2f over the baseline\n",
            m, mu * 1e6 / l, (bu - mu) * 1e6 / l, (gu - bu) * 1e6 / l }'
done
echo
echo "sluice-grok --stats (one run each):"
grep -h 'in PCRE2' "$OUT/stats.utf" | sed 's/^/  --utf:   /'
grep -h 'in PCRE2' "$OUT/stats.bytes" | sed 's/^/  --bytes: /'

if [ "$CALLGRIND" = 1 ]; then
    command -v valgrind >/dev/null || { echo "no valgrind" >&2; exit 1; }
    echo
    echo "== callgrind: instructions on 100k lines (--utf), startup included"
    head -n 100000 "$CORPUS" >"$OUT/c100k.log"
    ir() {
        valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.$1.out" \
            "${@:2}" "$OUT/c100k.log" 2>&1 >/dev/null |
            sed -n 's/.*refs: *//p' | tr -d ,
    }
    g=$(ir grok "$GROK" --utf "$PATTERN")
    b=$(ir base "$BASE" --utf "$RE")
    m=$(ir match "$BASE" --match-only --utf "$RE")
    awk -v g="$g" -v b="$b" -v m="$m" 'BEGIN {
        printf "  sluice-grok %.0f, baseline %.0f, match only %.0f" \
            " instructions per line; ratio %.2f\n", g / 1e5, b / 1e5, m / 1e5,
            b / g }'
    echo "  profiles: callgrind_annotate $OUT/cg.grok.out (and cg.base.out)"
fi
