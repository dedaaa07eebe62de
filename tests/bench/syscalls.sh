#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Counts the system calls pcopy and cp -a make per file (strace -c -f), and how they name files.
#
#   tests/bench/syscalls.sh [-n FILES] [-j N] [-A] [SOURCE_DIR]
#   SOURCE_DIR: default $BENCH_DIR/small (BENCH_DIR: /var/tmp/pcopy-bench), built by
#   shared/bench/corpus.sh; -n: only the first FILES files of it (sorted by path);
#   -j: pcopy workers (default 2); -A: also rsync -a -H and tar | tar
#
# Environment:
#   TMPFS_DIR  where the source is staged and copied (default /dev/shm): tmpfs, so no disk
#              I/O stretches the run (strace makes every system call slow enough already),
#              and source and copy share a file system, as in compare.sh (copy_file_range
#              between two file systems fails, and a tool may then try it for every file).
#              Removed at exit.
#   PCOPY      pcopy binary to measure (default: REPO/pcopy).
#
# For each tool: `strace -f -c` (every process, the counts the issue asks for), then a
# second, full `strace -f` trace from which the report takes
#   - pcopy's calls split between the parent (walk, dispatch) and the workers;
#   - how the calls that take a path name it: relative to a directory fd (openat(dfd,
#     "name")), relative to the working directory or absolute (openat(AT_FDCWD, ...),
#     or the old path-only calls such as lstat, lchown, lsetxattr), each per file;
#   - process creation (clone, fork, vfork, execve), to show there is none per file.
# Per-file figures divide by the non-directory entries of the source. Start-up calls
# (the dynamic loader and such, about 100) are included; over 20,000 files they add
# less than 0.01 a file.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=tests/bench/lib.sh
. "$here/lib.sh"

limit=
jobs=2
all_tools=0
tmpfs_dir=${TMPFS_DIR:-/dev/shm}
bench_dir=${BENCH_DIR:-/var/tmp/pcopy-bench}

work= # private dir: subset, copies, traces
declare -A label=(
	[pcopy]="pcopy -jJ (verified)"
	[pcopy_nv]="pcopy -jJ --no-verify"
	[cp]="cp -a"
	[rsync_h]="rsync -a -H"
	[tar]="tar | tar"
)
tools=(pcopy pcopy_nv cp)

cleanup() { [ -z "$work" ] || rm -rf -- "$work"; }

parse_args() {
	local opt
	while getopts 'n:j:Ah' opt; do
		case $opt in
		n) limit=$OPTARG ;;
		j) jobs=$OPTARG ;;
		A) all_tools=1 ;;
		*) usage ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# -le 1 ] || usage
	src=${1:-$bench_dir/small}
	[ -d "$src" ] || die "no source tree at $src (build it with shared/bench/corpus.sh, or name one)"
	src=$(realpath -- "$src")
	[ -z "$limit" ] || [[ $limit =~ ^[1-9][0-9]*$ ]] || die "-n wants a positive number, not '$limit'"
	[[ $jobs =~ ^[1-9][0-9]*$ ]] || die "-j wants a positive number, not '$jobs'"
	label[pcopy]="pcopy -j$jobs (verified)"
	label[pcopy_nv]="pcopy -j$jobs --no-verify"
	[ "$all_tools" = 0 ] || tools+=(rsync_h tar)
}

check_tools() {
	command -v strace >/dev/null || die "strace is missing (apt-get install strace)"
	pcopy_bin=${PCOPY:-$repo/pcopy}
	[ -x "$pcopy_bin" ] || die "no pcopy binary at $pcopy_bin (run make in $repo, or set PCOPY)"
	pcopy_info=$(build_info "$pcopy_bin" "$repo")
	if [ "$all_tools" = 1 ]; then
		command -v rsync >/dev/null || die "-A: rsync is missing"
	fi
}

# Stages $src in $work/src: all of it, or with -n the first $limit files (and the
# directories above them).
stage_source() {
	mkdir -- "$work/src"
	if [ -z "$limit" ]; then
		cp -a -- "$src/." "$work/src"
	else
		# Through a file: head closing a pipe early would be a SIGPIPE failure for pipefail.
		(cd "$src" && find . -type f -print0 | sort -z) >"$work/list"
		head -z -n "$limit" "$work/list" | (cd "$src" && tar --null -cf - -T -) | tar -C "$work/src" -xf -
	fi
	orig_src=$src src=$work/src
}

