#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Times pcopy against cp -a, rsync -a, rsync -a -H, a tar pipe and mpifileutils' dcp and dsync.
#
#   tests/bench/compare.sh [-r REPS] [-w disk|tmpfs|both] [-t TOOL,...] [-J "J..." | -R]
#                          [-o OUTFILE] [-T TSVFILE] [-p PLOTDIR] CORPUS...
#   CORPUS: kernel small large sparse (built by shared/bench/corpus.sh if missing)
#   -t: only these tools (ids: pcopy pcopy_base pcopy_nv pcopy_nx pcopy_rules cp cp_sum
#       rsync rsync_h rsync_ax tar dcp dsync); pcopy_rules is pcopy with the 20 rules of rules20.txt (a rule
#       set's cost) and dsync, a first sync into an empty destination: only when named here
#   -J: the -j curve instead: pcopy (verified) at each -j in the list, and cp -a
#   -R: no-change re-runs instead: each tool that can update a copy (pcopy pcopy_base
#       pcopy_nv pcopy_nx rsync rsync_h rsync_ax dsync) copies once, untimed, then is timed
#       re-running onto its own finished copy; ratios against rsync -a, rsync -a -H and
#       dsync. pcopy_nx (--no-xattrs --no-acls) and rsync_ax (rsync -aHAX) are -R only:
#       pcopy compares xattrs and ACLs on both sides as rsync -aAX does, rsync -a does not
#   -o: also append the tables to OUTFILE as markdown
#   -T: also append every tool's times to TSVFILE, one row each (columns in write_tsv)
#   -p: -T PLOTDIR/bench.tsv, then draw PLOTDIR/*.svg from it with tests/bench/plot.sh
#       (needs gnuplot; without it the TSV is still written)
#
# Environment:
#   BENCH_DIR  where the corpora live on disk (default /var/tmp/pcopy-bench); disk-run
#              destinations go there too, so source and destination share a file system.
#   TMPFS_DIR  tmpfs working dir (default /dev/shm/pcopy-bench); the corpus is copied
#              there once and kept (it is a corpus), destinations are removed at the end.
#              Destinations are under .compare-dst.PID in either, so that two runs of the
#              script at once do not remove each other's copies.
#   COLD=1     drop the page cache before every timed run (needs a writable
#              /proc/sys/vm/drop_caches); default is a warm cache.
#   PCOPY      pcopy binary to time (default: REPO/pcopy).
#   PCOPY_BASE another pcopy binary, timed the same way in the same interleaved run
#              ("pcopy base" column): before/after figures of a change. Left out unset.
#   DCP, DSYNC mpifileutils' dcp and dsync (default: on PATH, or each beside the other);
#              run as `MPIRUN --allow-run-as-root --oversubscribe -np 2 dcp --preserve`
#              and `... dsync`. Neither verifies: their labels say "unverified".
#   MPIRUN     the Open MPI launcher for them (default: mpirun on PATH).
#   CORPUS_SH  corpus builder, used if ../../../shared/bench/corpus.sh is not there.
#   INODE_WAIT seconds between deleting copies and timing disk runs on an ext4 without
#              a journal (default 365; see wait_inode_reuse).
#
# Each tool runs REPS times, interleaved round-robin, and every tool's first run is
# checked against the source (diff -r, or cmp per file for large/sparse); a wrong copy
# aborts the benchmark. Times are wall-clock seconds of the copy command alone: the
# rm -rf of the old destination and the sync before each run are outside the timing,
# and no sync is timed after it (dirty data is flushed by the next run's sync).
# On ext4 without a journal, disk runs use fresh destinations instead; see
# wait_inode_reuse for why. Each table gives every tool's median as a ratio of the
# medians of cp -a, rsync -a -H and tar | tar (and, on large, of "cp -a, then
# xxh128sum every copied file"), then the issue #7 targets as PASS or MISS.
set -euo pipefail
export LC_ALL=C # a '.' decimal point in EPOCHREALTIME, printf and awk

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=tests/bench/lib.sh
. "$here/lib.sh"

reps=5
where=both
outfile=
tsvfile=
plotdir=
bench_dir=${BENCH_DIR:-/var/tmp/pcopy-bench}
tmpfs_dir=${TMPFS_DIR:-/dev/shm/pcopy-bench}
cold=${COLD:-0}
inode_wait=${INODE_WAIT:-365}

# Tools in table order: id, label. Ratios are taken against the "baselines" below.
tool_ids=(pcopy pcopy_base pcopy_nv pcopy_rules cp cp_sum rsync rsync_h tar dcp dsync)
declare -A label=(
	[pcopy]="pcopy -j2 (verified)"
	[pcopy_base]="pcopy base (verified)"
	[pcopy_nv]="pcopy -j2 --no-verify"
	[pcopy_rules]="pcopy -j2, 20 rules"
	[cp]="cp -a"
	[cp_sum]="cp -a; xxh128sum copy"
	[rsync]="rsync -a"
	[rsync_h]="rsync -a -H"
	[rsync_ax]="rsync -a -H -A -X"
	[pcopy_nx]="pcopy --no-xattrs --no-acls"
	[tar]="tar | tar"
	[dcp]="dcp -np 2 (unverified)"
	[dsync]="dsync -np 2 (unverified)"
)
# Ratio columns, in order: the tool whose median divides, and the column heading.
baselines=(cp rsync_h tar cp_sum)
declare -A column=([cp]="/cp -a" [rsync_h]="/rsync -aH" [tar]="/tar|tar" [cp_sum]="/cp+xxh")
only_tools=       # -t: comma-separated tool ids to keep
jcurve=           # -J: space-separated -j values; empty for the tool comparison
rerun=0           # -R: 1 to time no-change re-runs instead of first copies
tools=()          # the tools actually available, filled by find_tools
notes=()          # lines printed under every table (skipped tools and why)
declare -A times  # "corpus/where/tool" -> space-separated seconds, one per rep
declare -A large_per_gib # where -> pcopy's seconds per GiB of data on large (for sparse)
ctools=()         # the tools that run on the current corpus (corpus_tools)
load_line=        # what other processes used during the current series (other_load)
targets=()        # the target lines under the current table (target_lines)
series_notes=()   # lines under the current table only (bench_rerun)

