#!/usr/bin/env bash
# soak.sh: what `make soak` does. Builds Huddle (Release, build-bench/), starts
# the whole stack on loopback — redis-server, huddle-registry, huddle-chat,
# huddle-notes, huddle-recording, huddle-gateway — and holds SOAK_CONNECTIONS
# WebSocket clients (huddle-load --soak) in meetings of SOAK_MEETING_SIZE for
# SOAK_SECONDS, with churn (SOAK_CHURN leaves and as many rejoins per second,
# each on a new connection) and relay traffic (SOAK_RATE signals per second
# between participants of the same meetings). Every SOAK_INTERVAL seconds a
# line: churn done, signals relayed, errors, relay p50/p99 in that interval,
# RSS and CPU of every daemon, huddle-load's CPU. At the end a table and a
# verdict: no errors, nothing lost, and no daemon's RSS grew from the second
# interval (warm) to the largest of the last two by more than
# SOAK_RSS_TOLERANCE percent (or 2 MiB). Everything is also written to
# SOAK_LOG. Exit status: 0 on PASS, 1 on FAIL. Everything it starts is stopped
# at the end, also on failure or Ctrl-C.
#
# The gateway runs with MAX_CONNECTIONS_PER_ADDRESS=0 and
# MEETINGS_PER_ADDRESS_PER_MINUTE=0 (every client is on 127.0.0.x) and
# (huddle-load makes every meeting over HTTP from
# one address); the per-connection message limit (WS_RATE) stays at its
# default: each client sends far less. Open files: the gateway and huddle-load
# each need about one per connection; the script raises its soft limit
# (ulimit -n) to what it needs, within the hard limit, and stops if that is
# too low. huddle-load binds its sockets round-robin to 127.0.0.2..
# 127.0.0.(1+SOAK_SRC_ADDRS), each with its own ~28k ephemeral ports (churn
# leaves connections in TIME_WAIT).
#
# Settings (environment):
#   SOAK_CONNECTIONS=10000    clients held open
#   SOAK_SECONDS=600          soak length (after everyone joined)
#   SOAK_CHURN=100            leaves per second, and as many rejoins
#   SOAK_RATE=1000            relayed signals per second, all clients together
#   SOAK_INTERVAL=60          seconds per report line
#   SOAK_MEETING_SIZE=4       participants per meeting
#   SOAK_JOIN_RATE=500        connects + joins per second while filling up
#   SOAK_MAX_PENDING=200      ... with at most this many handshakes + joins in flight
#   SOAK_RSS_TOLERANCE=5      verdict: RSS growth allowed once warm (percent)
#   SOAK_THREADS=             huddle-load threads (default: the cores)
#   SOAK_SRC_ADDRS=4          loopback source addresses for huddle-load
#   SOAK_LOG=<build>/soak.log the report, also printed
#   BENCH_BUILD_DIR=build-bench   CMake build dir (Release)
#   JOBS=N                    build jobs (default: nproc)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=deploy/local/lib.sh
. "$root/deploy/local/lib.sh"
HD_PROG=soak

