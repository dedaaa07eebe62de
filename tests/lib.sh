# SPDX-License-Identifier: BSD-2-Clause
# Shared helpers for the end-to-end, fault and MPI tests (tests/e2e/FEATURE/*.sh,
# tests/faults/*.sh, tests/mpi/*.sh). Each test sources this file, gets its own scratch
# directory ($T), and compares trees with independent oracles (rsync, diff, stat).
set -u
# The top of the tree: the nearest directory above the test that holds tests/lib.sh.
TOP=$(cd "$(dirname "$0")" && while [ ! -f tests/lib.sh ] && [ "$PWD" != / ]; do cd ..; done && pwd)
PCOPY=${PCOPY:-$TOP/pcopy}
T=$(mktemp -d "${TMPDIR:-/tmp}/pcopy-e2e.XXXXXX")
chmod 755 "$T"
trap 'chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT
cd "$T" || exit 99
PASS=0
FAIL=0

pass() { PASS=$((PASS + 1)); echo "ok - $*"; }
fail() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
# check DESCRIPTION COMMAND...: pass when the command succeeds.
check() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }
skip() { echo "ok - # SKIP $*"; }
# not COMMAND...: succeeds when the command fails (its output discarded).
not() { ! "$@" >/dev/null 2>&1; }

# The same tree: rsync finds nothing to change by content, links, perms, times, devices,
# and diff agrees on content.
same_tree() {
	local out
	out=$(rsync -a -n -c -i -H "$1/" "$2/" 2>&1) || { echo "rsync failed: $out"; return 1; }
	if [ -n "$out" ]; then echo "rsync sees differences:"; echo "$out" | head -20; return 1; fi
	# diff cannot compare FIFOs or devices; rsync above already covered them.
	out=$(diff -r --no-dereference "$1" "$2" 2>&1 | grep -av -e 'is a fifo while' -e 'special file while')
	if [ -n "$out" ]; then echo "diff sees differences:"; echo "$out" | head -20; return 1; fi
	return 0
}

# names_types DIR: every path below DIR with its type (find's %y), one per line, sorted.
names_types() { (cd "$1" && find . -mindepth 1 -printf '%P %y\n' | LC_ALL=C sort); }

# same_text WHAT WANT GOT: pass when the two texts are equal, else fail and show how.
same_text() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1"
		diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | head -10
	fi
}

# same_list WHAT DIR1 DIR2: the two trees list the same names and types.
same_list() { same_text "$1" "$(names_types "$2")" "$(names_types "$3")"; }

# Nanosecond times and modes of every entry, for comparing two trees exactly. Directory
# atimes are left out: listing a directory (this very find) updates them.
times_of() {
	(cd "$1" && find . -mindepth 1 \( -type d -printf '%P %T@ %m\n' \) -o -printf '%P %T@ %A@ %m\n' | sort)
}

# No temporary files left anywhere below $1.
no_tmp() { [ -z "$(find "$1" -name '.pcopy-tmp.*' | head -1)" ]; }

# A tree with the awkward cases: odd names, empty dirs, links, hard links, FIFO, sparse file.
make_tree() {
	local d=$1
	mkdir -p "$d/sub/deeper" "$d/empty" "$d/also empty/inner"
	printf 'hello\n' >"$d/plain.txt"
	printf 'spaces\n' >"$d/name with spaces"
	printf 'newline\n' >"$d/new
line"
	printf 'latin1\n' >"$d/$(printf 'caf\351')"
	printf 'utf8\n' >"$d/$(printf 'caf\303\251')"
	printf 'dash\n' >"$d/-dash"
	printf 'star\n' >"$d/st*r?"
	printf 'back\n' >"$d/back\\slash"
	head -c 300000 /dev/urandom >"$d/sub/random.bin"
	: >"$d/sub/zero-length"
	printf 'deep\n' >"$d/sub/deeper/file"
	ln -s plain.txt "$d/link-rel"
	ln -s /nonexistent/target "$d/link-dangling"
	ln -s sub "$d/link-dir"
	ln "$d/plain.txt" "$d/sub/hardlink"
	mkfifo "$d/fifo"
	truncate -s 50M "$d/sparse.img"
	printf 'tail' | dd of="$d/sparse.img" bs=1 seek=$((30 << 20)) conv=notrunc status=none
	chmod 640 "$d/sub/random.bin"
	chmod 751 "$d/sub/deeper"
	chmod 700 "$d/also empty/inner"
	touch -h -d '2001-02-03 04:05:06.123456789' "$d/link-rel"
	touch -d '1999-12-31 23:59:59.987654321' "$d/plain.txt" "$d/sub/deeper" "$d/empty"
}

