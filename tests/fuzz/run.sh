#!/usr/bin/env bash
# run.sh BINARY NAME MODE WORKDIR: runs one libFuzzer harness.
#   MODE smoke: FUZZ_SMOKE_SECONDS (default 10) from the seed corpus, new
#               inputs kept in WORKDIR only (ctest's fuzz.<name>.smoke);
#   MODE fuzz:  FUZZ_SECONDS (default 60), corpus kept in WORKDIR/corpus
#               across runs (make fuzz), final stats appended to
#               WORKDIR/stats.log (seconds it really ran, executions,
#               coverage in edges, exit status, CPU seconds the
#               fuzzer used: under `nice` on a busy machine that is less
#               than the seconds it ran).
# A crash leaves its input in WORKDIR/crashes/ and fails the run.
set -euo pipefail
bin=$1 name=$2 mode=$3 work=$4
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
seeds=$here/corpus/$name
case $mode in
smoke) secs=${FUZZ_SMOKE_SECONDS:-10} ;;
fuzz) secs=${FUZZ_SECONDS:-60} ;;
*) echo "run.sh: mode is smoke or fuzz" >&2; exit 2 ;;
esac
corpus=$work/corpus/$name
[[ $mode == smoke ]] && corpus=$work/smoke/$name && rm -rf "$corpus"
mkdir -p "$corpus" "$work/crashes"
args=(-max_total_time="$secs" -print_final_stats=1 -timeout=25 -rss_limit_mb=4096 -max_len=200000
	-close_fd_mask=3 -artifact_prefix="$work/crashes/$name-")
# Dictionaries: dict/<name>.dict, else the protobuf tags for the
# harnesses whose input is protobuf (ws_frame, *_rpc).
dict=$here/dict/$name.dict
[[ -f $dict || ! ( $name == ws_frame || $name == *_rpc ) ]] || dict=$here/dict/protobuf.dict
[[ -f $dict ]] && args+=(-dict="$dict")
[[ -d $seeds ]] || seeds=
log=$work/$name.$mode.log
# CPU seconds (user + system) of this shell's children so far, from bash's
# `times` run in this shell (in a subshell it would see none of them).
cpu_file=$work/$name.$mode.cpu
child_cpu() { awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%d", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$cpu_file"; }
set +e
start=$SECONDS
times >"$cpu_file"
cpu0=$(child_cpu)
"$bin" "${args[@]}" "$corpus" ${seeds:+"$seeds"} >"$log" 2>&1
rv=$?
took=$((SECONDS - start))
times >"$cpu_file"
cpu=$(($(child_cpu) - cpu0))
set -e
# libFuzzer's final stats: executions, coverage (edges), time.
runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log" | tail -1)
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}')
echo "fuzz $name ($mode): ${took}s (${cpu} CPU s), ${runs:-?} executions, cov ${cov:-?} edges, exit $rv"
if [[ $mode == fuzz ]]; then
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$name" "$took" "${runs:-0}" "${cov:-0}" "$rv" "$cpu" >>"$work/stats.log"
fi
if ((rv != 0)); then
	tail -60 "$log"
	exit "$rv"
fi