work=           # private temp dir (pcopy snapshot, logs)
dests=()        # destination roots to remove at exit
nojournal=0     # 1 if the bench dir is ext2/3/4 without a journal (see wait_inode_reuse)

# ---- helpers --------------------------------------------------------------------------

human() { numfmt --to=iec-i --suffix=B "$1"; }

# Apparent size in bytes (what a tool that does not keep holes would write).
apparent_bytes() { du -s --apparent-size --block-size=1 "$1" | cut -f1; }

# ---- other load on the machine --------------------------------------------------------
# The machine is shared: builds and fuzzers of other people may run at the same time. To
# say how much, cpu_mark records the machine's busy CPU time (/proc/stat, split into
# normal and nice > 0), that of kernel threads (/proc/PID/stat with PF_KTHREAD: writeback
# and page reclaim, much of it done for this benchmark), and this script's own (its
# children's, from the `times` builtin, run in this shell so that it sees them);
# other_load puts what other processes used since into load_line. Neither may run in a
# subshell ($(...)): there `times` would see none of this script's children.

# CPU ticks used so far by the kernel threads that exist now.
kthread_ticks() {
	{ cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk '
		{ sub(/^[0-9]+ \(.*\) /, "") }                      # pid (comm) may hold spaces
		int($7 / 2097152) % 2 == 1 { t += $12 + $13 }        # flags & PF_KTHREAD: utime + stime
		END { printf "%d\n", t }'
}

cpu_mark() {
	local _l _u n s _i _w irq sirq steal
	read -r _l _u n s _i _w irq sirq steal _ </proc/stat
	times >"$work/times" # a builtin: no subshell, so it reports this shell's children
	mark_busy=$((_u + s + irq + sirq + steal)) mark_nice=$n
	mark_kthreads=$(kthread_ticks)
	mark_ours=$(awk 'NR == 2 { print $1, $2 }' "$work/times" | awk '
		function sec(t,   m) { m = t; sub(/m.*/, "", m); sub(/^[0-9]+m/, "", t); sub(/s$/, "", t); return m * 60 + t }
		{ printf "%.3f", sec($1) + sec($2) }')
	mark_time=${EPOCHREALTIME//[!0-9]/}
}

other_load() {
	local busy0=$mark_busy nice0=$mark_nice kt0=$mark_kthreads ours0=$mark_ours t0=$mark_time hz
	hz=$(getconf CLK_TCK)
	cpu_mark
	load_line=$(awk -v b=$((mark_busy - busy0)) -v n=$((mark_nice - nice0)) -v k=$((mark_kthreads - kt0)) \
		-v o="$(awk -v a="$mark_ours" -v b="$ours0" 'BEGIN { print a - b }')" \
		-v us=$((mark_time - t0)) -v hz="$hz" -v cpus="$(nproc)" 'BEGIN {
			w = us / 1e6; other = (b - k) / hz - o; if (other < 0) other = 0
			printf "load: other processes kept about %.2f of %d CPUs busy during this series; kernel threads %.2f (writeback, reclaim: partly for this benchmark); %.2f at nice > 0 (yields to it)\n",
				other / w, cpus, k / hz / w, n / hz / w
		}')
}

mem_available() { awk '/^MemAvailable:/ { printf "%.0f\n", $2 * 1024 }' /proc/meminfo; }

fs_avail() { df --output=avail --block-size=1 "$1" | tail -n 1 | tr -d ' '; }

cleanup() {
	local d
	for d in "${dests[@]}"; do
		[ -e "$d" ] || continue
		note "removing destinations in $d"
		rm -rf -- "$d"
		[[ $d != "$bench_dir"/* ]] || mark_disk_delete
	done
	[ -z "$work" ] || rm -rf -- "$work"
}

# ---- ext4 without a journal -----------------------------------------------------------
# Such a file system (the bench disk here is one) does not hand out a freed inode
# number again for 60 s, or for 360 s while its inode table block is dirty, which it
# becomes as soon as a neighbour inode is allocated (recently_deleted() in
# fs/ext4/ialloc.c), and it re-checks every such inode on each create. A copy started
# soon after rm -rf of an earlier copy nearby spends most of its time in that scan
# (perf: recently_deleted and find_get_block): 20,000 small files took 5-14 s instead
# of 0.6 s with cp -a. Deleting the old destination before every run would make the
# disk numbers measure how long ago the last rm was. So on such a file system each
# disk run gets a fresh destination, all are removed only when the script exits, and
# disk runs start only INODE_WAIT (default 365) seconds after the last deletion the
# script made (a time stamp in BENCH_DIR covers earlier invocations).

detect_nojournal() {
	[ "$(stat -f -c %T "$bench_dir")" = ext2/ext3 ] || return 0
	local dev
	dev=$(df --output=source "$bench_dir" | tail -n 1)
	dev=${dev##*/}
	compgen -G "/proc/fs/jbd2/$dev-*" >/dev/null || nojournal=1
}

mark_disk_delete() { sync; date +%s >"$bench_dir/.compare-last-delete"; }

wait_inode_reuse() {
	[ "$nojournal" = 1 ] && [ -r "$bench_dir/.compare-last-delete" ] || return 0
	# A corpus of a few big files creates a few inodes: nothing to wait for.
	[ "$(find "$src" | head -n 1000 | wc -l)" -ge 1000 ] || return 0
	local left
	left=$(($(cat "$bench_dir/.compare-last-delete") + inode_wait - $(date +%s)))
	[ "$left" -gt 0 ] || return 0
	note "waiting ${left}s until inodes freed by the last delete in $bench_dir are reusable"
	sleep "$left"
}

# ---- setup ----------------------------------------------------------------------------

parse_args() {
	local opt
	while getopts 'r:w:t:J:Ro:T:p:h' opt; do
		case $opt in
		r) reps=$OPTARG ;;
		w) where=$OPTARG ;;
		t) only_tools=$OPTARG ;;
		J) jcurve=$OPTARG ;;
		R) rerun=1 ;;
		o) outfile=$OPTARG ;;
		T) tsvfile=$OPTARG ;;
		p) plotdir=$OPTARG ;;
		*) usage ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# -gt 0 ] || usage
	[[ $reps =~ ^[1-9][0-9]*$ ]] || die "-r wants a positive number, not '$reps'"
	case $where in disk | tmpfs | both) ;; *) die "-w wants disk, tmpfs or both, not '$where'" ;; esac
	local c
	for c; do
		case $c in kernel | small | large | sparse) ;; *) die "unknown corpus '$c' (kernel small large sparse)" ;; esac
	done
	corpora=("$@")
	[ -z "$jcurve" ] || [ "$rerun" = 0 ] || die "-J and -R do not go together"
	[ -z "$jcurve" ] || set_jcurve
	[ "$rerun" = 0 ] || set_rerun
	[ -z "$only_tools" ] || select_tools
	# Make the outfile path absolute: nothing cds, but it keeps messages unambiguous.
	if [ -n "$outfile" ]; then
		outfile=$(realpath -m -- "$outfile")
		touch -- "$outfile" || die "cannot write $outfile"
	fi
	if [ -n "$plotdir" ]; then
		mkdir -p -- "$plotdir" || die "cannot make $plotdir"
		plotdir=$(realpath -- "$plotdir")
		[ -n "$tsvfile" ] || tsvfile=$plotdir/bench.tsv
	fi
	if [ -n "$tsvfile" ]; then
		tsvfile=$(realpath -m -- "$tsvfile")
		touch -- "$tsvfile" || die "cannot write $tsvfile"
	fi
	if [ "$cold" = 1 ] && ! { : >/proc/sys/vm/drop_caches; } 2>/dev/null; then
		# Better to refuse than to label warm-cache numbers as cold.
		die "COLD=1 but /proc/sys/vm/drop_caches is not writable here"
	fi
}

