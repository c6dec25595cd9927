#!/usr/bin/env bash
# run.sh: runs Huddle on this machine (what `make run` does after building):
# redis-server, turnserver, janus (the SFU, deploy/janus/start.sh),
# huddle-media, huddle-registry, huddle-chat, huddle-notes,
# huddle-recording and huddle-gateway, with state and logs in run/
# (git-ignored), the embedded SQLite store (one file, run/huddle.db, shared
# by the registry, huddle-chat, huddle-notes and huddle-recording), the
# recordings in run/recordings, and the web app from web/dist. Ctrl-C (or SIGTERM) stops everything, gateway first.
# Every child dies with this script even when it cannot clean up (SIGKILL, a
# closed terminal): each is started with a parent-death signal (SIGTERM).
#
# Settings (environment):
#   HTTP_PORT=8080          gateway HTTP/WebSocket port on 127.0.0.1
#   RUN_DIR=run             state and logs (relative to the checkout, or absolute)
#   TURN_PORT=3478          turnserver port on 127.0.0.1 (UDP and TCP)
#   BUILD_DIR=build         where bin/huddle-{registry,chat,notes,recording,gateway} are
#   LOG_LEVEL=info          passed to every daemon
#   REGISTRY_LISTEN, REGISTRY_EVENTS_LISTEN   registry addresses
#                           (default tcp://127.0.0.1:7001 and :7002)
#   CHAT_LISTEN, CHAT_EVENTS_LISTEN           huddle-chat addresses
#                           (default tcp://127.0.0.1:7003 and :7004)
#   NOTES_LISTEN, NOTES_EVENTS_LISTEN         huddle-notes addresses
#                           (default tcp://127.0.0.1:7005 and :7006)
#   RECORDING_LISTEN                          huddle-recording's address
#                           (default tcp://127.0.0.1:7007)
#   MEDIA_LISTEN, MEDIA_EVENTS_LISTEN         huddle-media addresses
#                           (default tcp://127.0.0.1:7008 and :7009)
#   SFU_ENABLED=1           meetings past MESH_MAX (4) move to Janus; 0: always a mesh
#   JANUS_WS_PORT=8188      Janus API (WebSocket) port on 127.0.0.1
#   JANUS_RTP_PORT_RANGE=10000-10999  Janus's UDP media ports
# The TURN secret, the recording token secret and the join token secret
# (signs the dashboard's signed join links) are generated once into
# run/turn-secret, run/recording-token-secret and run/join-token-secret, and
# the Janus API secret (Janus and huddle-media share it) into
# run/janus-api-secret; Janus's rendered configuration is in run/janus/.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=deploy/local/lib.sh
. "$here/lib.sh"
HD_PROG=run

