#!/usr/bin/env bash
# run.sh: what `make bench` does. Builds Huddle (Release, no sanitizers, in its
# own build dir) and huddle-load, installs the socket.io reference server
# (npm ci), then runs the same scenarios against Huddle (gateway + registry +
# Redis [+ huddle-chat when it exists], on loopback) and against the reference,
# one server at a time, each scenario on freshly started servers, and prints a
# side-by-side table with the ratios Huddle/reference. Everything it starts is
# stopped at the end, also on failure or Ctrl-C.
#
# With two or more cores the servers are pinned to core 0 and huddle-load to
# core 1 (taskset; BENCH_PIN=0: no pinning). huddle-load runs one worker
# thread per core it may use (so one when pinned; BENCH_LOAD_THREADS=N sets
# it), and reports its CPU (all threads and the busiest) beside the servers'
# over the storm, so the table shows which side was the limit. The gateway runs with WS_RATE/WS_BURST raised to 1000000 (and the per-address limits MEETINGS_PER_ADDRESS_PER_MINUTE, MAX_CONNECTIONS_PER_ADDRESS off):
# its per-connection rate limit (50 msgs/s by default) would otherwise refuse
# the storm (the reference has no rate limit); MAX_CONNECTIONS_PER_ADDRESS and
# MEETINGS_PER_ADDRESS_PER_MINUTE are 0 (off): every client is on 127.0.0.x. Open-file limits: this script
# raises its soft RLIMIT_NOFILE to the hard limit, which the servers and
# huddle-load inherit; the 10k scenario needs about 10,100 per process.
#
# Settings (environment):
#   BENCH_BUILD_DIR=build-bench   CMake build dir (Release)
#   BENCH_OUT=<build dir>/bench   results: results.jsonl, table.md, logs/
#   BENCH_SCENARIOS="latency throughput idle10k joins"   which ones, in order
#   BENCH_QUICK=1                 shorter scenarios (a few seconds each)
#   BENCH_PIN=1                   0: do not pin servers and huddle-load to cores
#   BENCH_LOAD_THREADS=           huddle-load --threads (default: the cores it may use)
#   JOBS=N                        build jobs (default: nproc)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=deploy/local/lib.sh
. "$root/deploy/local/lib.sh"
HD_PROG=bench