finish() {
	echo "# $PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
	exit $?
}

# use_inject: set INJECT to the fault injection library (tests/faults/inject.c) for
# LD_PRELOAD, or skip the whole test when it is not built. Under AddressSanitizer the
# preloaded library comes before the sanitizer's runtime, which ASan must be told is fine.
use_inject() {
	if ! have_inject; then
		skip "the fault injection library $INJECT is not built"
		finish
	fi
}

# have_inject: like use_inject, for a test that only skips some of its checks without the
# library: succeeds, with INJECT and ASAN_OPTIONS set, when it is built.
have_inject() {
	INJECT=${FAULT_INJECT:-$TOP/tests/faults/inject.so}
	[ -f "$INJECT" ] || return 1
	export ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}verify_asan_link_order=0"
}

# use_mpi: for the MPI tests, pcopy-mpi under mpirun compared with single-node pcopy on the
# same trees. Without ./configure --with-mpi there is no pcopy-mpi: the test says so and is
# skipped (exit 77, automake's SKIP).
use_mpi() {
	if [ -z "${PCOPY_MPI:-}" ] || [ ! -x "${PCOPY_MPI:-}" ]; then
		echo "SKIP: built without MPI (./configure --with-mpi builds pcopy-mpi)"
		exit 77
	fi
	if ! command -v mpirun >/dev/null 2>&1; then
		echo "SKIP: mpirun not found (apt-get install openmpi-bin)"
		exit 77
	fi
	mpi_env
}

# mpi_env: the environment pcopy-mpi runs in under the tests, also when a test runs it
# without mpirun (--help, --version).
mpi_env() {
	# Root may run mpirun in CI containers; -q keeps mpirun's own notices off stderr so that
	# pcopy-mpi's messages can be compared with pcopy's.
	export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
	# Under the sanitizer pass: Open MPI keeps what MPI_Init allocates until exit, and
	# tests/lsan.supp names its libraries. For those names to match, LeakSanitizer needs whole
	# stacks (Open MPI is built without frame pointers) and Open MPI's plugins must stay
	# loaded (an unloaded one is an "<unknown module>").
	if [ -n "${ASAN_OPTIONS:-}" ]; then
		export ASAN_OPTIONS="$ASAN_OPTIONS:fast_unwind_on_malloc=0"
		export OMPI_MCA_mca_base_component_disable_dlclose=1
	fi
}

# mpi NP ARG...: pcopy-mpi on NP ranks (more ranks than CPUs is fine for tests).
mpi() {
	local np=$1
	shift
	mpirun -q --oversubscribe -np "$np" "$PCOPY_MPI" "$@"
}

# The --json summary line without its timing fields, for comparing two runs.
json_summary() {
	grep -a '"event":"summary"' "$1" | sed -e 's/"seconds":[0-9.]*,//'
}

# The --json events other than the summary, sorted (their order follows completions).
json_events() {
	grep -av '"event":"summary"' "$1" | sort
}

# Inode identity of hard links: "name inode-group" lines, inodes renumbered by first use.
link_groups() {
	(cd "$1" && find . -type f -links +1 -printf '%i %P\n' | sort -k2 |
		awk '{ if (!($1 in g)) g[$1] = ++n; print $2, g[$1] }')
}

# Ownership of every entry.
owners_of() {
	(cd "$1" && find . -mindepth 1 -printf '%P %u %g\n' | sort)
}
