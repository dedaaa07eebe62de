#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Profiles pcopy on the benchmark corpora: where its time goes (parent, workers, kernel).
#
#   tests/bench/profile.sh [-j N] [-p PCOPY_OPTIONS] [-w tmpfs|disk] [-r RUNS] [-F HZ] [-n TOP] [-c] CORPUS...
#   CORPUS: small kernel large (from shared/bench/corpus.sh), or a directory
#   -p: more pcopy options, e.g. -p --no-verify; -r: profiled runs summed (default 3);
#   -F: samples a second (default 1999); -n: rows per table (default 15); -c: callgrind
#
# Environment:
#   BENCH_DIR  where the corpora live on disk (default /var/tmp/pcopy-bench).
#   TMPFS_DIR  tmpfs dir (default /dev/shm/pcopy-bench); the corpus is copied there once,
#              with the same marker as compare.sh, so both scripts share the copy.
#   PCOPY      pcopy binary (default: REPO/pcopy; the build has -g, which is all it needs).
#
# With perf (`perf stat -e cpu-clock true` works: a software clock, so it works in VMs
# without hardware counters), RUNS runs are recorded after an unprofiled warm-up run
# and their samples summed (one run varies too much on a shared 2-core machine):
#   perf record -e cpu-clock -F HZ --call-graph dwarf -- pcopy -jN -q SRC DST
# and the samples are summed up by the process that took them (pcopy's parent, which
# walks and dispatches, or a worker, which copies) and by user or kernel mode:
#   - CPU seconds per role and mode, how busy each role was over the wall time, and
#     each worker's CPU seconds (does a single big file keep every worker busy?);
#   - the functions with the most self time (user and kernel);
#   - pcopy's own functions, inclusive (from the DWARF call chains);
#   - kernel time by system call (the __x64_sys_* or __do_sys_* frame of each kernel
#     sample), with the pcopy function that made the call most often.
# Without perf (or with -c), valgrind --tool=callgrind follows the workers too
# (--trace-children) and callgrind_annotate prints each process's top functions; it
# counts instructions in user space only and runs some 50 times slower.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=tests/bench/lib.sh
. "$here/lib.sh"

jobs=2
popts=
where=tmpfs
hz=1999
runs=3
top=15
use_callgrind=0
bench_dir=${BENCH_DIR:-/var/tmp/pcopy-bench}
tmpfs_dir=${TMPFS_DIR:-/dev/shm/pcopy-bench}

work=   # private dir: pcopy snapshot, perf data, reports
dests=() # destination dirs to remove at exit

cleanup() {
	local d
	for d in "${dests[@]}"; do rm -rf -- "$d"; done
	[ -z "$work" ] || rm -rf -- "$work"
}

parse_args() {
	local opt
	while getopts 'j:p:w:r:F:n:ch' opt; do
		case $opt in
		j) jobs=$OPTARG ;;
		p) popts=$OPTARG ;;
		w) where=$OPTARG ;;
		r) runs=$OPTARG ;;
		F) hz=$OPTARG ;;
		n) top=$OPTARG ;;
		c) use_callgrind=1 ;;
		*) usage ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# -gt 0 ] || usage
	local v
	for v in "$jobs" "$runs" "$hz" "$top"; do
		[[ $v =~ ^[1-9][0-9]*$ ]] || die "-j, -r, -F and -n want positive numbers, not '$v'"
	done
	case $where in tmpfs | disk) ;; *) die "-w wants tmpfs or disk, not '$where'" ;; esac
	corpora=("$@")
}

# Same snapshot as compare.sh: a rebuild during the run does not change what is measured.
snapshot_pcopy() {
	local bin=${PCOPY:-$repo/pcopy}
	[ -x "$bin" ] || die "no pcopy binary at $bin (run make in $repo, or set PCOPY)"
	cp -- "$bin" "$work/pcopy"
	pcopy_bin=$work/pcopy
	pcopy_info=$(build_info "$pcopy_bin" "$repo")
}

choose_profiler() {
	if [ "$use_callgrind" = 0 ] && command -v perf >/dev/null &&
		perf stat -e cpu-clock -- true >/dev/null 2>&1; then
		profiler=perf
		return 0
	fi
	[ "$use_callgrind" = 1 ] || note "perf is missing or cannot count cpu-clock here; using callgrind"
	if ! command -v valgrind >/dev/null || ! command -v callgrind_annotate >/dev/null; then
		die "neither a working perf nor valgrind (apt-get install linux-perf valgrind)"
	fi
	profiler=callgrind
}