cd "$root"
build=${BUILD_DIR:-build}
run=${RUN_DIR:-run}
http_port=${HTTP_PORT:-8080}
turn_port=${TURN_PORT:-3478}
registry_listen=${REGISTRY_LISTEN:-tcp://127.0.0.1:7001}
events_listen=${REGISTRY_EVENTS_LISTEN:-tcp://127.0.0.1:7002}
chat_listen=${CHAT_LISTEN:-tcp://127.0.0.1:7003}
chat_events_listen=${CHAT_EVENTS_LISTEN:-tcp://127.0.0.1:7004}
notes_listen=${NOTES_LISTEN:-tcp://127.0.0.1:7005}
notes_events_listen=${NOTES_EVENTS_LISTEN:-tcp://127.0.0.1:7006}
recording_listen=${RECORDING_LISTEN:-tcp://127.0.0.1:7007}
media_listen=${MEDIA_LISTEN:-tcp://127.0.0.1:7008}
media_events_listen=${MEDIA_EVENTS_LISTEN:-tcp://127.0.0.1:7009}
janus_ws_port=${JANUS_WS_PORT:-8188}
store_uri=sqlite://$run/huddle.db

for tool in redis-server turnserver janus openssl curl setsid setpriv; do
	command -v "$tool" >/dev/null || hd_die "$tool not found (run 'make bootstrap')"
done
for bin in huddle-registry huddle-chat huddle-notes huddle-recording huddle-media huddle-gateway; do
	[[ -x $build/bin/$bin ]] || hd_die "$build/bin/$bin not found (run 'make build')"
done
[[ -f web/dist/index.html ]] || hd_log "warning: web/dist/index.html missing; the gateway will serve no web app (run 'make build')"

mkdir -p "$run"
run_abs=$(cd "$run" && pwd)
exec 9>"$run/.lock"
flock -n 9 || hd_die "another 'make run' is using $run_abs"

# Refuse to start next to something that already holds our ports: the
# daemons would fail anyway, and less clearly.
port_of() { [[ $1 =~ ^tcp://[^/]*:([0-9]+)$ ]] && echo "${BASH_REMATCH[1]}"; }
check_port() {
	hd_port_free "$1" && return 0
	hd_die "port $1 ($2) is in use; stop what holds it ($3)"
}
check_port "$http_port" gateway "or set HTTP_PORT"
check_port "$turn_port" turnserver "a system coturn: 'systemctl stop coturn'; or set TURN_PORT"
if p=$(port_of "$registry_listen"); then check_port "$p" "registry" "or set REGISTRY_LISTEN"; fi
if p=$(port_of "$events_listen"); then check_port "$p" "registry events" "or set REGISTRY_EVENTS_LISTEN"; fi
if p=$(port_of "$chat_listen"); then check_port "$p" "huddle-chat" "or set CHAT_LISTEN"; fi
if p=$(port_of "$chat_events_listen"); then check_port "$p" "huddle-chat events" "or set CHAT_EVENTS_LISTEN"; fi
if p=$(port_of "$notes_listen"); then check_port "$p" "huddle-notes" "or set NOTES_LISTEN"; fi
if p=$(port_of "$notes_events_listen"); then check_port "$p" "huddle-notes events" "or set NOTES_EVENTS_LISTEN"; fi
if p=$(port_of "$recording_listen"); then check_port "$p" "huddle-recording" "or set RECORDING_LISTEN"; fi
if p=$(port_of "$media_listen"); then check_port "$p" "huddle-media" "or set MEDIA_LISTEN"; fi
if p=$(port_of "$media_events_listen"); then check_port "$p" "huddle-media events" "or set MEDIA_EVENTS_LISTEN"; fi
check_port "$janus_ws_port" janus "a system janus: 'systemctl disable --now janus'; or set JANUS_WS_PORT"

if [[ ! -s $run/turn-secret ]]; then
	(umask 077 && openssl rand -hex 32 >"$run/turn-secret")
	hd_log "generated $run/turn-secret"
fi
turn_secret=$(<"$run/turn-secret")
if [[ ! -s $run/recording-token-secret ]]; then
	(umask 077 && openssl rand -hex 32 >"$run/recording-token-secret")
	hd_log "generated $run/recording-token-secret"
fi
recording_token_secret=$(<"$run/recording-token-secret")
if [[ ! -s $run/join-token-secret ]]; then
	(umask 077 && openssl rand -hex 32 >"$run/join-token-secret")
	hd_log "generated $run/join-token-secret"
fi
join_token_secret=$(<"$run/join-token-secret")
if [[ ! -s $run/janus-api-secret ]]; then
	(umask 077 && openssl rand -hex 32 >"$run/janus-api-secret")
	hd_log "generated $run/janus-api-secret"
fi
janus_api_secret=$(<"$run/janus-api-secret")

pids=() names=() logs=()
stopping=0

# Stops every started process, newest first (gateway, huddle-recording,
# huddle-notes, huddle-chat, registry, turnserver, redis), each with a
# bounded wait.
stop_all() {
	local i
	((stopping)) && return 0
	stopping=1
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		hd_stop "${pids[i]}" "${names[i]}" 10 || true
	done
	pids=()
}
# shellcheck disable=SC2317 # reached through traps
on_exit() {
	local rv=$?
	trap - EXIT INT TERM HUP
	if ((${#pids[@]} > 0)); then
		hd_log "stopping"
		stop_all
		hd_log "stopped"
	fi
	exit "$rv"
}
trap on_exit EXIT
trap 'exit 0' INT TERM HUP

# start NAME LOG CMD...: starts CMD in its own session (so a terminal's
# Ctrl-C reaches only this script, which stops things in order), as this
# script's child with SIGTERM as its parent-death signal (prctl
# PR_SET_PDEATHSIG through setpriv; kept across exec): if this script dies
# without its traps running, the kernel stops CMD. setsid does not fork here
# (a background job is not a process group leader), so the parent is us.
start() {
	local name=$1 log=$2
	shift 2
	printf -- '--- %s starting %s\n' "$name" "$(date -Is)" >>"$log"
	setsid setpriv --pdeathsig TERM "$@" </dev/null >>"$log" 2>&1 9>&- &
	pids+=($!) names+=("$name") logs+=("$log")
}

fail_start() {
	hd_tail "$1" "$2"
	hd_die "$1 did not start (log: $2)"
}

# Redis on a unix socket in run/ (no TCP port to collide with), data kept in
# run/dump.rdb. Socket paths are limited to 107 bytes; fall back to TCP.
sock=$run_abs/redis.sock
if ((${#sock} < 100)); then
	rm -f "$sock"
	start redis-server "$run/redis.log" redis-server --port 0 --unixsocket "$sock" \
		--unixsocketperm 700 --dir "$run" --dbfilename dump.rdb --daemonize no
	hd_wait_file "$sock" 10 "${pids[-1]}" || fail_start redis-server "$run/redis.log"
	redis_url=unix://$sock
else
	redis_port=$(hd_pick_port) || hd_die "no free port for redis-server"
	start redis-server "$run/redis.log" redis-server --bind 127.0.0.1 --port "$redis_port" \
		--dir "$run" --dbfilename dump.rdb --daemonize no
	hd_wait_tcp 127.0.0.1 "$redis_port" 10 "${pids[-1]}" || fail_start redis-server "$run/redis.log"
	redis_url=redis://127.0.0.1:$redis_port
fi

start turnserver "$run/turnserver.log" turnserver -c deploy/coturn/turnserver-local.conf \
	--listening-port="$turn_port" --static-auth-secret="$turn_secret" \
	--userdb="$run/turndb" --pidfile="$run/turnserver.pid"
hd_wait_tcp 127.0.0.1 "$turn_port" 10 "${pids[-1]}" || fail_start turnserver "$run/turnserver.log"

# Janus with Huddle's own configuration (run/janus/), the API on loopback;
# as root it drops to nobody (deploy/janus/start.sh).
start janus "$run/janus.log" env JANUS_API_SECRET="$janus_api_secret" \
	JANUS_WS_IP=127.0.0.1 JANUS_WS_PORT="$janus_ws_port" \
	JANUS_RTP_PORT_RANGE="${JANUS_RTP_PORT_RANGE:-10000-10999}" \
	deploy/janus/start.sh "$run_abs/janus"
hd_wait_tcp 127.0.0.1 "$janus_ws_port" 15 "${pids[-1]}" || fail_start janus "$run/janus.log"

# huddle-media drives Janus (one VideoRoom per meeting); it reconnects by
# itself, so only a crash is waited for.
start huddle-media "$run/media.log" env \
	MEDIA_LISTEN="$media_listen" MEDIA_EVENTS_LISTEN="$media_events_listen" \
	JANUS_URL="ws://127.0.0.1:$janus_ws_port" \
	JANUS_API_SECRET="$janus_api_secret" LOG_LEVEL="${LOG_LEVEL:-info}" \
	"$build/bin/huddle-media"
sleep 0.2
hd_alive "${pids[-1]}" || fail_start huddle-media "$run/media.log"

start huddle-registry "$run/registry.log" env \
	REGISTRY_LISTEN="$registry_listen" REGISTRY_EVENTS_LISTEN="$events_listen" \
	REDIS_URL="$redis_url" STORE_URI="$store_uri" \
	SFU_ENABLED="${SFU_ENABLED:-1}" \
	LOG_LEVEL="${LOG_LEVEL:-info}" \
	"$build/bin/huddle-registry"

# The registry binds before it serves; the gateway retries until it answers
# (its /readyz says so), so there is nothing to wait for here beyond a crash.
sleep 0.2
hd_alive "${pids[-1]}" || fail_start huddle-registry "$run/registry.log"

# huddle-chat: the same store file (SQLite WAL serves both processes).
start huddle-chat "$run/chat.log" env \
	CHAT_LISTEN="$chat_listen" CHAT_EVENTS_LISTEN="$chat_events_listen" \
	STORE_URI="$store_uri" LOG_LEVEL="${LOG_LEVEL:-info}" \
	"$build/bin/huddle-chat"
sleep 0.2
hd_alive "${pids[-1]}" || fail_start huddle-chat "$run/chat.log"

# huddle-notes: the same store file again.
start huddle-notes "$run/notes.log" env \
	NOTES_LISTEN="$notes_listen" NOTES_EVENTS_LISTEN="$notes_events_listen" \
	STORE_URI="$store_uri" LOG_LEVEL="${LOG_LEVEL:-info}" \
	"$build/bin/huddle-notes"
sleep 0.2
hd_alive "${pids[-1]}" || fail_start huddle-notes "$run/notes.log"

# huddle-recording: the same store file for its metadata, run/recordings for the files.
start huddle-recording "$run/recording.log" env \
	RECORDING_LISTEN="$recording_listen" STORE_URI="$store_uri" \
	RECORDINGS_DIR="$run/recordings" LOG_LEVEL="${LOG_LEVEL:-info}" \
	"$build/bin/huddle-recording"
sleep 0.2
hd_alive "${pids[-1]}" || fail_start huddle-recording "$run/recording.log"

start huddle-gateway "$run/gateway.log" env \
	GATEWAY_HTTP_ADDR=127.0.0.1 GATEWAY_HTTP_PORT="$http_port" \
	GATEWAY_WEB_ROOT="$root/web/dist" \
	REGISTRY_URL="${registry_listen/0.0.0.0/127.0.0.1}" \
	REGISTRY_EVENTS_URL="${events_listen/0.0.0.0/127.0.0.1}" \
	CHAT_URL="${chat_listen/0.0.0.0/127.0.0.1}" \
	CHAT_EVENTS_URL="${chat_events_listen/0.0.0.0/127.0.0.1}" \
	NOTES_URL="${notes_listen/0.0.0.0/127.0.0.1}" \
	NOTES_EVENTS_URL="${notes_events_listen/0.0.0.0/127.0.0.1}" \
	RECORDING_URL="${recording_listen/0.0.0.0/127.0.0.1}" \
	MEDIA_URL="${media_listen/0.0.0.0/127.0.0.1}" \
	MEDIA_EVENTS_URL="${media_events_listen/0.0.0.0/127.0.0.1}" \
	TURN_URLS="stun:127.0.0.1:$turn_port,turn:127.0.0.1:$turn_port?transport=udp,turn:127.0.0.1:$turn_port?transport=tcp" \
	TURN_SECRET="$turn_secret" \
	RECORDING_TOKEN_SECRET="$recording_token_secret" \
	JOIN_TOKEN_SECRET="$join_token_secret" \
	LOG_LEVEL="${LOG_LEVEL:-info}" \
	"$build/bin/huddle-gateway"

deadline=$((SECONDS + 30))
until curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$http_port/readyz" 2>/dev/null; do
	for i in "${!pids[@]}"; do
		hd_alive "${pids[i]}" || fail_start "${names[i]}" "${logs[i]}"
	done
	if ((SECONDS >= deadline)); then
		hd_tail huddle-registry "$run/registry.log"
		hd_tail huddle-gateway "$run/gateway.log"
		hd_die "gateway not ready after 30 s (http://127.0.0.1:$http_port/readyz)"
	fi
	sleep 0.2
done

hd_log "logs: $run/{redis,turnserver,janus,media,registry,chat,notes,recording,gateway}.log"
echo "Open http://localhost:$http_port"
hd_log "Ctrl-C stops everything"

# Until a signal (trap above) or one of the processes dies.
while :; do
	wait -n || true
	for i in "${!pids[@]}"; do
		if ! hd_alive "${pids[i]}"; then
			hd_tail "${names[i]}" "${logs[i]}"
			hd_die "${names[i]} exited unexpectedly; stopping the rest"
		fi
	done
done