# The command line of tool $1 copying $2 to $3, in argv[]; strace runs it directly, so
# that its first process is the tool's own (pcopy's parent).
tool_argv() {
	local id=$1 s=$2 d=$3
	case $id in
	pcopy) argv=("$pcopy_bin" -j"$jobs" -q -- "$s" "$d") ;;
	pcopy_nv) argv=("$pcopy_bin" -j"$jobs" -q --no-verify -- "$s" "$d") ;;
	cp) argv=(cp -a -- "$s" "$d") ;;
	rsync_h) argv=(rsync -a -H -- "$s/" "$d/") ;;
	tar)
		# shellcheck disable=SC2016 # $1 and $2 belong to the inner sh
		argv=(sh -c 'mkdir -- "$2" && tar -C "$1" -cf - . | tar -C "$2" -xf -' sh "$s" "$d")
		;;
	esac
}

# strace's -c table of $1 -> "syscall calls errors" lines, and the total line as "total ...".
parse_summary() {
	awk '
		/^-+/ { sep++; next }
		sep == 1 && NF >= 5 { errors = (NF == 6 ? $5 : 0); print $NF, $4, errors }
		sep == 2 && $NF == "total" { print "total", $4, (NF == 6 ? $5 : 0) }
	' "$1"
}

# Reads the full trace $1 (strace -f -o, one "PID call(args) = ret" per line) and prints
# key=value lines: calls of the first process (pcopy's parent) and of the others, calls
# naming a file by directory fd, by AT_FDCWD or an absolute path, by path alone, and
# process creation.
classify_trace() {
	awk '
		# An interrupted call appears twice ("<unfinished ...>", then "<... resumed>"):
		# count its first line only. Signals and exits are not calls.
		/ resumed>/ || / \+\+\+ / || / --- / { next }
		{
			pid = $1
			if (first == "") first = pid
			call = $2; sub(/\(.*/, "", call)
			if (pid == first) parent++; else others++
			# *at calls: the first argument is the directory fd.
			if (call ~ /^(openat|openat2|newfstatat|fstatat64|statx|mkdirat|mknodat|renameat|renameat2|unlinkat|linkat|readlinkat|utimensat|fchownat|fchmodat|fchmodat2|faccessat|faccessat2|name_to_handle_at|execveat|getxattrat|setxattrat|listxattrat|removexattrat)$/) {
				arg = $2; sub(/^[a-z0-9_]+\(/, "", arg); sub(/,.*/, "", arg)
				# utimensat(fd, NULL, ...) and statx(fd, "", AT_EMPTY_PATH) act on an fd
				if ($0 ~ /^[0-9]+ +[a-z0-9_]+\([^,]*, (NULL|"")/) fdonly++
				else if (arg == "AT_FDCWD") cwd++
				else if ($0 ~ /^[0-9]+ +[a-z0-9_]+\([^,]*, "\//) cwd++   # absolute name: dfd ignored
				else dfd++
			} else if (call ~ /^(open|creat|stat|lstat|stat64|lstat64|access|chown|lchown|chmod|rename|mkdir|rmdir|unlink|link|symlink|readlink|utime|utimes|truncate|mknod|chdir|getxattr|lgetxattr|setxattr|lsetxattr|listxattr|llistxattr|removexattr|lremovexattr|execve)$/) {
				pathonly++
			}
			if (call ~ /^(clone|clone3|fork|vfork)$/) forks++
			if (call ~ /^(execve|execveat)$/) execs++
		}
		END {
			printf "parent=%d\nothers=%d\ndfd=%d\ncwd=%d\npathonly=%d\nfdonly=%d\nforks=%d\nexecs=%d\n",
				parent, others, dfd, cwd, pathonly, fdonly, forks, execs
		}
	' "$1"
}

# Runs tool $1 twice under strace: -c for the counts, then a full trace.
measure() {
	local id=$1 dst=$work/dst sum=$work/$1.sum trace=$work/$1.trace key val argv
	tool_argv "$id" "$src" "$dst"
	note "strace -f -c: ${label[$id]}"
	rm -rf -- "$dst"
	strace -f -qq -c -o "$sum" -- "${argv[@]}"
	diff -r -q --no-dereference -- "$src" "$dst" >/dev/null || die "${label[$id]} made a wrong copy"
	rm -rf -- "$dst"
	note "strace -f (full trace): ${label[$id]}"
	strace -f -qq -o "$trace" -- "${argv[@]}"
	rm -rf -- "$dst"
	local err
	while read -r key val err; do
		counts[$id/$key]=$val
		[ "$key" != total ] || counts[$id/errors]=$err
	done < <(parse_summary "$sum")
	while IFS='=' read -r key val; do cls[$id/$key]=$val; done < <(classify_trace "$trace")
	rm -f -- "$trace"
}

per() { awk -v n="${1:-0}" -v f="$files" 'BEGIN { printf "%.2f", n / f }'; }

report() {
	local id c line
	echo "date:    $(date '+%Y-%m-%d %H:%M:%S %z')"
	echo "host:    nproc $(nproc), kernel $(uname -r); $(strace -V | head -n 1)"
	echo "pcopy:   $pcopy_info"
	echo "tools:   $(cp --version | head -n 1)$([ "$all_tools" = 0 ] || echo "; $(rsync --version | head -n 1 | tr -s ' '); $(tar --version | head -n 1)")"
	echo "source:  $orig_src${limit:+ (first $limit files)}, staged in $tmpfs_dir: $files files and symlinks, $dirs directories"
	[ "$all_tools" = 0 ] || echo "note:    tar | tar runs under sh -c, whose calls are counted (about 100 in all)"
	echo
	echo "system calls per file (strace -f -c, all processes)"
	line=$(printf '%-16s' syscall)
	for id in "${tools[@]}"; do line+=$(printf ' %22s' "${label[$id]}"); done
	echo "$line"
	# The calls that reach 0.05 a file for some tool, in order of the first tool's count.
	local calls
	calls=$(for id in "${tools[@]}"; do parse_summary "$work/$id.sum"; done |
		awk -v f="$files" '$1 != "total" && $2 / f >= 0.05 { print $1 }' | sort -u)
	local ordered x
	ordered=$(for x in $calls; do echo "${counts[${tools[0]}/$x]:-0} $x"; done | sort -rn | awk '{ print $2 }')
	for c in $ordered; do
		line=$(printf '%-16s' "$c")
		for id in "${tools[@]}"; do line+=$(printf ' %22s' "$(per "${counts[$id/$c]:-0}")"); done
		echo "$line"
	done
	line=$(printf '%-16s' "(others)")
	for id in "${tools[@]}"; do
		local shown=0
		for c in $calls; do shown=$((shown + ${counts[$id/$c]:-0})); done
		line+=$(printf ' %22s' "$(per $((counts[$id/total] - shown)))")
	done
	echo "$line"
	line=$(printf '%-16s' TOTAL)
	for id in "${tools[@]}"; do line+=$(printf ' %22s' "$(per "${counts[$id/total]}")"); done
	echo "$line"
	line=$(printf '%-16s' "(of which failed)")
	for id in "${tools[@]}"; do line+=$(printf ' %22s' "$(per "${counts[$id/errors]:-0}")"); done
	echo "$line"
	echo
	echo "from the full trace, per file"
	local row
	for row in "parent:calls by the first process (pcopy: parent)" \
		"others:calls by the other processes (pcopy: workers)" \
		"dfd:names relative to a directory fd" \
		"cwd:names relative to AT_FDCWD, or absolute" \
		"pathonly:path-only calls (lstat, lsetxattr, ...)" \
		"fdonly:*at calls on an fd itself (\"\", NULL)"; do
		line=$(printf '%-44s' "${row#*:}")
		for id in "${tools[@]}"; do line+=$(printf ' %22s' "$(per "${cls[$id/${row%%:*}]}")"); done
		echo "$line"
	done
	for row in "forks:clone/fork/vfork (whole run)" "execs:execve (whole run)"; do
		line=$(printf '%-44s' "${row#*:}")
		for id in "${tools[@]}"; do line+=$(printf ' %22s' "${cls[$id/${row%%:*}]}"); done
		echo "$line"
	done
	echo
	local p=${tools[0]} cp_total=${counts[cp/total]:-}
	if [ -n "$cp_total" ]; then
		awk -v a="${counts[$p/total]}" -v b="$cp_total" -v l="${label[$p]}" \
			'BEGIN { printf "target: fewer system calls per file than cp -a: %s (%s %.2f vs cp -a %.2f a file)\n", (a < b ? "PASS" : "MISS"), l, a / '"$files"', b / '"$files"' }'
	fi
	echo "(each line of the -c table: strace's count over the whole run divided by $files)"
}

main() {
	parse_args "$@"
	check_tools
	work=$(mktemp -d "$tmpfs_dir/pcopy-syscalls.XXXXXX")
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	stage_source
	files=$(find "$src" ! -type d | wc -l)
	dirs=$(find "$src" -type d | wc -l)
	[ "$files" -gt 0 ] || die "$src holds no files"
	declare -gA counts=() cls=()
	local id
	for id in "${tools[@]}"; do measure "$id"; done
	report
}

main "$@"