# Sets src and dst for corpus (or directory) $1.
locate() {
	local name=$1
	if [ -d "$name" ]; then
		src=$(realpath -- "$name")
		name=$(basename -- "$src")
	elif [ "$where" = disk ]; then
		src=$bench_dir/$name
	else
		src=$tmpfs_dir/$name
		local marker=$tmpfs_dir/.$name.complete
		if ! [ -e "$marker" ] || [ "$bench_dir/.$name.complete" -nt "$marker" ]; then
			[ -d "$bench_dir/$name" ] || die "no corpus $name in $bench_dir (run shared/bench/corpus.sh)"
			note "copying corpus $name to $src (cp -a, once)"
			mkdir -p -- "$tmpfs_dir"
			rm -rf -- "$src" "$marker"
			cp -a -- "$bench_dir/$name" "$src"
			touch -- "$marker"
		fi
	fi
	[ -d "$src" ] || die "no corpus $name at $src (run shared/bench/corpus.sh, or name a directory)"
	local root
	if [ "$where" = disk ] && ! [ -d "$1" ]; then root=$bench_dir; else root=$tmpfs_dir; fi
	dst=$root/.profile-dst.$$
	dests+=("$dst")
	local at="on $where"
	[ ! -d "$1" ] || at="copied to $where"
	title="$name $at ($(find "$src" ! -type d | wc -l) files, $(du -sh --apparent-size "$src" | cut -f1); $src)"
}

# The command being profiled, in argv[].
pcopy_argv() {
	local extra=()
	[ -z "$popts" ] || read -r -a extra <<<"$popts"
	argv=("$pcopy_bin" -j"$jobs" -q "${extra[@]}" -- "$src" "$dst")
}

