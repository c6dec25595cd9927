#!/usr/bin/env bash
# run_launcher.sh BUILD_DIR: `make run`'s launcher (deploy/local/run.sh) takes
# every process it started with it when it dies without cleaning up
# (SIGKILL; a closed terminal), and a new launcher then starts on the same
# ports and state. ctest integration.run_launcher (issue 8, defect 6).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=deploy/local/lib.sh
. "$root/deploy/local/lib.sh"
HD_PROG=run-launcher-test

(($# == 1)) || hd_die "usage: $0 BUILD_DIR"
build=$(cd "$1" && pwd)
START_WAIT_S=90 # bound on the launcher printing its URL (ASan builds, cold caches)
GONE_WAIT_S=15  # bound on the children dying after the launcher

tmp=$(mktemp -d "${TMPDIR:-/tmp}/huddle-run-test.XXXXXX")
launcher=''
# shellcheck disable=SC2317 # reached through the EXIT trap
cleanup() {
	local rv=$?
	hd_stop "$launcher" run.sh 20 >/dev/null 2>&1 || true
	if ((rv != 0)); then
		for f in "$tmp"/launch*.log "$tmp"/run/*.log; do hd_tail "$f" "$f"; done
	fi
	rm -rf "$tmp"
	exit "$rv"
}
trap cleanup EXIT

ports=()
while ((${#ports[@]} < 12)); do
	p=$(hd_pick_port) || hd_die "no free port"
	[[ " ${ports[*]} " == *" $p "* ]] || ports+=("$p")
done
export BUILD_DIR=$build RUN_DIR=$tmp/run HTTP_PORT=${ports[0]} TURN_PORT=${ports[1]} \
	REGISTRY_LISTEN=tcp://127.0.0.1:${ports[2]} REGISTRY_EVENTS_LISTEN=tcp://127.0.0.1:${ports[3]} \
	CHAT_LISTEN=tcp://127.0.0.1:${ports[4]} CHAT_EVENTS_LISTEN=tcp://127.0.0.1:${ports[5]} \
	NOTES_LISTEN=tcp://127.0.0.1:${ports[6]} NOTES_EVENTS_LISTEN=tcp://127.0.0.1:${ports[7]} \
	RECORDING_LISTEN=tcp://127.0.0.1:${ports[8]} \
	MEDIA_LISTEN=tcp://127.0.0.1:${ports[9]} JANUS_WS_PORT=${ports[10]} \
	MEDIA_EVENTS_LISTEN=tcp://127.0.0.1:${ports[11]}

# launch N: starts run.sh (our child) and waits until it prints the URL.
launch() {
	local log=$tmp/launch$1.log deadline=$((SECONDS + START_WAIT_S))
	"$root/deploy/local/run.sh" >"$log" 2>&1 &
	launcher=$!
	until grep -q "Open http://localhost:$HTTP_PORT" "$log"; do
		hd_alive "$launcher" || hd_die "launch $1: run.sh exited before printing its URL"
		((SECONDS < deadline)) || hd_die "launch $1: no URL within $START_WAIT_S s"
		sleep 0.2
	done
	curl -fsS -o /dev/null --max-time 5 "http://127.0.0.1:$HTTP_PORT/readyz" ||
		hd_die "launch $1: the gateway printed its URL but /readyz fails"
}

# all_gone PID...: waits (bounded) until none of the PIDs exists.
all_gone() {
	local deadline=$((SECONDS + GONE_WAIT_S)) pid left
	while :; do
		left=()
		for pid in "$@"; do hd_alive "$pid" && left+=("$pid"); done
		((${#left[@]} == 0)) && return 0
		if ((SECONDS >= deadline)); then
			# shellcheck disable=SC2009 # the report names what is left
			ps -o pid,ppid,cmd -p "$(
				IFS=,
				echo "${left[*]}"
			)" >&2 || true
			kill -KILL "${left[@]}" 2>/dev/null || true # do not leave them to the next test
			return 1
		fi
		sleep 0.1
	done
}

launch 1
mapfile -t children < <(pgrep -P "$launcher")
((${#children[@]} >= 9)) || hd_die "expected redis, turnserver, janus, huddle-media, registry, chat, notes, recording and gateway under run.sh; found ${#children[@]}"
kill -KILL "$launcher"
wait "$launcher" 2>/dev/null || true
launcher=''
all_gone "${children[@]}" || hd_die "after SIGKILL of run.sh, its children are still running (above)"
hd_log "ok: SIGKILL of the launcher stopped all ${#children[@]} children"

launch 2
hd_log "ok: a new launcher starts on the same ports and state"
mapfile -t children < <(pgrep -P "$launcher")
hd_stop "$launcher" run.sh 30 || hd_die "run.sh ignored SIGTERM"
launcher=''
all_gone "${children[@]}" || hd_die "after SIGTERM of run.sh, its children are still running"
hd_log "ok: SIGTERM stops everything too"
