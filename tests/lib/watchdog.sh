#!/usr/bin/env bash
# tests/lib/watchdog.sh RUNNER_PID RUN_DIR: stops the servers of a run when
# the shell that started them is gone without cleaning up (kill -9, OOM
# killer, a CI timeout that kills only the runner's process group).
#
# Started by sluice_services_init in a session of its own, so signals meant
# for the runner's terminal or process group do not reach it. It polls rather
# than waits because RUNNER_PID is not its child. A normal exit of the runner
# stops the servers itself and then TERMs this watchdog.
set -u
# shellcheck source=services.sh
. "$(dirname "$0")/services.sh"
runner=$1
SLUICE_RUN_DIR=$2 # read by sluice_services_stop_all

# Alive and not a zombie waiting for its parent to reap it.
runner_alive() {
    local state
    state=$(ps -o stat= -p "$runner" 2>/dev/null) || return 1
    case $state in Z*) return 1 ;; esac
}

trap 'exit 0' TERM
trap '' INT HUP
while runner_alive; do
    sleep 0.5 &
    wait $! # wait, unlike sleep in the foreground, is cut short by TERM
done
echo "watchdog: runner $runner is gone; stopping its servers"
SLUICE_WATCHDOG_PID=
sluice_services_stop_all
