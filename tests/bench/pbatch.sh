#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Times pbatch against xargs -P and GNU parallel on a batch of no-op commands.
#
#   tests/bench/pbatch.sh [-n JOBS] [-r REPS]     (defaults: -n 5000 -r 3)
#
# Environment:
#   PBATCH  pbatch binary to time (default: REPO/pbatch, i.e. $(dirname "$0")/../../pbatch).
#
# Every job is the command `true`, so the times are the tools' own cost of starting,
# running and reaping one `/bin/sh -c` per line, not the work the commands do. Each
# tool runs REPS times, interleaved round-robin; the table shows the median and the
# minimum wall time, the median divided by JOBS (per-job overhead), and ratios of
# medians to xargs and to parallel. Commands timed, all on two slots:
#
#   pbatch -q -j2 FILE >/dev/null
#   xargs -P2 -I{} sh -c {} <FILE >/dev/null
#   parallel -j2 <FILE >/dev/null
#
# GNU parallel is skipped with a note if it is not installed (or if `parallel` is
# another program, such as the one in moreutils). The script exits 0 whether or not
# the targets are met: it reports, it does not gate.
set -euo pipefail
export LC_ALL=C # a '.' decimal point in EPOCHREALTIME, printf and awk

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=tests/bench/lib.sh
. "$here/lib.sh"

jobs=5000
reps=3

# Table labels by tool id; find_tools sets the order. Ratios are taken against
# "xargs" and "parallel".
declare -A label=(
	[pbatch]="pbatch -q -j2"
	[xargs]="xargs -P2 -I{} sh -c {}"
	[parallel]="parallel -j2"
)
tools=()         # the tools actually available, filled by find_tools
notes=()         # lines printed under the table (skipped tools and the like)
declare -A times # tool -> space-separated seconds, one per rep

work= # private temp dir: pbatch snapshot, job files, logs

# ---- helpers --------------------------------------------------------------------------

cleanup() { [ -z "$work" ] || rm -rf -- "$work"; }

# ---- setup ----------------------------------------------------------------------------

parse_args() {
	local opt
	while getopts 'n:r:h' opt; do
		case $opt in
		n) jobs=$OPTARG ;;
		r) reps=$OPTARG ;;
		*) usage ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# -eq 0 ] || usage
	[[ $jobs =~ ^[1-9][0-9]*$ ]] || die "-n wants a positive number, not '$jobs'"
	[[ $reps =~ ^[1-9][0-9]*$ ]] || die "-r wants a positive number, not '$reps'"
}

# Someone may rebuild pbatch while the benchmark runs; timing a private copy keeps
# every rep on the same binary as the version and commit printed in the header.
snapshot_pbatch() {
	local bin=${PBATCH:-$(dirname "$0")/../../pbatch}
	[ -x "$bin" ] || die "no pbatch binary at $bin (run make in $repo, or set PBATCH)"
	cp -- "$bin" "$work/pbatch"
	pbatch_bin=$work/pbatch
	pbatch_info=$(build_info "$pbatch_bin" "$repo")
}

# pbatch and xargs are required; parallel is optional. Only GNU parallel counts: the
# moreutils `parallel` takes different arguments and would measure something else.
find_tools() {
	command -v xargs >/dev/null || die "xargs is not installed"
	tools=(pbatch xargs)
	if ! command -v parallel >/dev/null; then
		notes+=("parallel: skipped, GNU parallel is not installed")
		note "skipping parallel: not installed"
	elif ! parallel --version 2>/dev/null | head -n 1 | grep -q '^GNU parallel'; then
		notes+=("parallel: skipped, $(command -v parallel) is not GNU parallel")
		note "skipping parallel: $(command -v parallel) is not GNU parallel"
	else
		tools+=(parallel)
	fi
}

# Writes $2 lines of command $1 to file $3. awk rather than `yes | head`, which
# pipefail would turn into a failure when head closes the pipe on yes.
make_jobs() { awk -v cmd="$1" -v n="$2" 'BEGIN { for (i = 1; i <= n; i++) print cmd }' >"$3"; }

# ---- running and checking -------------------------------------------------------------

# Runs one tool on job file $2. Standard output goes to the caller's redirection.
run_tool() {
	local id=$1 file=$2
	case $id in
	pbatch) "$pbatch_bin" -q -j2 "$file" ;;
	xargs) xargs -P2 -I{} sh -c {} <"$file" ;;
	# --will-cite would skip the citation notice, but that notice is only printed to a
	# terminal, so the plain command line is what a user gets and what is timed.
	parallel) parallel -j2 <"$file" ;;
	esac
}

# A tool that dropped or mangled lines would look fast, so before timing anything each
# tool runs `echo N` for N = 1..50 and must print exactly those numbers (in any order).
check_tool() {
	local id=$1 check=$work/check.jobs out=$work/check.out
	awk 'BEGIN { for (i = 1; i <= 50; i++) print "echo " i }' >"$check"
	if ! run_tool "$id" "$check" >"$out" 2>"$work/check.err"; then
		cat "$work/check.err" >&2
		die "${label[$id]} failed on the check batch"
	fi
	if ! diff <(seq 1 50) <(sort -n "$out") >"$work/check.diff"; then
		head -n 20 "$work/check.diff" >&2
		die "${label[$id]} did not run every line of the check batch exactly once"
	fi
}