# -J: the tools become pcopy (verified) at each -j, then cp -a; ratios are against cp -a
# and against pcopy at the first -j of the list (a speed-up curve when that is 1).
set_jcurve() {
	local j first=
	tool_ids=()
	for j in $jcurve; do
		[[ $j =~ ^[1-9][0-9]*$ ]] || die "-J wants a list of positive numbers, not '$jcurve'"
		tool_ids+=("pcopy_j$j")
		label[pcopy_j$j]="pcopy -j$j (verified)"
		[ -n "$first" ] || first=$j
	done
	[ -n "$first" ] || die "-J wants at least one -j value"
	tool_ids+=(cp)
	baselines=(cp "pcopy_j$first")
	column[pcopy_j$first]="/-j$first"
}

# -R: the tools that can bring an existing copy up to date, and ratios against rsync -a
# (issue #17's re-run target), rsync -a -H and dsync.
set_rerun() {
	tool_ids=(pcopy pcopy_base pcopy_nv pcopy_nx rsync rsync_h rsync_ax dsync)
	baselines=(rsync rsync_h dsync)
	column[rsync]="/rsync -a" column[dsync]="/dsync"
}

# -t: keep only the listed tools, in table order.
select_tools() {
	local id keep=() want=",$only_tools,"
	for id in ${only_tools//,/ }; do
		[ -n "${label[$id]:-}" ] || die "-t: unknown tool '$id' (${tool_ids[*]})"
	done
	for id in "${tool_ids[@]}"; do
		[[ $want != *",$id,"* ]] || keep+=("$id")
	done
	[ ${#keep[@]} -gt 0 ] || die "-t: none of '$only_tools' is among ${tool_ids[*]}"
	tool_ids=("${keep[@]}")
}

find_corpus_sh() {
	corpus_sh=$here/../../../shared/bench/corpus.sh
	[ -x "$corpus_sh" ] || [ -r "$corpus_sh" ] || corpus_sh=${CORPUS_SH:-}
	if [ -z "$corpus_sh" ] || ! [ -r "$corpus_sh" ]; then
		die "corpus.sh not found at $here/../../../shared/bench/corpus.sh; set CORPUS_SH"
	fi
}

# The lead may rebuild pcopy while a long benchmark runs; timing a private copy keeps
# every rep on the same binary as the version and commit printed in the header.
snapshot_pcopy() {
	local bin=${PCOPY:-$repo/pcopy}
	[ -x "$bin" ] || die "no pcopy binary at $bin (run make in $repo)"
	cp -- "$bin" "$work/pcopy"
	pcopy_bin=$work/pcopy
	pcopy_info=$(build_info "$pcopy_bin" "$repo")
	if [ -n "${PCOPY_BASE:-}" ]; then
		[ -x "$PCOPY_BASE" ] || die "PCOPY_BASE: no pcopy binary at $PCOPY_BASE"
		cp -- "$PCOPY_BASE" "$work/pcopy-base"
		pcopy_base_bin=$work/pcopy-base
	fi
}

find_tools() {
	local id need n
	for id in "${tool_ids[@]}"; do
		case $id in
		pcopy_base) [ -z "${PCOPY_BASE:-}" ] || tools+=(pcopy_base); continue ;;
		pcopy*) need='' ;;
		cp) need='cp' ;;
		cp_sum) need='cp xxh128sum' ;;
		rsync*) need='rsync' ;;
		tar) need='tar' ;;
		dcp) find_mpifu dcp && tools+=(dcp); continue ;;
		dsync)
			# A first sync into an empty destination is dcp's work again: timed only
			# when -t names it, and always under -R.
			[ "$rerun" = 1 ] || [[ ,$only_tools, == *,dsync,* ]] || continue
			find_mpifu dsync && tools+=(dsync)
			continue
			;;
		esac
		n=
		for n in $need; do
			command -v "$n" >/dev/null || break
			n=
		done
		if [ -n "$n" ]; then
			note "skipping ${label[$id]}: $n is not installed"
			notes+=("${label[$id]}: skipped, $n is not installed")
			continue
		fi
		tools+=("$id")
	done
	[ ${#tools[@]} -gt 0 ] || die "none of the tools to time is installed"
}

# mpifileutils' dcp and dsync need an MPI launcher and the libraries libcircle, lwgrp and
# dtcmp. Debian 12 packages Open MPI but none of the other four: they are built from their
# sources (BENCHMARKS.md says how). Sets dcp_bin or dsync_bin and mpirun_bin, or notes
# why tool $1 is left out and fails.
find_mpifu() {
	local id=$1 bin other why=
	case $id in
	dcp) bin=${DCP:-} other=${DSYNC:-} ;;
	dsync) bin=${DSYNC:-} other=${DCP:-} ;;
	esac
	[ -n "$bin" ] || bin=$(command -v "$id" || true)
	[ -n "$bin" ] || [ -z "$other" ] || bin=$(dirname -- "$other")/$id
	mpirun_bin=$(command -v "${MPIRUN:-mpirun}" || true)
	if [ -z "$bin" ] || ! [ -x "$bin" ]; then
		why="mpifileutils is not installed (Debian 12 packages neither it nor libcircle, lwgrp or dtcmp; BENCHMARKS.md says how to build them); set ${id^^}=/path/to/$id to include it"
	elif [ -z "$mpirun_bin" ]; then
		why="no MPI launcher ${MPIRUN:-mpirun} (apt-get install openmpi-bin, or set MPIRUN)"
	fi
	if [ -n "$why" ]; then
		note "skipping $id: $why"
		notes+=("$id: skipped, $why")
		return 1
	fi
	printf -v "${id}_bin" '%s' "$bin"
}

