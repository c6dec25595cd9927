#!/usr/bin/env bash
# render.sh OUT_DIR: writes Huddle's Janus configuration (janus.jcfg, the
# WebSocket transport and the VideoRoom plugin) into OUT_DIR from the
# templates beside this script and the JANUS_* settings below, then prints
# nothing. Start Janus with `janus -F OUT_DIR -C OUT_DIR/janus.jcfg`
# (deploy/janus/start.sh does). OUT_DIR is created mode 700 and the files
# mode 600: they hold the API secret. The secret is never printed.
#
# Settings (environment; README "SFU (Janus VideoRoom)"):
#   JANUS_API_SECRET       required: every Janus API request carries it (also
#                          the VideoRoom admin_key); huddle-media's is the same
#   JANUS_WS_IP=127.0.0.1  address the Janus API (WebSocket) binds to
#   JANUS_WS_PORT=8188     its port
#   JANUS_RTP_PORT_RANGE=10000-10999   UDP ports for media (ICE), min-max
#   JANUS_NAT_1_1_MAPPING= public address to advertise behind 1:1 NAT ("" = none)
#   JANUS_ICE_ENFORCE_LIST=  interfaces/addresses to gather candidates on ("" = all)
#   JANUS_ICE_IGNORE_LIST=vmnet  interfaces/addresses never to use
#   JANUS_SESSION_TIMEOUT=60     seconds without a request before Janus drops
#                                huddle-media's session (keepalives prevent it)
#   JANUS_RECLAIM_TIMEOUT=60     seconds a session waits to be claimed after
#                                huddle-media's WebSocket closed
#   JANUS_DEBUG_LEVEL=4          Janus log level 0..7
#   JANUS_LIB_DIR          where the plugins are (default: the Debian package's)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
prog=janus-render
die() {
	printf '%s: error: %s\n' "$prog" "$*" >&2
	exit 2
}

(($# == 1)) || die "usage: render.sh OUT_DIR"
out=$1

api_secret=${JANUS_API_SECRET:-}
ws_ip=${JANUS_WS_IP:-127.0.0.1}
ws_port=${JANUS_WS_PORT:-8188}
rtp_range=${JANUS_RTP_PORT_RANGE:-10000-10999}
nat_mapping=${JANUS_NAT_1_1_MAPPING:-}
enforce=${JANUS_ICE_ENFORCE_LIST:-}
ignore=${JANUS_ICE_IGNORE_LIST-vmnet}
session_timeout=${JANUS_SESSION_TIMEOUT:-60}
reclaim_timeout=${JANUS_RECLAIM_TIMEOUT:-60}
debug_level=${JANUS_DEBUG_LEVEL:-4}
lib_dir=${JANUS_LIB_DIR:-}
if [[ -z $lib_dir ]]; then
	for d in /usr/lib/*/janus /usr/lib/janus /usr/local/lib/janus /opt/janus/lib/janus; do
		if [[ -d $d/plugins ]]; then
			lib_dir=$d
			break
		fi
	done
fi

# A value goes between double quotes in a jcfg file: nothing that could end
# the string or the line.
plain() {
	[[ $2 != *[\"\\$'\n'$'\r']* ]] || die "$1 must not contain quotes, backslashes or line breaks"
}
int_in() {
	if [[ ! $2 =~ ^[0-9]+$ ]] || (($2 < $3 || $2 > $4)); then
		die "$1 must be an integer in $3..$4 (got '$2')"
	fi
}

[[ -n $api_secret ]] || die "JANUS_API_SECRET is not set (huddle-media must use the same value)"
((${#api_secret} >= 16)) || die "JANUS_API_SECRET must be at least 16 characters"
plain JANUS_API_SECRET "$api_secret"
[[ $ws_ip =~ ^[0-9a-fA-F:.]+$ ]] || die "JANUS_WS_IP must be an IP address (got '$ws_ip')"
int_in JANUS_WS_PORT "$ws_port" 1 65535
[[ $rtp_range =~ ^([0-9]+)-([0-9]+)$ ]] || die "JANUS_RTP_PORT_RANGE must be MIN-MAX (got '$rtp_range')"
rmin=${BASH_REMATCH[1]} rmax=${BASH_REMATCH[2]}
int_in "JANUS_RTP_PORT_RANGE's minimum" "$rmin" 1024 65535
int_in "JANUS_RTP_PORT_RANGE's maximum" "$rmax" "$rmin" 65535
plain JANUS_NAT_1_1_MAPPING "$nat_mapping"
plain JANUS_ICE_ENFORCE_LIST "$enforce"
plain JANUS_ICE_IGNORE_LIST "$ignore"
int_in JANUS_SESSION_TIMEOUT "$session_timeout" 10 3600
int_in JANUS_RECLAIM_TIMEOUT "$reclaim_timeout" 1 3600
int_in JANUS_DEBUG_LEVEL "$debug_level" 0 7
[[ -n $lib_dir && -d $lib_dir/plugins ]] || die "no Janus plugins folder found (install the janus package or set JANUS_LIB_DIR)"
plain JANUS_LIB_DIR "$lib_dir"
[[ -e $lib_dir/plugins/libjanus_videoroom.so ]] ||
	die "$lib_dir/plugins has no VideoRoom plugin"

# disabled KIND KEEP: every module Janus would load from lib_dir/KIND (the
# files named *.so) except KEEP, as Janus's comma-separated disable list.
disabled() {
	local f name list=()
	for f in "$lib_dir/$1"/*.so; do
		[[ -e $f ]] || continue
		name=${f##*/}
		[[ $name == "$2" ]] && continue
		list+=("$name")
	done
	local IFS=,
	printf '%s' "${list[*]}"
}

