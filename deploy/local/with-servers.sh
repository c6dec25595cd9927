#!/usr/bin/env bash
# with-servers.sh CMD [ARG...]: runs CMD with a throwaway redis-server and
# turnserver on free loopback ports, then stops them; exits with CMD's status.
#
# CMD sees:
#   HUDDLE_TEST_REDIS_URL    redis://127.0.0.1:<port>
#   HUDDLE_TEST_TURN_URL     turn:127.0.0.1:<port>   (UDP and TCP on that port)
#   HUDDLE_TEST_TURN_URLS    the same server in the gateway's TURN_URLS form
#   HUDDLE_TEST_TURN_SECRET  the shared secret coturn checks (use-auth-secret)
# The servers' state and logs live in a temporary directory, removed on exit
# (kept, and its path printed, when CMD fails or HUDDLE_KEEP_SERVERS=1).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=deploy/local/lib.sh
. "$here/lib.sh"
HD_PROG=with-servers
conf=$here/../coturn/turnserver-local.conf

(($# > 0)) || hd_die "usage: $0 COMMAND [ARG...]"
for tool in redis-server turnserver openssl; do
	command -v "$tool" >/dev/null || hd_die "$tool not found (run deploy/local/bootstrap.sh)"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/huddle-servers.XXXXXX")
redis_pid='' turn_pid='' keep=${HUDDLE_KEEP_SERVERS:-0}

# shellcheck disable=SC2317 # reached through the EXIT trap
cleanup() {
	local rv=$?
	trap - EXIT INT TERM HUP
	hd_stop "$turn_pid" turnserver 5 || true
	hd_stop "$redis_pid" redis-server 5 || true
	if [[ $keep == 1 || $rv != 0 ]]; then
		hd_log "server logs kept in $tmp"
	else
		rm -rf "$tmp"
	fi
	exit "$rv"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Ports are picked free and then bound by the server; another process can win
# the race, so each start is retried on a fresh port.
start_redis() {
	local _ port
	for _ in 1 2 3 4 5; do
		port=$(hd_pick_port) || break
		hd_start_redis_tcp "$tmp" "$port"
		if hd_wait_tcp 127.0.0.1 "$port" 10 "$HD_PID"; then
			redis_pid=$HD_PID redis_port=$port
			return 0
		fi
		hd_stop "$HD_PID" redis-server 2 || true
	done
	hd_tail redis-server "$tmp/redis.log"
	hd_die "could not start redis-server on a free loopback port"
}

start_turn() {
	local _ port
	for _ in 1 2 3 4 5; do
		port=$(hd_pick_port) || break
		hd_start_turn "$tmp" "$port" "$turn_secret" "$conf"
		if hd_wait_tcp 127.0.0.1 "$port" 10 "$HD_PID"; then
			turn_pid=$HD_PID turn_port=$port
			return 0
		fi
		hd_stop "$HD_PID" turnserver 2 || true
	done
	hd_tail turnserver "$tmp/turnserver.log"
	hd_die "could not start turnserver on a free loopback port"
}

turn_secret=$(openssl rand -hex 32)
start_redis
start_turn

export HUDDLE_TEST_REDIS_URL="redis://127.0.0.1:$redis_port"
export HUDDLE_TEST_TURN_URL="turn:127.0.0.1:$turn_port"
export HUDDLE_TEST_TURN_URLS="stun:127.0.0.1:$turn_port,turn:127.0.0.1:$turn_port?transport=udp,turn:127.0.0.1:$turn_port?transport=tcp"
export HUDDLE_TEST_TURN_SECRET="$turn_secret"
hd_log "redis-server on 127.0.0.1:$redis_port, turnserver on 127.0.0.1:$turn_port (logs: $tmp)"

# CMD runs in the foreground: a terminal's Ctrl-C reaches it directly.
status=0
"$@" || status=$?
if ! hd_alive "$redis_pid"; then
	hd_log "warning: redis-server exited while the command ran"
	hd_tail redis-server "$tmp/redis.log"
fi
if ! hd_alive "$turn_pid"; then
	hd_log "warning: turnserver exited while the command ran"
	hd_tail turnserver "$tmp/turnserver.log"
fi
exit "$status"
