#!/usr/bin/env bash
# bench/bench_deadletter.sh [ROUNDS]: what one dead letter costs Redis, the
# plain XADD (before letters were kept once per event) against the EVAL of
# indexer/deadletter.c (its SEEN_SCRIPT, copied below: keep them alike):
# server CPU-s (from /proc, network included) and memory per 100,000
# letters of a typical refused event, with redis-benchmark (4 clients).
# Starts its own redis-server on a free loopback port and stops it.
set -euo pipefail
rounds=${1:-3}
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize no >/dev/null 2>&1 &
rpid=$!
trap 'kill "$rpid"; wait "$rpid" 2>/dev/null || true' EXIT
until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.1; done
script="local had = redis.pcall('GET', KEYS[2])
if type(had) == 'string' then
  local r = redis.pcall('XRANGE', KEYS[1], had, had)
  if type(r) == 'table' and r.err == nil and #r > 0 then
    redis.call('EXPIRE', KEYS[2], ARGV[1])
    return 0
  end
end
local id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 2))
redis.call('SET', KEYS[2], id, 'EX', ARGV[1])
return 1
"
fields=(v 1 error.type document_parsing_exception error.reason
    "[1:15] failed to parse field [@timestamp] of type [date] in document with id 'b1e3'. Preview of field's value: 'nope'"
    status 400 index sluice-2025.11.23 id b1e3 ts 1763856001003
    source "stream sluice:events 1763856001003-0" host web-1
    event '{"@timestamp":"nope","message":"GET /index.html HTTP/1.1 200 5120 from 203.0.113.9 in 12 ms, user agent Mozilla/5.0","host":{"name":"web-1"}}')
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$rpid/stat"; }
used() { redis-cli -p "$port" info memory | tr -d '\r' | awk -F: '/^used_memory:/ { print $2 }'; }
run() { # NAME REDIS-BENCHMARK-ARGS...
    local name=$1 c0 m0
    shift
    c0=$(cpu_ticks) m0=$(used)
    redis-benchmark -p "$port" -c 4 -n 100000 -q "$@" >/dev/null
    printf '%-34s %5d ms CPU  %+5d B/letter\n' "$name" \
        $((($(cpu_ticks) - c0) * 1000 / $(getconf CLK_TCK))) $((($(used) - m0) / 100000))
}
for ((i = 1; i <= rounds; i++)); do
    redis-cli -p "$port" flushall >/dev/null
    run "XADD, every refusal" XADD sluice:dead '*' "${fields[@]}"
    redis-cli -p "$port" flushall >/dev/null
    run "EVAL, 100,000 new events" -r 100000000 EVAL "$script" 2 sluice:dead \
        '{sluice:dead}:seen:__rand_int__' 2592000 "${fields[@]}"
    redis-cli -p "$port" flushall >/dev/null
    run "EVAL, 1,000 events" -r 1000 EVAL "$script" 2 sluice:dead \
        '{sluice:dead}:seen:__rand_int__' 2592000 "${fields[@]}"
    run "EVAL, the same 1,000 again" -r 1000 EVAL "$script" 2 sluice:dead \
        '{sluice:dead}:seen:__rand_int__' 2592000 "${fields[@]}"
done
