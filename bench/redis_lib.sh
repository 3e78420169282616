# redis_lib.sh: sourced by the bench scripts. bench_redis_start DIR starts
# a redis-server of its own (no persistence) on a free loopback port,
# logging to DIR/redis.log; sets PORT and REDIS_PID and returns once it
# answers PING. At exit (a trap it sets) the server is stopped by its pid
# and DIR removed.
bench_redis_stop() {
    [ -n "${REDIS_PID:-}" ] && kill "$REDIS_PID" 2>/dev/null &&
        wait "$REDIS_PID" 2>/dev/null
    rm -rf "$BENCH_REDIS_DIR"
}

bench_redis_start() {
    BENCH_REDIS_DIR=$1
    REDIS_PID=
    trap bench_redis_stop EXIT
    for _ in $(seq 50); do
        PORT=$((20000 + RANDOM % 12000))
        (echo >/dev/tcp/127.0.0.1/$PORT) 2>/dev/null || break
    done
    redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no \
        --daemonize no >"$1/redis.log" 2>&1 &
    REDIS_PID=$!
    for _ in $(seq 100); do
        redis-cli -p "$PORT" ping >/dev/null 2>&1 && break
        sleep 0.05
    done
    redis-cli -p "$PORT" ping >/dev/null
}