build=${BENCH_BUILD_DIR:-$root/build-bench}
[[ $build == /* ]] || build=$root/$build
out=${BENCH_OUT:-$build/bench}
scenarios=${BENCH_SCENARIOS:-latency throughput idle10k joins}
quick=${BENCH_QUICK:-0}
pin=${BENCH_PIN:-1}
load_threads=${BENCH_LOAD_THREADS:-}
[[ -z $load_threads || $load_threads =~ ^[0-9]+$ ]] || hd_die "BENCH_LOAD_THREADS must be a number"
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}

for tool in cmake redis-server node npm curl setsid; do
	command -v "$tool" >/dev/null || hd_die "$tool not found (run 'make bootstrap')"
done

# ---- build ----
hd_log "building (Release) in $build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DHUDDLE_SANITIZE=OFF >/dev/null
targets=(huddle-gateway huddle-registry huddle-load)
[[ -f $root/services/chat/CMakeLists.txt ]] && targets+=(huddle-chat)
cmake --build "$build" -j"$jobs" --target "${targets[@]}"

ref=$here/reference
if [[ ! -d $ref/node_modules || $ref/package-lock.json -nt $ref/node_modules ]]; then
	hd_log "npm ci in $ref"
	(cd "$ref" && npm ci --no-audit --no-fund)
	touch "$ref/node_modules"
fi

# ---- limits, cores ----
hard=$(ulimit -Hn)
ulimit -n "$hard" 2>/dev/null || true
nofile=$(ulimit -n)
hd_log "open files: $nofile per process (hard limit $hard)"
if [[ $nofile != unlimited ]] && ((nofile < 10200)); then
	hd_log "warning: RLIMIT_NOFILE $nofile < 10200: the 10k scenario will fail; raise the hard limit" \
		"(e.g. 'ulimit -Hn 65536' as root, or LimitNOFILE= for a service)"
fi
server_pin=() load_pin=()
ncpu=$(nproc 2>/dev/null || echo 1)
if ((pin == 0)); then
	hd_log "BENCH_PIN=0: servers and huddle-load share all $ncpu cores"
elif ((ncpu >= 2)) && command -v taskset >/dev/null; then
	server_pin=(taskset -c 0)
	load_pin=(taskset -c 1)
	hd_log "servers pinned to core 0, huddle-load to core 1"
else
	hd_log "one core: servers and huddle-load share it (numbers are not comparable to a 2-core run)"
fi

loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
mkdir -p "$out/logs"
results=$out/results.jsonl
: >"$results"
tmp=$(mktemp -d /tmp/huddle-bench.XXXXXX)

# ---- process bookkeeping: everything started here, stopped in reverse ----
pids=() names=()
start() { # start NAME LOG CMD...: in its own session, so Ctrl-C reaches only this script
	local name=$1 log=$2
	shift 2
	setsid "$@" </dev/null >>"$log" 2>&1 &
	pids+=($!) names+=("$name")
}
stop_all() {
	local i
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		hd_stop "${pids[i]}" "${names[i]}" 10 || true
	done
	pids=() names=()
}
# shellcheck disable=SC2317 # reached through traps
on_exit() {
	local rv=$?
	trap - EXIT INT TERM HUP
	stop_all
	rm -rf "$tmp"
	exit "$rv"
}
trap on_exit EXIT
trap 'hd_log interrupted; exit 130' INT TERM HUP

wait_http() { # wait_http URL SECONDS PID
	local deadline=$((SECONDS + $2))
	until curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null; do
		hd_alive "$3" || return 1
		((SECONDS < deadline)) || return 1
		sleep 0.1
	done
}

# start_huddle LOGDIR: sets url and load_pids (gateway first: its RSS is also reported alone).
start_huddle() {
	local logs=$1 dir redis_port http_port
	dir=$(mktemp -d "$tmp/huddle.XXXX")
	redis_port=$(hd_pick_port) || hd_die "no free port"
	start redis "$logs/redis.log" "${server_pin[@]}" redis-server --bind 127.0.0.1 --port "$redis_port" \
		--save '' --appendonly no --dir "$dir" --maxclients 20000
	local redis_pid=${pids[-1]}
	hd_wait_tcp 127.0.0.1 "$redis_port" 10 "$redis_pid" || { hd_tail redis "$logs/redis.log"; hd_die "redis did not start"; }
	start registry "$logs/registry.log" "${server_pin[@]}" env REGISTRY_LISTEN="ipc://$dir/registry.ipc" \
		REGISTRY_EVENTS_LISTEN="ipc://$dir/events.ipc" REDIS_URL="redis://127.0.0.1:$redis_port" \
		STORE_URI="sqlite://$dir/huddle.db" LOG_LEVEL=warn "$build/bin/huddle-registry"
	local registry_pid=${pids[-1]}
	hd_wait_file "$dir/registry.ipc" 10 "$registry_pid" || { hd_tail registry "$logs/registry.log"; hd_die "registry did not start"; }
	if [[ -x $build/bin/huddle-chat ]]; then
		start chat "$logs/chat.log" "${server_pin[@]}" env CHAT_LISTEN="ipc://$dir/chat.ipc" \
			CHAT_EVENTS_LISTEN="ipc://$dir/chat-events.ipc" STORE_URI="sqlite://$dir/huddle.db" \
			LOG_LEVEL=warn "$build/bin/huddle-chat"
		hd_wait_file "$dir/chat.ipc" 10 "${pids[-1]}" || { hd_tail chat "$logs/chat.log"; hd_die "huddle-chat did not start"; }
	fi
	http_port=$(hd_pick_port) || hd_die "no free port"
	start gateway "$logs/gateway.log" "${server_pin[@]}" env GATEWAY_HTTP_ADDR=127.0.0.1 \
		GATEWAY_HTTP_PORT="$http_port" GATEWAY_WEB_ROOT="$root/web/dist" \
		REGISTRY_URL="ipc://$dir/registry.ipc" REGISTRY_EVENTS_URL="ipc://$dir/events.ipc" \
		CHAT_URL="ipc://$dir/chat.ipc" CHAT_EVENTS_URL="ipc://$dir/chat-events.ipc" \
		TURN_SECRET=bench-"$RANDOM" WS_RATE=1000000 WS_BURST=1000000 MEETINGS_PER_ADDRESS_PER_MINUTE=0 MAX_CONNECTIONS_PER_ADDRESS=0 \
		MAX_CONNECTIONS_PER_ADDRESS=0 MEETINGS_PER_ADDRESS_PER_MINUTE=0 LOG_LEVEL=warn \
		"$build/bin/huddle-gateway"
	local gateway_pid=${pids[-1]}
	wait_http "http://127.0.0.1:$http_port/readyz" 30 "$gateway_pid" || { hd_tail gateway "$logs/gateway.log"; hd_die "gateway not ready"; }
	url=http://127.0.0.1:$http_port
	load_pids=(--pid "gateway=$gateway_pid" --pid "registry=$registry_pid" --pid "redis=$redis_pid")
}

start_reference() {
	local logs=$1 port
	port=$(hd_pick_port) || hd_die "no free port"
	start reference "$logs/reference.log" "${server_pin[@]}" env PORT="$port" HOST=127.0.0.1 \
		node "$ref/server.js"
	local pid=${pids[-1]}
	wait_http "http://127.0.0.1:$port/healthz" 30 "$pid" || { hd_tail reference "$logs/reference.log"; hd_die "reference did not start"; }
	url=http://127.0.0.1:$port
	load_pids=(--pid "node=$pid")
}

# scenario_args NAME: huddle-load's arguments for a scenario.
scenario_args() {
	local q=$quick
	case $1 in
	latency) # 1k clients in 250 meetings, 1k relayed msg/s in all
		echo "-n 1000 -m 250 -j 500 --hold 2 -d $((q ? 4 : 15)) -r 1000" ;;
	throughput) # 100 clients, each keeps 8 signals in flight: the most the server relays
		echo "-n 100 -m 25 -j 100 --hold 1 -d $((q ? 3 : 10)) -r 0 -w 8" ;;
	idle10k) # memory per connection
		echo "-n $((q ? 2000 : 10000)) -m $((q ? 500 : 2500)) -j 1000 --leave-rate 2000 --hold 5 -d 0" ;;
	joins) # join -> roster at 50 joins/s, 4 per meeting
		echo "-n $((q ? 100 : 500)) -m $((q ? 25 : 125)) -j 50 --hold 0 -d 0" ;;
	*) hd_die "unknown scenario '$1' (latency, throughput, idle10k, joins)" ;;
	esac
}

for s in $scenarios; do
	read -ra args <<<"$(scenario_args "$s")"
	for target in huddle socketio; do
		logs=$out/logs/$s-$target
		mkdir -p "$logs"
		if [[ $target == huddle ]]; then start_huddle "$logs"; else start_reference "$logs"; fi
		hd_log "$s: $target: huddle-load ${args[*]}"
		rc=0
		"${load_pin[@]}" "$build/bin/huddle-load" -t "$target" -u "$url" "${load_pids[@]}" -l "$s" "${args[@]}" \
			${load_threads:+--threads "$load_threads"} \
			>"$logs/load.out" 2>"$logs/load.err" || rc=$?
		grep -v '^{' "$logs/load.out" >&2 || true
		if ((rc >= 2)) || ! tail -n 1 "$logs/load.out" | grep -q '^{'; then
			hd_tail huddle-load "$logs/load.err"
			hd_log "$s: $target: huddle-load failed (exit $rc); no result"
		else
			tail -n 1 "$logs/load.out" >>"$results"
		fi
		stop_all
	done
done

{
	echo "Huddle vs. the socket.io reference — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores ($(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)), $(uname -r), $( ((${#load_pin[@]})) && echo "servers on core 0, huddle-load on core 1" || echo "not pinned"), load average before $loadavg"
	echo
	node "$here/table.mjs" "$results"
} | tee "$out/table.md"
hd_log "results: $results, table: $out/table.md, logs: $out/logs/"
