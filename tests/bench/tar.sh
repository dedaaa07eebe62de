#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Times pcopy --tar and --extract against GNU tar and bsdtar on the kernel corpus.
#
#   tests/bench/tar.sh [-r REPS] [-w disk|tmpfs|both]
#
# Environment:
#   BENCH_DIR  directory holding the corpus "kernel" (default /work/corpus); disk runs read
#              it there and write their archives and extractions beside it (BENCH_OUT).
#   BENCH_OUT  where disk runs write (default: a temporary directory in BENCH_DIR's parent).
#   TMPFS_DIR  tmpfs working dir (default /dev/shm/pcopy-bench-tar); the corpus is copied
#              there for tmpfs runs and everything is removed at the end.
#   PCOPY      pcopy binary (default: REPO/pcopy). JOBS: its -j (default: pcopy's own).
#
# Each command runs REPS times, interleaved round-robin; the table gives the median wall
# time and its ratio to the reference named in the last column. The previous output is
# removed (untimed) before every run, so no command pays for deleting an old archive.
# Archives are checked once: pcopy's lists the same members as tar's, and the extractions
# are compared with rsync -a -n -c.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
reps=5
where=both
while getopts r:w: o; do
	case $o in
	r) reps=$OPTARG ;;
	w) where=$OPTARG ;;
	*) echo "usage: tar.sh [-r REPS] [-w disk|tmpfs|both]" >&2; exit 2 ;;
	esac
done
bench_dir=${BENCH_DIR:-/work/corpus}
tmpfs_dir=${TMPFS_DIR:-/dev/shm/pcopy-bench-tar}
pcopy=${PCOPY:-$repo/pcopy}
jobs=${JOBS:+-j$JOBS}
[ -d "$bench_dir/kernel" ] || { echo "tar.sh: no corpus at $bench_dir/kernel" >&2; exit 1; }
for t in tar bsdtar zstd rsync; do command -v $t >/dev/null || { echo "tar.sh: $t missing" >&2; exit 1; }; done

cleanup=()
trap 'for d in "${cleanup[@]}"; do rm -rf "$d"; done' EXIT

# Command ids in table order, what they run (SRC: corpus parent, OUT: output dir), and
# the id each is compared with.
ids=(tar bsdtar pcopy pcopy_nom tarzst pcopyzst untar pcopyx)
declare -A cmd=(
	[tar]='tar -C "$SRC" -cf "$OUT/a.tar" kernel'
	[bsdtar]='bsdtar -C "$SRC" -cf "$OUT/a.tar" kernel'
	[pcopy]='cd "$SRC" && "$pcopy" $jobs -q --tar "$OUT/a.tar" --manifest "$OUT/a.xxh" kernel'
	[pcopy_nom]='cd "$SRC" && "$pcopy" $jobs -q --tar "$OUT/a.tar" kernel'
	[tarzst]='tar -C "$SRC" -I "zstd -T2" -cf "$OUT/a.tar.zst" kernel'
	[pcopyzst]='cd "$SRC" && "$pcopy" $jobs -q --tar "$OUT/a.tar.zst" kernel'
	[untar]='mkdir "$OUT/x" && tar -C "$OUT/x" -xf "$REF"'
	[pcopyx]='"$pcopy" -q --extract "$REF" "$OUT/x"'
)
declare -A label=(
	[tar]="tar -cf" [bsdtar]="bsdtar -cf" [pcopy]="pcopy --tar --manifest"
	[pcopy_nom]="pcopy --tar" [tarzst]="tar -I 'zstd -T2' -cf .tar.zst"
	[pcopyzst]="pcopy --tar .tar.zst" [untar]="tar -xf" [pcopyx]="pcopy --extract"
)
declare -A ref=([bsdtar]=tar [pcopy]=tar [pcopy_nom]=tar [pcopyzst]=tarzst [pcopyx]=untar)
declare -A times

median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# run ID: time one command with a clean output directory.
run() {
	local id=$1
	rm -rf "$OUT" && mkdir -p "$OUT"
	sync
	local t0=$EPOCHREALTIME
	(eval "${cmd[$id]}") >/dev/null
	local t1=$EPOCHREALTIME
	local dt
	dt=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	times[$W/$id]+="$dt "
	echo "tar.sh: $W: $id ${dt}s" >&2
}

# bench WHERE SRC OUT: every command REPS times, interleaved.
bench() {
	W=$1 SRC=$2 OUT=$3
	REF=$OUT.ref.tar
	tar -C "$SRC" -cf "$REF" kernel
	# Check once: same member list as tar's (sorted), extraction equal to the source.
	(cd "$SRC" && "$pcopy" -q --tar "$OUT.check.tar" kernel)
	cmp -s <(tar -tf "$REF" | sort) <(tar -tf "$OUT.check.tar" | sort) || { echo "tar.sh: member lists differ" >&2; exit 1; }
	rm -rf "$OUT.x" && "$pcopy" -q --extract "$OUT.check.tar" "$OUT.x"
	[ -z "$(rsync -a -n -c -i "$SRC/kernel/" "$OUT.x/kernel/")" ] || { echo "tar.sh: extraction differs" >&2; exit 1; }
	rm -rf "$OUT.x" "$OUT.check.tar"
	for ((r = 1; r <= reps; r++)); do
		for id in "${ids[@]}"; do run "$id"; done
		echo "tar.sh: $W: rep $r of $reps done" >&2
	done
	rm -rf "$OUT" "$REF"
}

if [ "$where" = tmpfs ] || [ "$where" = both ]; then
	mkdir -p "$tmpfs_dir/src"
	cleanup+=("$tmpfs_dir")
	cp -a "$bench_dir/kernel" "$tmpfs_dir/src/"
	bench tmpfs "$tmpfs_dir/src" "$tmpfs_dir/out"
fi
if [ "$where" = disk ] || [ "$where" = both ]; then
	out=${BENCH_OUT:-$(mktemp -d "$(dirname "$bench_dir")/pcopy-bench-tar.XXXXXX")}
	cleanup+=("$out")
	bench disk "$bench_dir" "$out/out"
fi

printf '%-34s %-6s %9s %9s  %s\n' command where median ratio "(ratio to)"
for w in tmpfs disk; do
	for id in "${ids[@]}"; do
		[ -n "${times[$w/$id]:-}" ] || continue
		m=$(echo "${times[$w/$id]}" | median)
		ratio=- to=
		if [ -n "${ref[$id]:-}" ]; then
			base=$(echo "${times[$w/${ref[$id]}]}" | median)
			ratio=$(awk -v a="$m" -v b="$base" 'BEGIN { printf "%.2f", a / b }')
			to=${label[${ref[$id]}]}
		fi
		printf '%-34s %-6s %8.2fs %9s  %s\n' "${label[$id]}" "$w" "$m" "$ratio" "$to"
	done
done
echo "($reps reps, pcopy ${jobs:-with its default -j}, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))"