timed() { # runs argv[] into a fresh $dst; seconds in $elapsed
	local t0 t1
	rm -rf -- "$dst"
	t0=${EPOCHREALTIME//[!0-9]/}
	"$@" >/dev/null
	t1=${EPOCHREALTIME//[!0-9]/}
	elapsed=$(awk -v us=$((t1 - t0)) 'BEGIN { printf "%.3f", us / 1e6 }')
}

# ---- perf -----------------------------------------------------------------------------

# perf script's samples -> tab-separated records:
#   role <role> <mode>              one per sample
#   self <role> <mode> <sym> <dso>  the leaf frame
#   incl <role> <sym>               each pcopy function on the chain, once a sample
#   sys  <role> <syscall> <caller>  kernel samples: the system call, the pcopy caller
summarise_perf() {
	awk -v bin="$(basename -- "$pcopy_bin")" '
		function flush(   i, j, role, mode, call, caller, seen, s) {
			if (n == 0) return
			# An inlined function is listed before the real frame at the same address;
			# it belongs to that frame'"'"'s binary.
			for (i = n - 1; i >= 1; i--)
				if (dso[i] == "inlined" && addr[i] == addr[i + 1]) dso[i] = dso[i + 1]
			role = (pid == parent ? "parent" : "workers")
			mode = (dso[1] == "[kernel.kallsyms]" ? "kernel" : "user")
			print "role\t" role "\t" mode
			if (role == "workers") print "wpid\t" pid
			print "self\t" role "\t" mode "\t" sym[1] "\t" dso[1]
			call = ""; caller = "-"
			for (i = 1; i <= n; i++) {
				s = sym[i]
				if (call == "" && s ~ /^__(x64_|ia32_|do_|se_)sys_/) { call = s; sub(/^__(x64_|ia32_|do_|se_)sys_/, "", call) }
				if (dso[i] ~ ("/" bin "$") && !(s in seen)) {
					seen[s] = 1
					print "incl\t" role "\t" s
					if (caller == "-") caller = s
				}
			}
			if (mode == "kernel") {
				if (call == "") {
					# Sampled on the way into or out of a call: name the libc wrapper.
					for (i = 1; i <= n && call == ""; i++)
						if (sym[i] ~ /^(do_syscall_64|entry_SYSCALL|syscall_exit)/)
							for (j = i + 1; j <= n && call == ""; j++)
								if (dso[j] != "[kernel.kallsyms]") call = "(entry/exit) " sym[j]
				}
				if (call == "") {
					call = "(no system call: "
					for (i = 1; i <= n; i++) {
						if (sym[i] ~ /page_fault/) { call = call "page fault)"; break }
						if (sym[i] ~ /irq|apic|softirq/) { call = call "interrupt)"; break }
						if (sym[i] ~ /schedule|ret_from_fork|exit_to_user/) { call = call "scheduling, exit)"; break }
					}
					if (call !~ /\)$/) call = call "other)"
				}
				print "sys\t" role "\t" call "\t" caller
			}
			n = 0
		}
		/PERF_RECORD_COMM exec:/ {
			if (parent == "") { p = $0; sub(/.*:/, "", p); sub(/\/.*/, "", p); parent = p }
			next
		}
		/PERF_RECORD/ { next }
		/^[^ \t]/ { flush(); pid = $2; sub(/\/.*/, "", pid); next }
		/^[ \t]+[0-9a-f]+ / {
			n++
			addr[n] = $1
			d = $NF; gsub(/^\(|\)$/, "", d); dso[n] = d
			s = $0; sub(/^[ \t]+[0-9a-f]+ /, "", s); sub(/ \([^()]*\)$/, "", s); sub(/\+0x[0-9a-f]+$/, "", s)
			sym[n] = s
			next
		}
		/^$/ { flush() }
		END { flush() }
	'
}

# The first $1 lines of stdin. Unlike head, it reads to the end: head leaving early would
# kill sort with SIGPIPE, which pipefail turns into a failure that set -e exits on.
first_n() { awk -v n="$1" 'NR <= n'; }

percent() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%5.1f%%", b ? 100 * a / b : 0 }'; }
cpu_s() { awk -v n="$1" -v hz="$hz" 'BEGIN { printf "%.2f", n / hz }'; }

report_perf() {
	local recs=$1 wall=$2 plain=$3 total role mode n p w
	total=$(grep -c '^role' "$recs" || true)
	[ "$total" -gt 0 ] || die "perf recorded no samples"
	echo "== $title =="
	echo "command: pcopy -j$jobs -q${popts:+ $popts} SRC DST; wall $plain s unprofiled, $wall s under perf (both: the sum over $runs runs); $total samples at $hz Hz (cpu-clock)"
	echo
	echo "CPU time by process and mode (cpu s: summed over the runs; busy: CPU seconds / wall seconds"
	echo "under perf, the CPUs that role kept busy on average, out of $(nproc))"
	printf '  %-8s %8s %8s %8s %8s %7s\n' role user kernel total "cpu s" busy
	for role in parent workers all; do
		local u k
		if [ "$role" = all ]; then
			u=$(grep -c $'^role\t[a-z]*\tuser$' "$recs" || true)
			k=$(grep -c $'^role\t[a-z]*\tkernel$' "$recs" || true)
		else
			u=$(grep -c $'^role\t'"$role"$'\tuser$' "$recs" || true)
			k=$(grep -c $'^role\t'"$role"$'\tkernel$' "$recs" || true)
		fi
		n=$((u + k))
		printf '  %-8s %8s %8s %8s %8s %7s\n' "$role" "$(percent "$u" "$total")" "$(percent "$k" "$total")" \
			"$(percent "$n" "$total")" "$(cpu_s "$n")" "$(awk -v n="$n" -v hz="$hz" -v w="$wall" 'BEGIN { printf "%.2f", n / hz / w }')"
	done
	# How the work was shared: one figure per worker process (a run that uses one worker
	# for a big file shows one large figure and idle others).
	echo "  per worker: $(awk -F '\t' '$1 == "wpid" { c[$2]++ } END { for (p in c) print c[p] }' "$recs" |
		sort -rn | awk -v hz="$hz" '{ printf "%s%.2f", (NR > 1 ? " " : ""), $1 / hz }') cpu s (each worker process, largest first)"
	echo
	echo "top functions, self time (share of all samples)"
	awk -F '\t' '$1 == "self" { c[$2 "\t" $3 "\t" $4 "\t" $5]++ } END { for (k in c) print c[k] "\t" k }' "$recs" |
		sort -t $'\t' -k1,1nr | first_n "$top" |
		while IFS=$'\t' read -r n role mode p w; do
			printf '  %s  %-7s %-6s %s (%s)\n' "$(percent "$n" "$total")" "$role" "$mode" "$p" "${w##*/}"
		done
	echo
	# Functions on (nearly) every chain of their role, such as main and the worker loop,
	# say nothing; they are listed on one line.
	local chain
	chain=$(awk -F '\t' '$1 == "role" { r[$2]++ } $1 == "incl" { c[$2 "\t" $3]++ }
		END { for (k in c) { split(k, f, "\t"); if (c[k] >= 0.97 * r[f[1]]) print f[1] ":" f[2] } }' "$recs" | sort | tr '\n' ' ')
	echo "pcopy functions, inclusive (samples whose call chain holds them; DWARF unwinding)"
	echo "  on every chain: ${chain:-none}"
	awk -F '\t' '$1 == "role" { r[$2]++ } $1 == "incl" { c[$2 "\t" $3]++ }
		END { for (k in c) { split(k, f, "\t"); if (c[k] < 0.97 * r[f[1]]) print c[k] "\t" k } }' "$recs" |
		sort -t $'\t' -k1,1nr | first_n "$top" |
		while IFS=$'\t' read -r n role p; do
			printf '  %s  %-7s %s\n' "$(percent "$n" "$total")" "$role" "$p"
		done
	echo
	echo "kernel time by system call (share of all samples), and the pcopy function calling it most"
	awk -F '\t' '$1 == "sys" { c[$2 "\t" $3]++; by[$2 "\t" $3 "\t" $4]++ }
		END {
			for (k in by) { split(k, f, "\t"); key = f[1] "\t" f[2]
				if (by[k] > best[key]) { best[key] = by[k]; who[key] = f[3] } }
			for (k in c) print c[k] "\t" k "\t" who[k] "\t" best[k]
		}' "$recs" |
		sort -t $'\t' -k1,1nr | first_n "$top" |
		while IFS=$'\t' read -r n role p w m; do
			printf '  %s  %-7s %-34s from %s (%s of its samples)\n' "$(percent "$n" "$total")" "$role" "$p" "$w" "$(percent "$m" "$n" | tr -d ' ')"
		done
	echo
}

profile_perf() {
	local data=$work/perf.data recs=$work/perf.recs plain=0 wall=0 argv i
	pcopy_argv
	timed "${argv[@]}" # warm-up: the page cache
	: >"$recs"
	for ((i = 1; i <= runs; i++)); do
		timed "${argv[@]}"
		plain=$(awk -v a="$plain" -v b="$elapsed" 'BEGIN { printf "%.3f", a + b }')
		timed perf record -q -e cpu-clock -F "$hz" --call-graph dwarf,16384 -o "$data" -- "${argv[@]}"
		wall=$(awk -v a="$wall" -v b="$elapsed" 'BEGIN { printf "%.3f", a + b }')
		note "$title: run $i/$runs, ${elapsed}s under perf"
		# Each run on its own: summarise_perf takes the run's first exec as the parent.
		perf script -i "$data" --show-task-events -F comm,pid,tid,time,event,ip,sym,dso 2>/dev/null |
			summarise_perf >>"$recs"
	done
	rm -rf -- "$dst"
	report_perf "$recs" "$wall" "$plain"
	rm -f -- "$data" "$recs"
}

# ---- callgrind ------------------------------------------------------------------------

profile_callgrind() {
	local argv f pid first=
	pcopy_argv
	timed "${argv[@]}"
	rm -f -- "$work"/callgrind.*
	timed valgrind -q --tool=callgrind --trace-children=yes \
		--callgrind-out-file="$work/callgrind.%p" -- "${argv[@]}"
	rm -rf -- "$dst"
	echo "== $title =="
	echo "command: pcopy -j$jobs -q${popts:+ $popts} SRC DST under callgrind ($elapsed s); user-space instructions only;"
	echo "a worker's counts include what the parent ran before forking it (start-up, the dynamic loader)"
	# The parent is the process that started first, so it has the lowest pid (barring
	# pid wrap-around); every other file is a worker.
	for f in $(find "$work" -name 'callgrind.*' -printf '%f\n' | sort -t . -k2,2n); do
		pid=${f##*.}
		if [ -z "$first" ]; then first=$pid; echo "-- parent (pid $pid) --"; else echo "-- worker (pid $pid) --"; fi
		# The totals line, then the function table (after its "file:function" heading).
		callgrind_annotate --inclusive=no "$work/$f" 2>/dev/null | awk -v top="$top" '
			/PROGRAM TOTALS/ { print "  " $0 }
			/file:function/ { table = 1; next }
			table && /^-+$/ { next }
			table && NF && n++ < top { print "  " $0 }'
	done
	echo
}

main() {
	parse_args "$@"
	work=$(mktemp -d "${TMPDIR:-/tmp}/pcopy-profile.XXXXXX")
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	snapshot_pcopy
	choose_profiler
	echo "date:     $(date '+%Y-%m-%d %H:%M:%S %z')"
	echo "host:     nproc $(nproc), kernel $(uname -r); $(if [ "$profiler" = perf ]; then perf --version; else valgrind --version; fi)"
	echo "pcopy:    $pcopy_info"
	echo
	local c
	for c in "${corpora[@]}"; do
		locate "$c"
		"profile_$profiler"
	done
}

main "$@"