nat_lines=""
[[ -z $nat_mapping ]] || nat_lines+=$'\t'"nat_1_1_mapping = \"$nat_mapping\""$'\n'
[[ -z $enforce ]] || nat_lines+=$'\t'"ice_enforce_list = \"$enforce\""$'\n'
[[ -z $ignore ]] || nat_lines+=$'\t'"ice_ignore_list = \"$ignore\""$'\n'

mkdir -p "$out"
chmod 700 "$out"
out=$(cd "$out" && pwd)
plain "the output directory" "$out"

render() {
	local src=$1 dst=$2 text
	text=$(<"$src")
	text=${text//@CONFIG_DIR@/$out}
	text=${text//@LIB_DIR@/$lib_dir}
	text=${text//@DEBUG_LEVEL@/$debug_level}
	text=${text//@API_SECRET@/$api_secret}
	text=${text//@SESSION_TIMEOUT@/$session_timeout}
	text=${text//@RECLAIM_TIMEOUT@/$reclaim_timeout}
	text=${text//@RTP_PORT_RANGE@/$rtp_range}
	text=${text//@NAT_LINES@/${nat_lines%$'\n'}}
	text=${text//@DISABLE_PLUGINS@/$(disabled plugins libjanus_videoroom.so)}
	text=${text//@DISABLE_TRANSPORTS@/$(disabled transports libjanus_websockets.so)}
	text=${text//@DISABLE_LOGGERS@/$(disabled loggers "")}
	text=${text//@DISABLE_EVENTS@/$(disabled events "")}
	text=${text//@WS_IP@/$ws_ip}
	text=${text//@WS_PORT@/$ws_port}
	(umask 077 && printf '%s\n' "$text" >"$out/$dst.tmp")
	mv -f "$out/$dst.tmp" "$out/$dst"
}
render "$here/janus.jcfg.in" janus.jcfg
render "$here/janus.transport.websockets.jcfg.in" janus.transport.websockets.jcfg
render "$here/janus.plugin.videoroom.jcfg.in" janus.plugin.videoroom.jcfg