# The tools that run on corpus $1: "cp -a; xxh128sum copy" only on large, the corpus
# its ratio is a target for, unless -t names it; pcopy_rules only when -t names it.
corpus_tools() {
	local id
	ctools=()
	for id in "${tools[@]}"; do
		[ "$id" != cp_sum ] || [ "$1" = large ] || [[ ,$only_tools, == *,cp_sum,* ]] || continue
		[ "$id" != pcopy_rules ] || [[ ,$only_tools, == *,pcopy_rules,* ]] || continue
		ctools+=("$id")
	done
}

print_header() {
	local mem_total mem_avail cache
	mem_total=$(awk '/^MemTotal:/ { printf "%.0f\n", $2 * 1024 }' /proc/meminfo)
	mem_avail=$(mem_available)
	if [ "$cold" = 1 ]; then cache="cold (page cache dropped before every run)"; else cache="warm (page cache not dropped)"; fi
	header=(
		"date:      $(date '+%Y-%m-%d %H:%M:%S %z')"
		"host:      nproc $(nproc), memory $(human "$mem_total") total / $(human "$mem_avail") available, kernel $(uname -r)"
		"bench dir: $bench_dir ($(stat -f -c %T "$bench_dir")); tmpfs dir: $tmpfs_dir"
		"pcopy:     $pcopy_info"
		${PCOPY_BASE:+"pcopy base: $PCOPY_BASE ($("$pcopy_base_bin" --version 2>/dev/null | head -1))"}
		"tools:     $(version_of cp); $(version_of rsync); $(version_of tar); $(version_of xxh128sum)"
		"method:    $reps reps per tool, interleaved round-robin; wall time of the copy only; cache $cache"
	)
	[ -z "$jcurve" ] || header+=("-j curve:  pcopy -j N (verified) for N in: $jcurve; cp -a for reference")
	[ "$rerun" = 0 ] || header+=("re-runs:   each tool copies once (untimed, checked) to its own destination, then each timed run re-runs it onto that finished copy: nothing to copy")
	if [ -n "${dcp_bin:-}${dsync_bin:-}" ]; then
		local mpifu
		mpifu="on 2 ranks of $mpirun_bin --allow-run-as-root --oversubscribe ($(version_of "$mpirun_bin")); neither verifies nor keeps hard links"
		[ -z "${dcp_bin:-}" ] || mpifu+="; dcp $dcp_bin --preserve calls sync() twice on each rank"
		[ -z "${dsync_bin:-}" ] || mpifu+="; dsync $dsync_bin compares size, mtime and atime, and re-sets directory times on every run"
		header+=("mpifileutils: $mpifu")
	fi
	if [ "$nojournal" = 1 ] && [ "$where" != tmpfs ]; then
		header+=("disk runs: $bench_dir is ext2/3/4 without a journal, which is slow to create files near recently deleted ones: each disk run copies to a fresh destination (all removed at exit) and disk runs start ${inode_wait} s after the script's last delete there")
	fi
	printf '%s\n' "${header[@]}"
	echo
	if [ -n "$outfile" ]; then
		{
			echo
			echo "## pcopy benchmark, $(date '+%Y-%m-%d %H:%M')"
			echo
			printf -- '- %s\n' "${header[@]}"
		} >>"$outfile"
	fi
	if [ -n "$tsvfile" ]; then
		[ -s "$tsvfile" ] || printf 'series\tcorpus\twhere\ttool\tlabel\tmedian_s\tmin_s\tmax_s\truns_s\n' >"$tsvfile"
		printf '# %s\n' "${header[@]}" >>"$tsvfile"
	fi
}

