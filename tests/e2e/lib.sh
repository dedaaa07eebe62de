# Shared helpers for the end-to-end tests. Each test sources this file, gets its own scratch
# directory ($T), and compares trees with independent oracles (rsync, diff, stat).
set -u
PCOPY=${PCOPY:-$(cd "$(dirname "$0")/../.." && pwd)/pcopy}
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
	INJECT=${FAULT_INJECT:-$(cd "$(dirname "$0")" && pwd)/inject.so}
	if [ ! -f "$INJECT" ]; then
		skip "the fault injection library $INJECT is not built"
		finish
	fi
	export ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}verify_asan_link_order=0"
}
