#!/usr/bin/env bash
# packages.sh BUILD_DIR: the packaging check (ctest deploy.packages). Every
# header the C build read from outside the tree and every shared library the
# built programs load must belong to a Debian package that bootstrap installs:
# one of [core] in deploy/local/packages.txt, or a dependency of one as dpkg
# records it (Depends and Pre-Depends, recursively, through Provides), or an
# Essential package (on every Debian system by definition). A file from a
# package outside that set, or from no package at all, fails the check with
# the package's name: a newcomer's machine would not have it.
#   headers:   the compiler's dependency files (*.o.d) in BUILD_DIR
#   libraries: ldd of BUILD_DIR/bin/*, and /proc/PID/maps of a running
#              huddle-gateway (lws dlopens its libev plugin, which ldd misses)
# Also: every package.json under web/ and tests/ has a package-lock.json
# (bootstrap installs with `npm ci` only). Needs no network.
set -euo pipefail
export LC_ALL=C # sort and comm agree on one order

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=deploy/local/lib.sh
. "$root/deploy/local/lib.sh"
HD_PROG=packages-check

(($# == 1)) || hd_die "usage: $0 BUILD_DIR"
build=$(cd "$1" && pwd) || hd_die "no build directory $1"
command -v dpkg-query >/dev/null || hd_die "needs dpkg (Debian)"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/huddle-packages.XXXXXX")
gw_pid=''
# shellcheck disable=SC2317 # reached through the EXIT trap
cleanup() {
	hd_stop "$gw_pid" huddle-gateway 5 >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
GATEWAY_WAIT_S=20 # bound on the gateway's start-up (ASan builds are slow)

# --- files the build uses from outside the tree ------------------------------
mapfile -t depfiles < <(find "$build" -name '*.o.d' -type f)
((${#depfiles[@]} > 0)) || hd_die "no compiler dependency files (*.o.d) under $build: build it first"
# Make-style rules: "obj.o: a.h \<newline> b.h"; keep absolute paths outside
# the source and build trees, normalised without resolving symlinks.
awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\// && $i !~ /:$/) print $i }' "${depfiles[@]}" |
	xargs -r realpath -s -m -- | grep -v -e "^$root/" -e "^$build/" | sort -u >"$tmp/headers"

bins=()
for f in "$build"/bin/*; do
	[[ -f $f && -x $f ]] && bins+=("$f")
done
((${#bins[@]} > 0)) || hd_die "no programs in $build/bin"
for f in "${bins[@]}"; do
	ldd "$f" 2>/dev/null || true
done | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }' | sort -u >"$tmp/libraries"

# huddle-gateway, running: its mapped shared objects include dlopen'd plugins.
gw=$build/bin/huddle-gateway
[[ -x $gw ]] || hd_die "$gw not built"
port=$(hd_pick_port) || hd_die "no free port for huddle-gateway"
mkdir -p "$tmp/web"
env -i PATH="$PATH" ASAN_OPTIONS=detect_leaks=0 GATEWAY_HTTP_ADDR=127.0.0.1 GATEWAY_HTTP_PORT="$port" \
	GATEWAY_WEB_ROOT="$tmp/web" REGISTRY_URL="ipc://$tmp/r" REGISTRY_EVENTS_URL="ipc://$tmp/re" \
	CHAT_URL="ipc://$tmp/c" CHAT_EVENTS_URL="ipc://$tmp/ce" "$gw" >"$tmp/gateway.log" 2>&1 &
gw_pid=$!
hd_wait_tcp 127.0.0.1 "$port" "$GATEWAY_WAIT_S" "$gw_pid" || {
	hd_tail huddle-gateway "$tmp/gateway.log"
	hd_die "huddle-gateway did not start within $GATEWAY_WAIT_S s"
}
# libsasl2 (through libmongoc) loads whatever plugins its directory holds
# and works with none (mongoc does SCRAM itself): those are not needed.
awk '$6 ~ /^\// && $6 ~ /\.so/ && $6 !~ /\/sasl2\// { print $6 }' "/proc/$gw_pid/maps" |
	sort -u >>"$tmp/libraries"
hd_stop "$gw_pid" huddle-gateway 5 >/dev/null 2>&1 || true
gw_pid=''
sort -u -o "$tmp/libraries" "$tmp/libraries"
grep -q 'libwebsockets-evlib_ev' "$tmp/libraries" ||
	hd_log "note: huddle-gateway did not map lws's libev plugin (libwebsockets-evlib_ev.so)"
sort -u "$tmp/headers" "$tmp/libraries" >"$tmp/files"

# --- which package owns each file ---------------------------------------------
# dpkg records a path as the package shipped it: on merged-/usr Debian 12 a
# library may be known as /lib/x/libm.so.6 while ldd says /usr/lib/x/...;
# try the path, its twin across the /usr merge, then with symlinks resolved.
owners() {
	{ xargs -r -d '\n' dpkg-query -S -- 2>/dev/null <"$1" || true; } |
		awk -F': ' 'NF >= 2 && $1 !~ /^diversion/ { path = $NF; pk = $1; n = split(pk, a, ", ");
			for (i = 1; i <= n; i++) { p = a[i]; sub(/:.*/, "", p); print path "\t" p } }'
}
owners "$tmp/files" >"$tmp/owned"
cut -f1 "$tmp/owned" | sort -u >"$tmp/found"
: >"$tmp/unowned"
while IFS= read -r f; do
	cands=()
	if [[ $f == /usr/* ]]; then cands+=("${f#/usr}"); else cands+=("/usr$f"); fi
	r=$(readlink -f -- "$f" 2>/dev/null || true)
	if [[ -n $r && $r != "$f" ]]; then
		cands+=("$r")
		if [[ $r == /usr/* ]]; then cands+=("${r#/usr}"); else cands+=("/usr$r"); fi
	fi
	printf '%s\n' "${cands[@]}" >"$tmp/cands"
	got=$(owners "$tmp/cands" | cut -f2 | sort -u)
	if [[ -n $got ]]; then
		while IFS= read -r p; do printf '%s\t%s\n' "$f" "$p"; done <<<"$got" >>"$tmp/owned"
	else
		echo "$f" >>"$tmp/unowned"
	fi
done < <(comm -23 "$tmp/files" "$tmp/found")

# --- what bootstrap installs: [core] plus dependencies, as dpkg records them --
hd_packages core >"$tmp/roots"
dpkg-query -W -f='${db:Status-Abbrev}\t${Package}\t${Essential}\t${Provides}\t${Depends}, ${Pre-Depends}\n' \
	>"$tmp/db"
awk -F'\t' -v roots="$tmp/roots" '
	function clean(s) { gsub(/\([^)]*\)/, "", s); gsub(/[ \t]/, "", s); sub(/:.*/, "", s); return s }
	$1 ~ /^ii/ {
		inst[$2] = 1; deps[$2] = $5
		if ($3 == "yes") root[$2] = 1
		n = split($4, pv, ","); for (i = 1; i <= n; i++) { v = clean(pv[i]); if (v != "") prov[v] = prov[v] " " $2 }
	}
	END {
		while ((getline p < roots) > 0) {
			if (!(p in inst)) { print "NOT-INSTALLED\t" p; continue }
			root[p] = 1
		}
		for (p in root) { queue[++qn] = p; seen[p] = 1 }
		for (qi = 1; qi <= qn; qi++) {
			n = split(deps[queue[qi]], d, ",")
			for (i = 1; i <= n; i++) {
				m = split(d[i], alt, "|")
				for (j = 1; j <= m; j++) {
					a = clean(alt[j]); if (a == "") continue
					k = split((a in inst ? a : "") prov[a], cand, " ")
					for (c = 1; c <= k; c++) if (cand[c] != "" && !(cand[c] in seen)) { seen[cand[c]] = 1; queue[++qn] = cand[c] }
				}
			}
		}
		for (p in seen) print "ALLOWED\t" p
	}' "$tmp/db" >"$tmp/allowed.raw"
failed=0
while IFS=$'\t' read -r _ p; do
	hd_log "FAIL: $p is in deploy/local/packages.txt but not installed (run deploy/local/bootstrap.sh)"
	failed=1
done < <(grep '^NOT-INSTALLED' "$tmp/allowed.raw" || true)
grep '^ALLOWED' "$tmp/allowed.raw" | cut -f2 | sort -u >"$tmp/allowed"

# A file is fine when any package that owns it is allowed.
awk -F'\t' -v allowed="$tmp/allowed" '
	BEGIN { while ((getline p < allowed) > 0) ok[p] = 1 }
	{ files[$1] = files[$1] " " $2; if ($2 in ok) good[$1] = 1 }
	END { for (f in files) if (!(f in good)) { split(files[f], o, " "); print o[1] "\t" f } }
' "$tmp/owned" | sort >"$tmp/missing"

if [[ -s $tmp/missing ]]; then
	failed=1
	while IFS= read -r p; do
		n=$(awk -F'\t' -v p="$p" '$1 == p' "$tmp/missing" | wc -l)
		first=$(awk -F'\t' -v p="$p" '$1 == p { print $2; exit }' "$tmp/missing")
		hd_log "FAIL: missing package $p: the build uses $first$( ((n > 1)) && printf ' and %d more file(s)' $((n - 1))), but bootstrap does not install it; add $p to [core] in deploy/local/packages.txt (and the Dockerfile's build stage)"
	done < <(cut -f1 "$tmp/missing" | sort -u)
fi
while IFS= read -r f; do
	hd_log "FAIL: $f is used by the build but belongs to no Debian package (installed by hand?)"
	failed=1
done <"$tmp/unowned"

# --- npm: lockfiles only --------------------------------------------------------
while IFS= read -r pj; do
	d=$(dirname "$pj")
	if [[ ! -f $d/package-lock.json ]]; then
		hd_log "FAIL: ${d#"$root"/} has package.json but no package-lock.json (npm ci needs it)"
		failed=1
	fi
done < <(find "$root/web" "$root/tests" -name node_modules -prune -o -name package.json -print)

hd_log "checked $(wc -l <"$tmp/headers") headers and $(wc -l <"$tmp/libraries") shared libraries against $(wc -l <"$tmp/allowed") packages ($(wc -l <"$tmp/roots") in [core] with their dependencies)"
if ((failed)); then
	hd_log "packaging check FAILED"
	exit 1
fi
hd_log "ok: every header and library comes from a package bootstrap installs"
