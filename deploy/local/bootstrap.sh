#!/usr/bin/env bash
# bootstrap.sh [--lint]: installs what building, running and testing Huddle
# needs on Debian 12 ([core] and [fuzz] of packages.txt: make test runs the
# fuzz harnesses' smoke), then the npm dependencies of web/ and tests/.
# Idempotent and quick when everything is present: apt runs only for missing
# packages, npm only when node_modules is missing or older than the lockfile.
# --lint also installs clang-format, clang-tidy, cppcheck, shellcheck and
# python3-yaml (make lint, make format, make deploy-check).
# Works as root (CI) or through sudo.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=deploy/local/lib.sh
. "$here/lib.sh"
HD_PROG=bootstrap

# What Huddle needs: deploy/local/packages.txt, by purpose.
mapfile -t packages < <(hd_packages core)
mapfile -t fuzz_packages < <(hd_packages fuzz)
packages+=("${fuzz_packages[@]}")
mapfile -t optional < <(hd_packages optional)
mapfile -t lint_packages < <(hd_packages lint)
((${#packages[@]} > 0)) || hd_die "no [core] packages in $here/packages.txt"

for arg in "$@"; do
	case $arg in
	--lint) packages+=("${lint_packages[@]}") ;;
	-h | --help)
		awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
		exit 0
		;;
	*) hd_die "unknown argument '$arg' (try --help)" ;;
	esac
done

# Node.js: web/ (Vite) needs >= 20.19, Debian 12 ships 18. A node that is new
# enough is kept, wherever it came from; otherwise nodejs (with npm) comes
# from NodeSource's node_20.x apt repository.
node_major_min=20 node_minor_min=19
node_ok() {
	local v
	v=$(node -p 'process.versions.node' 2>/dev/null) || return 1
	IFS=. read -r major minor _ <<<"$v"
	((major > node_major_min || (major == node_major_min && minor >= node_minor_min)))
}

installed() {
	[[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null) == ii* ]]
}

as_root() {
	if ((EUID == 0)); then
		"$@"
	elif command -v sudo >/dev/null; then
		sudo "$@"
	else
		hd_die "need root for: $* (run as root or install sudo)"
	fi
}

apt_updated=0
apt_install() {
	if ((apt_updated == 0)); then
		hd_log "apt-get update"
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
		apt_updated=1
	fi
	hd_log "apt-get install $*"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends "$@"
}

# Services Debian would start on install and that would hold Huddle's ports
# (redis 6379, coturn 3478, janus 8188): keep them stopped and disabled. Only the ones
# this run installed; an operator's existing setup is left alone.
quiet_services() {
	local svc
	for svc in "$@"; do
		hd_log "stopping and disabling the system $svc service (deploy/local/*.sh start their own)"
		if [[ -d /run/systemd/system ]]; then
			as_root systemctl disable --now "$svc" >/dev/null 2>&1 || true
		else
			as_root service "$svc" stop >/dev/null 2>&1 || true
			as_root update-rc.d "$svc" disable >/dev/null 2>&1 || true
		fi
	done
}

command -v dpkg-query >/dev/null || hd_die "this script supports Debian 12 (dpkg/apt); install the packages listed in it by hand"

missing=()
for p in "${packages[@]}"; do
	installed "$p" || missing+=("$p")
done
services=()
for svc in redis-server coturn janus; do
	installed "$svc" || services+=("$svc")
done

if ((${#missing[@]} > 0)); then
	# policy-rc.d 101 = "do not start services" while dpkg configures them
	# (the Debian way for containers and CI). Removed again right after.
	policy=/usr/sbin/policy-rc.d made_policy=0
	if [[ ! -e $policy ]]; then
		trap 'as_root rm -f "$policy"' EXIT
		printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
		as_root chmod 755 "$policy"
		made_policy=1
	fi
	apt_install "${missing[@]}"
	if ((made_policy)); then
		as_root rm -f "$policy"
		trap - EXIT
	fi
	((${#services[@]} == 0)) || quiet_services "${services[@]}"
fi

if ! node_ok; then
	hd_log "node >= $node_major_min.$node_minor_min not found; installing nodejs from deb.nodesource.com (node_20.x)"
	if [[ ! -f /etc/apt/sources.list.d/nodesource.sources ]]; then
		as_root install -d -m 755 /etc/apt/keyrings
		curl -fsSL https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key |
			as_root tee /etc/apt/keyrings/nodesource.asc >/dev/null
		printf '%s\n' 'Types: deb' 'URIs: https://deb.nodesource.com/node_20.x' \
			'Suites: nodistro' 'Components: main' \
			'Signed-By: /etc/apt/keyrings/nodesource.asc' |
			as_root tee /etc/apt/sources.list.d/nodesource.sources >/dev/null
	fi
	apt_updated=0
	apt_install nodejs
	hash -r
	node_ok || hd_die "node >= $node_major_min.$node_minor_min still not on PATH (found: $(node --version 2>&1))"
fi

for p in "${optional[@]}"; do
	if ! installed "$p"; then
		apt_install "$p" || hd_log "warning: optional package $p not installed; 'make compose-check' will be skipped"
	fi
done

# npm dependencies. Browsers come from Debian (chromium), never downloaded.
export PUPPETEER_SKIP_DOWNLOAD=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
npm_deps() {
	local dir=$1
	if [[ ! -f $dir/package.json ]]; then
		hd_log "no $dir/package.json yet; nothing to install there"
		return 0
	fi
	# Only from the lockfile: what CI tested is what a newcomer gets.
	[[ -f $dir/package-lock.json ]] || hd_die "$dir/package-lock.json is missing (run 'npm install' there once and commit it)"
	if [[ -d $dir/node_modules && ! $dir/package-lock.json -nt $dir/node_modules ]]; then
		return 0
	fi
	hd_log "npm ci in $dir"
	(cd "$dir" && npm ci --no-audit --no-fund)
	# npm ci keeps the directory's old mtime when it only updates it.
	touch "$dir/node_modules"
}
npm_deps "$root/web"
npm_deps "$root/tests"
hd_log "ok"
