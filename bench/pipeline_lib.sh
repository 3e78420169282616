# pipeline_lib.sh: what bench_latency.sh and soak.sh share, sourced at the
# tree's root after their options: the release daemons built (unless
# BUILD=0), Redis and Elasticsearch 8 (SLUICE_SEARCH_LEAN=0: full JIT)
# started through tests/lib/services.sh and stopped at exit, and the
# machine said. Their Python side is in bench_lib.py (start_pipeline).
bench_pipeline_up() {
    if [ "$BUILD" = 1 ]; then
        cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
        cmake --build build/release --target sluice-shipper sluice-indexer >/dev/null
    fi
    . tests/lib/services.sh
    sluice_services_init
    export SLUICE_SEARCH_LEAN=${SLUICE_SEARCH_LEAN:-0}
    sluice_services_start redis es
    echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo); $(date -u '+%Y-%m-%d %H:%M UTC'); Elasticsearch $SLUICE_TEST_ES_VERSION; redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p')"
}