# Times one run of tool $1 on job file $2; the seconds go to $elapsed.
timed_run() {
	local id=$1 file=$2 t0 t1 log=$work/run.log
	# EPOCHREALTIME without its decimal point is an integer count of microseconds;
	# reading it directly (no subshell) keeps fork time out of the measurement.
	t0=${EPOCHREALTIME//[!0-9]/}
	if ! run_tool "$id" "$file" >/dev/null 2>"$log"; then
		cat "$log" >&2
		die "${label[$id]} failed on $file"
	fi
	t1=${EPOCHREALTIME//[!0-9]/}
	elapsed=$(awk -v us=$((t1 - t0)) 'BEGIN { printf "%.3f", us / 1e6 }')
}

# One run of each tool on a single job: mostly start-up and exit cost. Shown under the
# table so that a reader can tell GNU parallel's fixed start-up (a large Perl program)
# from its per-job cost; it is not a median, just one run each.
measure_startup() {
	local id one=$work/one.jobs parts=()
	make_jobs true 1 "$one"
	for id in "${tools[@]}"; do
		timed_run "$id" "$one"
		parts+=("$id ${elapsed}s")
	done
	startup_line=$(
		IFS=,
		echo "${parts[*]}"
	)
	startup_line=${startup_line//,/, }
}

# Runs every tool $reps times on the job file.
bench() {
	local file=$1 rep i n=${#tools[@]} id
	for ((rep = 1; rep <= reps; rep++)); do
		# Round-robin, starting one tool later on each rep, so that drift (thermal,
		# other load on the machine) spreads evenly over the tools.
		for ((i = 0; i < n; i++)); do
			id=${tools[$(((i + rep - 1) % n))]}
			timed_run "$id" "$file"
			times[$id]+="$elapsed "
			note "rep $rep/$reps: ${label[$id]} ${elapsed}s"
		done
	done
}

# ---- report ---------------------------------------------------------------------------

per_job_us() { awk -v s="$1" -v n="$jobs" 'BEGIN { printf "%.0f", s * 1e6 / n }'; }

print_header() {
	local sh_target
	sh_target=$(readlink -f /bin/sh 2>/dev/null || echo /bin/sh)
	echo "date:     $(date '+%Y-%m-%d %H:%M:%S %z')"
	echo "host:     nproc $(nproc), kernel $(uname -r), /bin/sh -> $sh_target"
	echo "pbatch:   $pbatch_info"
	echo "tools:    $(version_of parallel); $(version_of xargs)"
	echo "method:   $jobs jobs of \`true\`, $reps reps per tool, interleaved round-robin; wall time, 2 slots each"
	echo
}

print_table() {
	local id med min xa_med pa_med pb_med
	local -A m=() lo=()
	for id in "${tools[@]}"; do
		read -r med min < <(stats "${times[$id]}")
		m[$id]=$med lo[$id]=$min
	done
	xa_med=${m[xargs]:-} pa_med=${m[parallel]:-} pb_med=${m[pbatch]}

	printf '%-26s %9s %9s %8s %7s %10s  %s\n' tool "median s" "min s" "us/job" "/xargs" "/parallel" "runs (s)"
	for id in "${tools[@]}"; do
		printf '%-26s %9s %9s %8s %7s %10s  %s\n' "${label[$id]}" "${m[$id]}" "${lo[$id]}" \
			"$(per_job_us "${m[$id]}")" "$(ratio "${m[$id]}" "$xa_med")" \
			"$(ratio "${m[$id]}" "$pa_med")" "${times[$id]% }"
	done
	echo

	# Targets: pbatch's median at most 1.2x xargs's, and parallel's median at least
	# 5x pbatch's. "n/a" when parallel was skipped rather than a PASS nobody measured.
	local vs_x vs_p res_x res_p
	vs_x=$(ratio "$pb_med" "$xa_med")
	res_x=$(awk -v r="$vs_x" 'BEGIN { print (r <= 1.2 ? "PASS" : "MISS") }')
	if [ -n "$pa_med" ]; then
		vs_p=$(ratio "$pa_med" "$pb_med")
		res_p=$(awk -v a="$pa_med" -v b="$pb_med" 'BEGIN { print (a >= 5 * b ? "PASS" : "MISS") }')
		res_p="$res_p (parallel/pbatch ${vs_p}x)"
	else
		res_p="n/a (parallel not measured)"
	fi
	echo "target: pbatch <= 1.2x xargs and >= 5x faster than parallel: $res_x (pbatch/xargs ${vs_x}x), $res_p"
	echo

	echo "notes:"
	echo "  xargs runs \`sh -c LINE\` per line (-I{} makes one command per input line), the"
	echo "    closest match to pbatch's \`/bin/sh -c LINE\`; its output is not grouped per job."
	echo "  parallel is GNU parallel with its defaults (grouped output, one shell per job);"
	echo "    it is a Perl program and slow to start, and that start-up is part of what is"
	echo "    measured, as it is part of what a user waits for."
	echo "  start-up, one \`true\` job, one run each: $startup_line"
	local n
	for n in "${notes[@]}"; do echo "  $n"; done
}

# ---- main -----------------------------------------------------------------------------

main() {
	parse_args "$@"
	work=$(mktemp -d "${TMPDIR:-/tmp}/pbatch-bench.XXXXXX")
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	snapshot_pbatch
	find_tools

	local id file=$work/true.jobs
	for id in "${tools[@]}"; do check_tool "$id"; done
	make_jobs true "$jobs" "$file"

	print_header
	measure_startup
	bench "$file"
	print_table
}

main "$@"
