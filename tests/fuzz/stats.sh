#!/usr/bin/env bash
# stats.sh [STATS_LOG]: sums the runs in build-fuzz/work/stats.log (one line
# per `make fuzz` run of a harness: time, harness, seconds, executions,
# coverage, exit status, CPU seconds) into a Markdown table per harness:
# runs, fuzz time, CPU time, executions, highest coverage (edges), runs that
# ended in a crash (exit 72, libFuzzer interrupted by a signal, is not one). Lines without the CPU column (older runs) count their
# wall time as CPU time (they ran un-niced, one process per harness).
set -euo pipefail
log=${1:-build-fuzz/work/stats.log}
[[ -f $log ]] || { echo "stats.sh: no $log (run make fuzz first)" >&2; exit 1; }
echo "| harness | runs | fuzz time (s) | CPU time (s) | executions | coverage (edges) | runs ending in a crash |"
echo "|---|---|---|---|---|---|---|"
awk -F'\t' '{ n[$2]++; t[$2] += $3; u[$2] += (NF >= 7 ? $7 : $3); e[$2] += $4; if ($5 > c[$2]) c[$2] = $5; if ($6 != 0 && $6 != 72) x[$2]++ }
	END { for (h in n) printf "| %s | %d | %d | %d | %d | %d | %d |\n", h, n[h], t[h], u[h], e[h], c[h], x[h] }' "$log" | sort