# ---- locations ------------------------------------------------------------------------

# Sets src, dst_root and fresh for one corpus at one location, or skip=1 (with a note).
# It reports through skip, not its status, so that callers need not write `f || continue`,
# which would switch set -e off inside it.
prepare_location() {
	local name=$1 loc=$2 size need
	skip=0
	size=$(apparent_bytes "$bench_dir/$name")
	local copies=$((rerun ? ${#ctools[@]} : 1)) # destinations that exist at once
	case $loc in
	disk)
		src=$bench_dir/$name
		dst_root=$bench_dir/.compare-dst.$$
		local avail all=$((reps * ${#ctools[@]} * size))
		avail=$(fs_avail "$bench_dir")
		[ "$avail" -gt $((copies * size)) ] ||
			die "not enough free space in $bench_dir for $copies $(human "$size") copies of $name"
		fresh=0
		if [ "$nojournal" = 1 ] && [ "$rerun" = 0 ]; then
			# Keep a margin so the file system is never nearly full (which is slow too).
			if [ $((all + all / 10 + (2 << 30))) -lt "$avail" ]; then
				fresh=1
			else
				note "warning: no room for $(human "$all") of copies of $name in $bench_dir;" \
					"removing each before the next run, so inode reuse on this journal-less" \
					"file system will slow later disk runs"
			fi
		fi
		wait_inode_reuse
		;;
	tmpfs)
		mkdir -p -- "$tmpfs_dir"
		[ "$(stat -f -c %T "$tmpfs_dir")" = tmpfs ] ||
			note "warning: $tmpfs_dir is not on tmpfs ($(stat -f -c %T "$tmpfs_dir"))"
		src=$tmpfs_dir/$name
		dst_root=$tmpfs_dir/.compare-dst.$$
		fresh=0 # tmpfs frees and reuses inodes at once, and holds copies in RAM
		local marker=$tmpfs_dir/.$name.complete have=0
		# Reuse an earlier copy unless the disk corpus was rebuilt since.
		if [ -e "$marker" ] && ! [ "$bench_dir/.$name.complete" -nt "$marker" ]; then have=$size; fi
		# Source and destination both live in RAM, so a corpus may take at most half of
		# the free memory (counting the memory an existing tmpfs copy already holds);
		# under -R every tool keeps its copy, so at most 1/(tools + 1).
		# The apparent size counts: a tool that fills holes writes all of it.
		# A tmpfs mounted with a size= smaller than RAM limits it the same way.
		local free mem shm
		mem=$(mem_available) shm=$(fs_avail "$tmpfs_dir")
		free=$((mem < shm ? mem : shm))
		free=$((free + have))
		need=$(((copies + 1) * size))
		if [ "$need" -gt "$free" ]; then
			local why
			why="$(human "$size") is more than 1/$((copies + 1)) of the free memory ($(human "$free"): available RAM $(human "$mem"), tmpfs space $(human "$shm"))"
			note "skipping $name on tmpfs: $why"
			printf '(%s on tmpfs skipped: %s)\n\n' "$name" "$why"
			[ -z "$outfile" ] || printf '\n_%s on tmpfs skipped: %s._\n' "$name" "$why" >>"$outfile"
			skip=1
			return 0
		fi
		if [ "$have" = 0 ]; then
			note "copying corpus $name to $src (cp -a, once)"
			rm -rf -- "$src" "$marker"
			cp -a -- "$bench_dir/$name" "$src"
			touch -- "$marker"
		fi
		;;
	esac
	mkdir -p -- "$dst_root"
	dests+=("$dst_root")
}

# ---- running and checking -------------------------------------------------------------

# Runs one tool: copy directory $2 to the not-yet-existing $3.
run_tool() {
	local id=$1 s=$2 d=$3
	case $id in
	pcopy) "$pcopy_bin" -j2 -q -- "$s" "$d" ;;
	pcopy_base) "$pcopy_base_bin" -j2 -q -- "$s" "$d" ;;
	pcopy_nv) "$pcopy_bin" -j2 -q --no-verify -- "$s" "$d" ;;
	pcopy_nx) "$pcopy_bin" -j2 -q --no-xattrs --no-acls -- "$s" "$d" ;;
	pcopy_rules) "$pcopy_bin" -j2 -q --filter="merge $here/rules20.txt" -- "$s" "$d" ;;
	pcopy_j*) "$pcopy_bin" -j"${id#pcopy_j}" -q -- "$s" "$d" ;;
	cp) cp -a -- "$s" "$d" ;;
	# What a verified copy costs with standard tools: copy, then read every copied file
	# back and hash it (the hashes go nowhere; nothing compares them, so this is a lower
	# bound of such a scheme).
	cp_sum) cp -a -- "$s" "$d" && find "$d" -type f -print0 | xargs -0r xxh128sum -- >/dev/null ;;
	# As root, Open MPI wants --allow-run-as-root; --oversubscribe lets 2 ranks run
	# wherever the launcher counts fewer slots.
	dcp) "$mpirun_bin" --allow-run-as-root --oversubscribe -np 2 "$dcp_bin" --preserve "$s" "$d" ;;
	# dsync keeps permissions, owners and times without being asked (it has no -p); on a
	# finished copy it compares sizes and mtimes and copies nothing.
	dsync) "$mpirun_bin" --allow-run-as-root --oversubscribe -np 2 "$dsync_bin" "$s" "$d" ;;
	rsync) rsync -a -- "$s/" "$d/" ;;
	rsync_h) rsync -a -H -- "$s/" "$d/" ;;
	rsync_ax) rsync -a -H -A -X -- "$s/" "$d/" ;;
	tar) mkdir -- "$d" && tar -C "$s" -cf - . | tar -C "$d" -xf - ;;
	esac
}