build=${BENCH_BUILD_DIR:-$root/build-bench}
[[ $build == /* ]] || build=$root/$build
conns=${SOAK_CONNECTIONS:-10000}
seconds=${SOAK_SECONDS:-600}
churn=${SOAK_CHURN:-100}
rate=${SOAK_RATE:-1000}
interval=${SOAK_INTERVAL:-60}
size=${SOAK_MEETING_SIZE:-4}
join_rate=${SOAK_JOIN_RATE:-500}
max_pending=${SOAK_MAX_PENDING:-200}
tolerance=${SOAK_RSS_TOLERANCE:-5}
threads=${SOAK_THREADS:-}
src_addrs=${SOAK_SRC_ADDRS:-4}
log=${SOAK_LOG:-$build/soak.log}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}

is_num() { [[ $2 =~ ^[0-9]+([.][0-9]+)?$ ]] || hd_die "$1 must be a number, not '$2'"; }
is_num SOAK_CONNECTIONS "$conns"
is_num SOAK_SECONDS "$seconds"
is_num SOAK_CHURN "$churn"
is_num SOAK_RATE "$rate"
is_num SOAK_INTERVAL "$interval"
is_num SOAK_MEETING_SIZE "$size"
is_num SOAK_JOIN_RATE "$join_rate"
is_num SOAK_MAX_PENDING "$max_pending"
is_num SOAK_RSS_TOLERANCE "$tolerance"
is_num SOAK_SRC_ADDRS "$src_addrs"
[[ -z $threads ]] || is_num SOAK_THREADS "$threads"
((conns >= 2 && size >= 2)) || hd_die "SOAK_CONNECTIONS and SOAK_MEETING_SIZE must be at least 2"
meetings=$(((conns + size - 1) / size))

for tool in cmake redis-server curl setsid setpriv; do
	command -v "$tool" >/dev/null || hd_die "$tool not found (run 'make bootstrap')"
done

# ---- build ----
hd_log "building (Release) in $build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DHUDDLE_SANITIZE=OFF >/dev/null
daemons=(huddle-gateway huddle-registry huddle-chat huddle-notes huddle-recording)
cmake --build "$build" -j"$jobs" --target "${daemons[@]}" huddle-load

# ---- open files ----
# The gateway: one per client, plus the connections churn has opened while
# the ones it left are still closing, plus its own (NNG, files; the gateway
# keeps 256 of its limit from WebSockets, MAX_CONNECTIONS): SOAK_CONNECTIONS
# + a fifth + 1024; huddle-load the same. (SOAK_CONNECTIONS + 1024 was too
# few at 10,000: the gateway hit EMFILE.) Redis sees only the registry's few.
need=$((conns + conns / 5 + 1024))
hard=$(ulimit -Hn)
if [[ $hard != unlimited ]] && ((hard < need)); then
	hd_die "open-file hard limit $hard < $need needed for $conns connections; raise it (ulimit -Hn $need as root, or LimitNOFILE=)"
fi
ulimit -n "$need"
hd_log "open files: $(ulimit -n) per process (hard limit $hard)"

mkdir -p "$(dirname "$log")"
: >"$log"
tmp=$(mktemp -d /tmp/huddle-soak.XXXXXX)
logs=$tmp/logs
mkdir -p "$logs"

pids=() names=()
start() { # start NAME CMD...: in its own session, dies with this script (parent-death signal)
	local name=$1
	shift
	setsid setpriv --pdeathsig TERM "$@" </dev/null >>"$logs/$name.log" 2>&1 &
	pids+=($!) names+=("$name")
}
# shellcheck disable=SC2317 # reached through traps
stop_all() {
	local i
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		hd_stop "${pids[i]}" "${names[i]}" 10 || true
	done
	pids=() names=()
}
keep_logs=0
# shellcheck disable=SC2317 # reached through traps
on_exit() {
	local rv=$?
	trap - EXIT INT TERM HUP
	stop_all
	if ((rv != 0 || keep_logs)); then
		mkdir -p "$build/soak-logs"
		cp "$logs"/*.log "$build/soak-logs/" 2>/dev/null || true
		hd_log "daemon logs: $build/soak-logs/"
	fi
	rm -rf "$tmp"
	exit "$rv"
}
trap on_exit EXIT
trap 'hd_log interrupted; exit 130' INT TERM HUP
fail_start() {
	hd_tail "$1" "$logs/$1.log"
	hd_die "$1 did not start"
}

# ---- the stack ----
dir=$tmp/state
mkdir -p "$dir/recordings"
redis_port=$(hd_pick_port) || hd_die "no free port"
start redis-server redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no --dir "$dir"
hd_wait_tcp 127.0.0.1 "$redis_port" 10 "${pids[-1]}" || fail_start redis-server
store=sqlite://$dir/huddle.db
start registry env REGISTRY_LISTEN="ipc://$dir/registry.ipc" REGISTRY_EVENTS_LISTEN="ipc://$dir/events.ipc" \
	REDIS_URL="redis://127.0.0.1:$redis_port" STORE_URI="$store" MAX_PARTICIPANTS=$((2 * size)) LOG_LEVEL=warn \
	"$build/bin/huddle-registry"
hd_wait_file "$dir/registry.ipc" 10 "${pids[-1]}" || fail_start registry
start chat env CHAT_LISTEN="ipc://$dir/chat.ipc" CHAT_EVENTS_LISTEN="ipc://$dir/chat-events.ipc" \
	STORE_URI="$store" LOG_LEVEL=warn "$build/bin/huddle-chat"
hd_wait_file "$dir/chat.ipc" 10 "${pids[-1]}" || fail_start chat
start notes env NOTES_LISTEN="ipc://$dir/notes.ipc" NOTES_EVENTS_LISTEN="ipc://$dir/notes-events.ipc" \
	STORE_URI="$store" LOG_LEVEL=warn "$build/bin/huddle-notes"
hd_wait_file "$dir/notes.ipc" 10 "${pids[-1]}" || fail_start notes
start recording env RECORDING_LISTEN="ipc://$dir/recording.ipc" STORE_URI="$store" \
	RECORDINGS_DIR="$dir/recordings" LOG_LEVEL=warn "$build/bin/huddle-recording"
hd_wait_file "$dir/recording.ipc" 10 "${pids[-1]}" || fail_start recording
http_port=$(hd_pick_port) || hd_die "no free port"
start gateway env GATEWAY_HTTP_ADDR=127.0.0.1 GATEWAY_HTTP_PORT="$http_port" GATEWAY_WEB_ROOT="$root/web/dist" \
	REGISTRY_URL="ipc://$dir/registry.ipc" REGISTRY_EVENTS_URL="ipc://$dir/events.ipc" \
	CHAT_URL="ipc://$dir/chat.ipc" CHAT_EVENTS_URL="ipc://$dir/chat-events.ipc" \
	NOTES_URL="ipc://$dir/notes.ipc" NOTES_EVENTS_URL="ipc://$dir/notes-events.ipc" \
	RECORDING_URL="ipc://$dir/recording.ipc" \
	TURN_SECRET="soak-$RANDOM$RANDOM" RECORDING_TOKEN_SECRET="soak-$RANDOM$RANDOM$RANDOM" \
	MAX_CONNECTIONS_PER_ADDRESS=0 MEETINGS_PER_ADDRESS_PER_MINUTE=0 \
	LOG_LEVEL=warn "$build/bin/huddle-gateway"
deadline=$((SECONDS + 30))
until curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$http_port/readyz" 2>/dev/null; do
	for i in "${!pids[@]}"; do hd_alive "${pids[i]}" || fail_start "${names[i]}"; done
	((SECONDS < deadline)) || fail_start gateway
	sleep 0.2
done

# ---- the soak ----
pid_args=()
for i in "${!pids[@]}"; do pid_args+=(--pid "${names[i]}=${pids[i]}"); done
# gateway first: huddle-load also reports the first pid alone
pid_args=(--pid "gateway=${pids[-1]}" "${pid_args[@]:0:${#pid_args[@]}-2}")
args=(-t huddle -u "http://127.0.0.1:$http_port" -n "$conns" -m "$meetings" -j "$join_rate" --max-pending "$max_pending" --leave-rate 1000
	--hold 5 -d "$seconds" -r "$rate" --soak --churn "$churn" --interval "$interval"
	--rss-tolerance "$tolerance" --src-addrs "$src_addrs" --join-timeout 30 -l soak "${pid_args[@]}")
[[ -z $threads ]] || args+=(--threads "$threads")
{
	echo "Huddle soak — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores ($(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)), $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "$conns connections in $meetings meetings of $size, ${seconds} s, churn $churn leaves + $churn joins per second, $rate relayed signals per second, a line every $interval s"
	echo
} | tee -a "$log"
hd_log "huddle-load ${args[*]}"
rc=0
"$build/bin/huddle-load" "${args[@]}" 2> >(grep -v '^huddle-load: lws' >&2) | tee -a "$log" || rc=$?
((rc == 0)) || hd_log "huddle-load exited with status $rc"
for i in "${!pids[@]}"; do
	hd_alive "${pids[i]}" || { hd_log "${names[i]} died during the soak"; keep_logs=1; rc=1; }
done
if grep -qiE 'sanitizer|fatal|assert' "$logs"/*.log 2>/dev/null; then
	hd_log "a daemon logged a fatal error"
	keep_logs=1
	rc=1
fi
hd_log "report: $log"
exit "$rc"
