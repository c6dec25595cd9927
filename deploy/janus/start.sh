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
	# The user must reach the directory through every parent: a checkout
	# or a test's private directory under /root or mktemp's mode 700 may not
	# let it. Then the configuration goes to a directory of its own in
	# TMPDIR, one per API port (re-rendered on every start).
	mkdir -p "$dir"
	chown -R "$user:" "$dir"
	if ! setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups test -r "$dir/janus.jcfg"; then
		dir=${TMPDIR:-/tmp}/huddle-janus-$user-${JANUS_WS_PORT:-8188}
		[[ ! -L $dir ]] || {
			echo "janus-start: error: $dir is a symbolic link" >&2
			exit 1
		}
		"$here/render.sh" "$dir"
		chown -R "$user:" "$dir"
		args=(-F "$dir" -C "$dir/janus.jcfg")
	fi
	# The parent-death signal (run.sh sets one) does not survive a change of
	# user: set it again.
	exec setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups --no-new-privs --pdeathsig TERM "$(command -v "$janus")" "${args[@]}"
fi
exec "$janus" "${args[@]}"