# Times one run of tool $1 from $2 to $3; the seconds go to $elapsed. $4 = keep: re-run
# onto the copy already at $3 instead of removing it first.
timed_run() {
	local id=$1 s=$2 d=$3 t0 t1 log=$work/run.log
	[ "${4:-}" = keep ] || rm -rf -- "$d"
	sync # so writeback left by the previous run is not billed to this one
	[ "$cold" != 1 ] || echo 3 >/proc/sys/vm/drop_caches
	# EPOCHREALTIME without its decimal point is an integer count of microseconds;
	# reading it directly (no subshell) keeps fork time out of the measurement.
	t0=${EPOCHREALTIME//[!0-9]/}
	if ! run_tool "$id" "$s" "$d" >"$log" 2>&1; then
		cat "$log" >&2
		die "${label[$id]} failed copying $s to $d"
	fi
	t1=${EPOCHREALTIME//[!0-9]/}
	elapsed=$(awk -v us=$((t1 - t0)) 'BEGIN { printf "%.3f", us / 1e6 }')
}

# Content check, fatal on mismatch. diff -r compares names, types, symlink targets and
# bytes; for the big corpora a per-file cmp after a name/type listing does the same job
# with less work than diff's line-oriented reading.
check_content() {
	local name=$1 id=$2 s=$3 d=$4 log=$work/check.log
	case $name in
	large | sparse)
		if ! diff <(cd "$s" && find . -printf '%y %p\n' | sort) \
			<(cd "$d" && find . -printf '%y %p\n' | sort) >"$log"; then
			cat "$log" >&2
			die "COPY IS WRONG: ${label[$id]} produced a different file list for $name ($s vs $d)"
		fi
		local f
		while IFS= read -r -d '' f; do
			cmp -- "$s/$f" "$d/$f" >"$log" 2>&1 ||
				{ cat "$log" >&2; die "COPY IS WRONG: ${label[$id]}: $f differs in $name"; }
		done < <(cd "$s" && find . -type f -print0)
		;;
	*)
		if ! diff -r -q --no-dereference -- "$s" "$d" >"$log" 2>&1; then
			head -n 20 "$log" >&2
			die "COPY IS WRONG: ${label[$id]} copy of $name differs from the source ($s vs $d)"
		fi
		;;
	esac
}

# Metadata check, a warning only: type, mode, owner, file size and mtime to the second
# (GNU tar's default format keeps whole seconds; symlink times are not compared).
check_metadata() {
	local id=$1 s=$2 d=$3 log=$work/meta.log
	# shellcheck disable=SC2016 # awk's $1, not the shell's
	local list='{ if ($1 != "f") $5 = "-"; if ($1 == "l") $6 = "-"; else $6 = int($6); print }'
	if ! diff <(cd "$s" && find . -printf '%y %m %U %G %s %T@ %p\n' | awk "$list" | sort) \
		<(cd "$d" && find . -printf '%y %m %U %G %s %T@ %p\n' | awk "$list" | sort) >"$log"; then
		note "WARNING: ${label[$id]} did not keep all metadata (type mode uid gid size mtime path):"
		head -n 10 "$log" >&2
	fi
}

