#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Times pcopy-mpi under mpirun against single-node pcopy on the kernel corpus.
#
#   tests/bench/mpi.sh [-r REPS] [-w disk|tmpfs|both]
#
# Environment:
#   BENCH_DIR  directory holding the corpus "kernel" (default /work/corpus); disk runs read
#              it there and write their copies beside it (in a temporary directory).
#   TMPFS_DIR  tmpfs working dir (default /dev/shm/pcopy-bench-mpi); the corpus is copied
#              there for tmpfs runs and everything is removed at the end.
#   PCOPY, PCOPY_MPI  the binaries (default: REPO/pcopy, REPO/pcopy-mpi).
#   DCP        mpifileutils' dcp, timed as `mpirun -np 2 dcp --preserve` (it does not verify)
#              when given or on PATH.
#
# Commands: pcopy -j2; mpirun -np 1 / 2 / 4 pcopy-mpi (-j1 per rank, so np 2 has the
# workers of pcopy -j2); mpirun -np 1 pcopy-mpi -j2 --bind-to none (the MPI start-up and
# rank 0 alone). Each runs REPS times, interleaved round-robin; the old copy is removed and
# the page cache left warm (untimed) before every run. The table gives the median and the
# fastest wall time and the median's ratio to pcopy -j2. Every command's first copy is
# checked with rsync -a -n -c -H. A second table times no-change re-runs (incremental
# backups: the walk and a stat per file) of pcopy -j2 and of pcopy-mpi on 1, 2 and 4 ranks.
#
set -euo pipefail
export LC_ALL=C # a '.' decimal point in EPOCHREALTIME, printf and awk

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=tests/bench/lib.sh
. "$here/lib.sh"

reps=3
where=both
while getopts r:w:h o; do
	case $o in
	r) reps=$OPTARG ;;
	w) where=$OPTARG ;;
	*) usage ;;
	esac
done
bench_dir=${BENCH_DIR:-/work/corpus}
tmpfs_dir=${TMPFS_DIR:-/dev/shm/pcopy-bench-mpi}
pcopy=${PCOPY:-$repo/pcopy}
pcopy_mpi=${PCOPY_MPI:-$repo/pcopy-mpi}
dcp=${DCP:-$(command -v dcp || true)}
[ -d "$bench_dir/kernel" ] || die "no corpus at $bench_dir/kernel"
[ -x "$pcopy_mpi" ] || die "no $pcopy_mpi: build with ./configure --with-mpi"
command -v mpirun >/dev/null || die "mpirun missing (apt-get install openmpi-bin)"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun="mpirun -q --oversubscribe"

ids=(pcopy np1 np1j2 np2 np4)
declare -A label=(
	[pcopy]="pcopy -j2"
	[np1]="mpirun -np 1 pcopy-mpi"
	[np1j2]="mpirun -np 1 --bind-to none pcopy-mpi -j2"
	[np2]="mpirun -np 2 pcopy-mpi"
	[np4]="mpirun -np 4 pcopy-mpi"
	[dcp]="mpirun -np 2 dcp -p (unverified)"
)
[ -n "$dcp" ] && ids+=(dcp)

# run ID SRC DST: the command of tool ID.
run() {
	case $1 in
	pcopy) "$pcopy" -q -j2 "$2" "$3" ;;
	np1) $mpirun -np 1 "$pcopy_mpi" -q "$2" "$3" ;;
	np1j2) $mpirun -np 1 --bind-to none "$pcopy_mpi" -q -j2 "$2" "$3" ;;
	np2) $mpirun -np 2 "$pcopy_mpi" -q "$2" "$3" ;;
	np4) $mpirun -np 4 "$pcopy_mpi" -q "$2" "$3" ;;
	dcp) $mpirun -np 2 "$dcp" -q --preserve "$2" "$3" >/dev/null ;;
	esac
}

# table TITLE ID...: the median and fastest of the caller's TIMES per tool, and the median's
# ratio to pcopy's.
table() {
	local title=$1 id med min base
	shift
	base=$(stats "${times[pcopy]}" | cut -d' ' -f1)
	echo
	echo "$title"
	printf '| %-45s | %8s | %8s | %9s |\n' command "median s" "min s" "/ pcopy"
	printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' $(seq 47))" ---------- ---------- -----------
	for id in "$@"; do
		read -r med min <<<"$(stats "${times[$id]}")"
		printf '| %-45s | %8s | %8s | %9s |\n' "${label[$id]}" "$med" "$min" "$(ratio "$med" "$base")"
	done
}

cleanup=()
trap 'rm -rf "${cleanup[@]}"' EXIT

# bench WHERE SRC WORKDIR: one table.
bench() {
	local where=$1 src=$2 work=$3 id rep t0 t1 dst
	declare -A times=()
	for rep in $(seq 1 "$reps"); do
		for id in "${ids[@]}"; do
			dst=$work/dst-$id
			rm -rf "$dst"
			sync
			t0=$EPOCHREALTIME
			run "$id" "$src" "$dst" || die "$id failed"
			t1=$EPOCHREALTIME
			times[$id]="${times[$id]:-} $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
			if [ "$rep" = 1 ] && [ -n "$(rsync -a -n -c -H -i "$src/" "$dst/" | head -1)" ]; then
				die "$id: the copy differs from the source"
			fi
		done
	done
	table "kernel corpus, $where: $(find "$src" -type f | wc -l) files, $(du -sh "$src" | cut -f1); median of $reps, warm cache" "${ids[@]}"
	rm -rf "$work"/dst-*
}

# bench_rerun WHERE SRC WORKDIR: no-change re-runs onto a finished copy.
bench_rerun() {
	local where=$1 src=$2 work=$3 id rep t0 t1 dst
	local rerun_ids=(pcopy np1 np2 np4)
	declare -A times=()
	for id in "${rerun_ids[@]}"; do
		rm -rf "$work/dst-$id"
		run "$id" "$src" "$work/dst-$id" || die "$id failed"
	done
	for rep in $(seq 1 "$reps"); do
		for id in "${rerun_ids[@]}"; do
			t0=$EPOCHREALTIME
			run "$id" "$src" "$work/dst-$id" || die "$id re-run failed"
			t1=$EPOCHREALTIME
			times[$id]="${times[$id]:-} $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
		done
	done
	table "kernel corpus, $where, no-change re-run: median of $reps" "${rerun_ids[@]}"
	rm -rf "$work"/dst-*
}

echo "pcopy: $(build_info "$pcopy" "$repo"); $(mpirun --version | head -n 1); $(nproc) CPUs"
[ -z "$dcp" ] && echo "mpifileutils dcp: not installed (not timed)"
if [ "$where" = tmpfs ] || [ "$where" = both ]; then
	mkdir -p "$tmpfs_dir"
	cleanup+=("$tmpfs_dir")
	[ -d "$tmpfs_dir/kernel" ] || cp -a "$bench_dir/kernel" "$tmpfs_dir/kernel"
	bench tmpfs "$tmpfs_dir/kernel" "$tmpfs_dir"
	bench_rerun tmpfs "$tmpfs_dir/kernel" "$tmpfs_dir"
fi
if [ "$where" = disk ] || [ "$where" = both ]; then
	work=$(mktemp -d "$bench_dir/../pcopy-bench-mpi.XXXXXX")
	cleanup+=("$work")
	bench disk "$bench_dir/kernel" "$work"
fi
