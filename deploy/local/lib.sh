# shellcheck shell=bash
# lib.sh: helpers shared by deploy/local/*.sh (sourced, not run).
# Every wait here is bounded; nothing here kills a process it did not start.
# shellcheck disable=SC2034 # HD_PID is set here for the callers.

hd_log() { printf '%s: %s\n' "${HD_PROG:-huddle}" "$*" >&2; }
hd_die() {
	hd_log "error: $*"
	exit 1
}

# hd_alive PID: true while PID exists and is not a zombie.
hd_alive() {
	local stat
	# cat, not $(<...): the process may end between the test and the read,
	# and a failed $(<...) prints its error whatever the redirection.
	stat=$(cat /proc/"$1"/stat 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat:0:1} != Z ]]
}

# hd_port_free PORT: true when nothing listens on PORT (TCP) or has it bound (UDP).
hd_port_free() {
	if command -v ss >/dev/null 2>&1; then
		[[ -z $(ss -Htuln "( sport = :$1 )" 2>/dev/null) ]]
	else
		! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
	fi
}

# hd_pick_port: prints a free port in 20000..32767, below both Linux's
# ephemeral range (32768+) and coturn's relay range (49152+).
hd_pick_port() {
	local i p
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + RANDOM % 12768))
		if hd_port_free "$p"; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# hd_wait_tcp HOST PORT SECONDS [PID]: waits until HOST:PORT accepts a TCP
# connection; fails early when PID (the server) has exited.
hd_wait_tcp() {
	local host=$1 port=$2 deadline=$((SECONDS + $3)) pid=${4:-}
	while ((SECONDS < deadline)); do
		if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
			return 0
		fi
		if [[ -n $pid ]] && ! hd_alive "$pid"; then
			return 1
		fi
		sleep 0.1
	done
	return 1
}

# hd_wait_file PATH SECONDS [PID]: waits until PATH exists (a unix socket).
hd_wait_file() {
	local path=$1 deadline=$((SECONDS + $2)) pid=${3:-}
	while ((SECONDS < deadline)); do
		[[ -e $path ]] && return 0
		if [[ -n $pid ]] && ! hd_alive "$pid"; then
			return 1
		fi
		sleep 0.1
	done
	return 1
}

# hd_stop PID NAME [SECONDS]: SIGTERM, wait (bounded, default 10 s), then
# SIGKILL; reaps PID when it is our child. Returns 0 if it stopped on TERM.
hd_stop() {
	local pid=$1 name=$2 deadline=$((SECONDS + ${3:-10})) rv=0
	[[ -n $pid ]] || return 0
	if hd_alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
		while hd_alive "$pid" && ((SECONDS < deadline)); do
			sleep 0.1
		done
		if hd_alive "$pid"; then
			hd_log "$name (pid $pid) ignored SIGTERM; sending SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
			rv=1
		fi
	fi
	wait "$pid" 2>/dev/null || true
	return "$rv"
}

# hd_tail NAME FILE: shows the end of a log file, for failure reports.
hd_tail() {
	[[ -s $2 ]] || return 0
	printf -- '----- last lines of %s (%s) -----\n' "$1" "$2" >&2
	tail -n 25 "$2" >&2
	printf -- '-----\n' >&2
}

# hd_start_redis_tcp DIR PORT: starts a throwaway redis-server on
# 127.0.0.1:PORT (no persistence) with its log in DIR; sets HD_PID.
# Children run in their own session (setsid execs in place, so $! is the
# server): a terminal's Ctrl-C reaches only the script, which then stops them
# in order. Their parent-death signal (setpriv --pdeathsig) stops them when
# the script dies without cleaning up.
hd_start_redis_tcp() {
	local dir=$1 port=$2
	setsid setpriv --pdeathsig TERM redis-server --bind 127.0.0.1 --port "$port" \
		--save '' --appendonly no --dir "$dir" --logfile "$dir/redis.log" \
		--daemonize no </dev/null >/dev/null 2>&1 9>&- &
	HD_PID=$!
}

# hd_start_turn DIR PORT SECRET CONF: starts turnserver on 127.0.0.1:PORT
# with CONF (the loopback variant), state and log in DIR; sets HD_PID.
hd_start_turn() {
	local dir=$1 port=$2 secret=$3 conf=$4
	setsid setpriv --pdeathsig TERM turnserver -c "$conf" --listening-port="$port" \
		--static-auth-secret="$secret" --userdb="$dir/turndb" \
		--pidfile="$dir/turnserver.pid" \
		</dev/null >"$dir/turnserver.log" 2>&1 9>&- &
	HD_PID=$!
}

# hd_packages SECTION: prints the Debian packages of one [SECTION] of
# deploy/local/packages.txt, one per line (bootstrap installs them, the
# packaging check verifies the build against them).
hd_packages() {
	awk -v want="[$1]" '
		{ sub(/#.*/, "") }
		/^\[/ { on = ($1 == want); next }
		on { for (i = 1; i <= NF; i++) print $i }
	' "$(dirname "${BASH_SOURCE[0]}")/packages.txt"
}