# Runs every tool $reps times on one corpus at one location.
bench_location() {
	local name=$1 loc=$2 rep i n=${#ctools[@]} id dst
	local -A checked=()
	for ((rep = 1; rep <= reps; rep++)); do
		# Round-robin, starting one tool later on each rep, so that drift and
		# whatever a tool leaves behind (dirty pages, freed memory) spread evenly.
		for ((i = 0; i < n; i++)); do
			id=${ctools[$(((i + rep - 1) % n))]}
			if [ "$fresh" = 1 ]; then dst=$dst_root/$name.$id.$rep; else dst=$dst_root/$name; fi
			timed_run "$id" "$src" "$dst"
			times[$name/$loc/$id]+="$elapsed "
			note "$name/$loc rep $rep/$reps: ${label[$id]} ${elapsed}s"
			if [ -z "${checked[$id]:-}" ]; then
				check_content "$name" "$id" "$src" "$dst"
				check_metadata "$id" "$src" "$dst"
				checked[$id]=1
			fi
		done
	done
	# Fresh destinations stay until exit (deleting them now would slow the next disk
	# series); a single reused destination goes now, to give its space back.
	if [ "$fresh" = 0 ]; then
		rm -rf -- "${dst_root:?}"/*
		[ "$loc" != disk ] || mark_disk_delete
	fi
}

# "inode ctime path" of every entry under $1, sorted: a re-run that rewrote or re-stamped
# an entry changes its line.
entry_list() { (cd "$1" && find . -printf '%i %C@ %p\n' | sort); }

# -R: every tool copies once to its own destination (untimed; checked like a first copy)
# and re-runs once untimed, then is timed re-running onto it, $reps times, interleaved as
# in bench_location. The untimed re-run absorbs what the check did: diff reads the copy,
# which moves its atimes, and dsync compares atimes too and re-stamps every file whose
# atime differs from the source's. After the last run each copy is checked again, and
# series_notes says how many entries a tool's timed re-runs replaced or re-stamped (a
# no-change re-run should touch none).
bench_rerun() {
	local name=$1 loc=$2 rep i n=${#ctools[@]} id dst log=$work/run.log changed total
	for id in "${ctools[@]}"; do
		dst=$dst_root/$name.$id
		rm -rf -- "$dst"
		if ! run_tool "$id" "$src" "$dst" >"$log" 2>&1; then
			cat "$log" >&2
			die "${label[$id]} failed copying $src to $dst"
		fi
		check_content "$name" "$id" "$src" "$dst"
		check_metadata "$id" "$src" "$dst"
		if ! run_tool "$id" "$src" "$dst" >"$log" 2>&1; then
			cat "$log" >&2
			die "${label[$id]} failed re-running onto $dst"
		fi
		entry_list "$dst" >"$work/entries.$id"
	done
	for ((rep = 1; rep <= reps; rep++)); do
		for ((i = 0; i < n; i++)); do
			id=${ctools[$(((i + rep - 1) % n))]}
			timed_run "$id" "$src" "$dst_root/$name.$id" keep
			times[$name/$loc/$id]+="$elapsed "
			note "$name/$loc re-run $rep/$reps: ${label[$id]} ${elapsed}s"
		done
	done
	for id in "${ctools[@]}"; do
		dst=$dst_root/$name.$id
		check_content "$name" "$id" "$src" "$dst"
		changed=$(entry_list "$dst" | diff - "$work/entries.$id" | grep -c '^<' || true)
		total=$(wc -l <"$work/entries.$id")
		[ "$changed" = 0 ] ||
			series_notes+=("${label[$id]}: its timed re-runs replaced or re-stamped $changed of $total entries (new inode or ctime)")
	done
	rm -rf -- "${dst_root:?}"/*
	[ "$loc" != disk ] || mark_disk_delete
}

# ---- report ---------------------------------------------------------------------------

# Ratio of the medians, "-" when the baseline did not run; PASS/MISS against a target.
verdict() { # $1: median, $2: baseline median, $3: target ratio
	local r
	r=$(ratio "$1" "$2")
	[ "$r" != - ] || { echo "n/a (not measured)"; return 0; }
	awk -v r="$r" -v t="$3" 'BEGIN { printf "%s (%.2fx)", (r <= t ? "PASS" : "MISS"), r }'
}

# The issue #7 targets that corpus $1 has, one line each, from the medians in m[].
# In the -J curve, the fastest -j instead.
target_lines() {
	local name=$1 loc=$2 id best=
	targets=()
	if [ "$rerun" = 1 ]; then
		[ -z "${m[pcopy]:-}" ] ||
			targets+=("target (#17): pcopy (verified) no-change re-run <= 0.40x rsync -a: $(verdict "${m[pcopy]}" "${m[rsync]:-}" 0.40)")
		# rsync -a compares no xattrs or ACLs: pcopy with the same comparisons, and pcopy
		# against the rsync that makes pcopy's
		[ -z "${m[pcopy_nx]:-}" ] ||
			targets+=("target (#17), rsync -a's comparisons: pcopy --no-xattrs --no-acls <= 0.40x rsync -a: $(verdict "${m[pcopy_nx]}" "${m[rsync]:-}" 0.40)")
		[ -z "${m[rsync_ax]:-}" ] ||
			targets+=("target (#17), pcopy's comparisons: pcopy (verified) <= 0.40x rsync -a -H -A -X: $(verdict "${m[pcopy]}" "${m[rsync_ax]:-}" 0.40)")
		return 0
	fi
	if [ -n "$jcurve" ]; then
		for id in "${ctools[@]}"; do
			[[ $id == pcopy_j* ]] || continue
			if [ -z "$best" ] || awk -v a="${m[$id]}" -v b="${m[$best]}" 'BEGIN { exit !(a < b) }'; then best=$id; fi
		done
		[ -z "$best" ] || targets+=("fastest: ${label[$best]}, median ${m[$best]} s")
		return 0
	fi
	[ -n "${m[pcopy]:-}" ] || return 0
	case $name in
	kernel | small)
		targets+=("target: pcopy (verified) <= 0.6x cp -a: $(verdict "${m[pcopy]}" "${m[cp]:-}" 0.6)")
		targets+=("target: pcopy (verified) <= 0.35x rsync -a -H: $(verdict "${m[pcopy]}" "${m[rsync_h]:-}" 0.35)")
		;;
	large)
		targets+=("target: pcopy (verified) <= 1.1x cp -a: $(verdict "${m[pcopy]}" "${m[cp]:-}" 1.1)")
		targets+=("target: pcopy (verified) <= 0.5x cp -a then xxh128sum: $(verdict "${m[pcopy]}" "${m[cp_sum]:-}" 0.5)")
		[ -z "${m[pcopy_nv]:-}" ] ||
			targets+=("target: pcopy --no-verify <= 1.0x cp -a: $(verdict "${m[pcopy_nv]}" "${m[cp]:-}" 1.0)")
		;;
	sparse)
		# Time proportional to the data, not the holes: seconds per GiB of data
		# against large's at the same location (1 = proportional to the data; the
		# apparent/data ratio = proportional to the apparent size).
		local data apparent per_gib
		data=$(du -s --block-size=1 "$src" | cut -f1)
		apparent=$(apparent_bytes "$src")
		per_gib=$(awk -v t="${m[pcopy]}" -v d="$data" 'BEGIN { printf "%.3f", t * 1073741824 / d }')
		targets+=("sparse: pcopy (verified) copies $(human "$data") of data ($(human "$apparent") apparent) in ${m[pcopy]} s: $per_gib s per GiB of data")
		if [ -n "${large_per_gib[$loc]:-}" ]; then
			targets+=("target: time proportional to the data: s per GiB of data, sparse/large = $(ratio "$per_gib" "${large_per_gib[$loc]}") (1 = proportional to the data, $(ratio "$apparent" "$data") = to the apparent size)")
		else
			targets+=("target: time proportional to the data: run large at the same location first for the comparison")
		fi
		;;
	esac
	if [ "$name" = large ]; then
		large_per_gib[$loc]=$(awk -v t="${m[pcopy]}" -v d="$(du -s --block-size=1 "$src" | cut -f1)" 'BEGIN { printf "%.3f", t * 1073741824 / d }')
	fi
}

print_table() {
	local name=$1 loc=$2 id med min files size b line sep
	local -A m=() lo=()
	local cols=() # the baselines that ran on this corpus
	for id in "${ctools[@]}"; do
		read -r med min < <(stats "${times[$name/$loc/$id]}")
		m[$id]=$med lo[$id]=$min
	done
	for b in "${baselines[@]}"; do [ -z "${m[$b]:-}" ] || cols+=("$b"); done
	files=$(find "$src" -type f | wc -l)
	size=$(human "$(apparent_bytes "$src")")
	target_lines "$name" "$loc"

	local title="$name on $loc ($files files, $size; $src)"
	[ "$rerun" = 0 ] || title="no-change re-run of $title"
	printf '== %s ==\n' "$title"
	line=$(printf '%-28s %9s %9s' tool "median s" "min s")
	for b in "${cols[@]}"; do line+=$(printf ' %10s' "${column[$b]}"); done
	echo "$line  runs (s)"
	for id in "${ctools[@]}"; do
		line=$(printf '%-28s %9s %9s' "${label[$id]}" "${m[$id]}" "${lo[$id]}")
		for b in "${cols[@]}"; do line+=$(printf ' %10s' "$(ratio "${m[$id]}" "${m[$b]}")"); done
		echo "$line  ${times[$name/$loc/$id]% }"
	done
	local below=("${targets[@]}" "${series_notes[@]}" "$load_line" "${notes[@]}")
	[ ${#below[@]} -eq 0 ] || printf '%s\n' "${below[@]}"
	echo

	[ -z "$tsvfile" ] || write_tsv "$name" "$loc"
	[ -n "$outfile" ] || return 0
	{
		printf '\n### %s\n\n' "$title"
		line='| tool | median s | min s |' sep='|---|--:|--:|'
		for b in "${cols[@]}"; do line+=" ${column[$b]//|/\\|} |" sep+='--:|'; done
		printf '%s runs (s) |\n%s---|\n' "$line" "$sep"
		for id in "${ctools[@]}"; do
			line="| ${label[$id]//|/\\|} | ${m[$id]} | ${lo[$id]} |"
			for b in "${cols[@]}"; do line+=" $(ratio "${m[$id]}" "${m[$b]}") |"; done
			printf '%s %s |\n' "$line" "${times[$name/$loc/$id]% }"
		done
		[ ${#below[@]} -eq 0 ] || { echo; printf -- '- %s\n' "${below[@]}"; }
	} >>"$outfile"
}

# Appends a row per tool of the table just printed to $tsvfile, tab-separated: series
# ("tools", "jcurve" under -J, "rerun" under -R), corpus, where (disk or tmpfs), tool id,
# label, median, min and max seconds, and every run's seconds separated by spaces. The
# medians and minimums are print_table's m[] and lo[]. tests/bench/plot.sh draws the rows
# of "tools" and "jcurve".
write_tsv() {
	local name=$1 loc=$2 id series=tools max
	[ -z "$jcurve" ] || series=jcurve
	[ "$rerun" = 0 ] || series=rerun
	for id in "${ctools[@]}"; do
		max=$(tr ' ' '\n' <<<"${times[$name/$loc/$id]}" | grep . | sort -g | tail -n 1)
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$series" "$name" "$loc" "$id" "${label[$id]}" \
			"${m[$id]}" "${lo[$id]}" "$max" "${times[$name/$loc/$id]% }"
	done >>"$tsvfile"
}

# ---- main -----------------------------------------------------------------------------

main() {
	parse_args "$@"
	find_corpus_sh
	work=$(mktemp -d "${TMPDIR:-/tmp}/pcopy-compare.XXXXXX")
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	snapshot_pcopy
	find_tools
	mkdir -p -- "$bench_dir"
	detect_nojournal

	local name loc locs
	case $where in both) locs=(disk tmpfs) ;; *) locs=("$where") ;; esac
	# corpus.sh is idempotent: it only builds what lacks a .NAME.complete marker.
	for name in "${corpora[@]}"; do bash "$corpus_sh" "$bench_dir" "$name" >&2; done

	print_header
	for name in "${corpora[@]}"; do
		for loc in "${locs[@]}"; do
			corpus_tools "$name"
			prepare_location "$name" "$loc"
			[ "$skip" = 0 ] || continue
			cpu_mark
			series_notes=()
			if [ "$rerun" = 1 ]; then bench_rerun "$name" "$loc"; else bench_location "$name" "$loc"; fi
			other_load
			print_table "$name" "$loc"
		done
	done
	[ "$where" = disk ] || ! [ -d "$tmpfs_dir" ] || note "tmpfs corpus copies are kept in $tmpfs_dir (rm -rf it to free the memory)"
	if [ -n "$plotdir" ]; then
		bash "$here/plot.sh" -o "$plotdir" "$tsvfile" ||
			note "warning: no plots drawn; the figures are in $tsvfile"
	fi
}

main "$@"
