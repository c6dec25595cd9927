#!/usr/bin/env bash
# start.sh CONFIG_DIR: renders Huddle's Janus configuration into CONFIG_DIR
# (deploy/janus/render.sh, the JANUS_* settings) and runs Janus in the
# foreground with it, logging to stderr. Janus never runs as root: started
# as root, it drops to JANUS_USER (default nobody) first, with CONFIG_DIR
# handed to that user (it holds the API secret, mode 700).
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
(($# == 1)) || {
	echo "usage: start.sh CONFIG_DIR" >&2
	exit 2
}
dir=$1
janus=${JANUS_BIN:-janus}
command -v "$janus" >/dev/null || {
	echo "janus-start: error: $janus not found (apt-get install janus; 'make bootstrap')" >&2
	exit 1
}
"$here/render.sh" "$dir"
args=(-F "$dir" -C "$dir/janus.jcfg")
if ((EUID == 0)); then
	user=${JANUS_USER:-nobody}
	if [[ $user == root || $(id -u "$user" 2>/dev/null) == 0 ]]; then
		echo "janus-start: error: JANUS_USER must not be root" >&2
		exit 2
	fi
	id "$user" >/dev/null 2>&1 || {
		echo "janus-start: error: JANUS_USER '$user' does not exist" >&2
		exit 2
	}
	run_as=(setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups)
	mkdir -p "$dir"
	chown -R "$user:" "$dir"
	# The parent-death signal (run.sh sets one) does not survive a change of
	# user: set it again.
	if "${run_as[@]}" test -r "$dir/janus.jcfg"; then
		exec "${run_as[@]}" --no-new-privs --pdeathsig TERM "$(command -v "$janus")" "${args[@]}"
	fi
	# The user cannot reach the directory through its parents (a checkout
	# under /root, a test's mktemp directory of mode 700): the configuration
	# goes to a private directory in TMPDIR instead, removed when Janus
	# exits. This script stays Janus's parent for that and hands it
	# SIGTERM/SIGINT/SIGHUP.
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/huddle-janus.XXXXXX")
	"$here/render.sh" "$tmp"
	chown -R "$user:" "$tmp"
	"${run_as[@]}" --no-new-privs --pdeathsig TERM "$(command -v "$janus")" -F "$tmp" -C "$tmp/janus.jcfg" &
	child=$!
	trap 'kill -TERM "$child" 2>/dev/null || true' TERM INT HUP
	rv=0
	while kill -0 "$child" 2>/dev/null; do
		wait "$child" && rv=0 || rv=$?
	done
	rm -rf "$tmp"
	exit "$rv"
fi
exec "$janus" "${args[@]}"
