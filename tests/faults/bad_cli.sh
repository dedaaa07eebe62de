#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Every invalid command line: exactly one "pcopy: ..." line saying why, the usage, exit 2,
# and nothing created or changed.
. "$(dirname "$0")/../lib.sh"

mkdir -p src/sub && echo x >src/f && echo y >src/sub/g && mkdir dst
: >out.txt && : >err.txt && echo p >plain

# exit2 PATTERN USAGE ARGS...: pcopy ARGS exits 2 with one message matching PATTERN (and the
# usage when USAGE is 1), prints nothing on stdout and changes nothing.
exit2() {
	local pat=$1 usage=$2
	shift 2
	local before after rc lines
	before=$(find . ! -name out.txt ! -name err.txt -printf '%p %s %T@\n' | sort)
	"$PCOPY" "$@" >out.txt 2>err.txt
	rc=$?
	after=$(find . ! -name out.txt ! -name err.txt -printf '%p %s %T@\n' | sort)
	lines=$(grep -c '^pcopy:' err.txt)
	if [ $rc -eq 2 ] && [ "$lines" -eq 1 ] && grep -q -- "^pcopy: .*$pat" err.txt &&
		{ [ "$usage" = 0 ] || grep -q '^usage: pcopy' err.txt; } &&
		[ "$before" = "$after" ] && [ ! -s out.txt ]; then
		pass "pcopy $*: exit 2, '$(grep '^pcopy:' err.txt)'"
	else
		fail "pcopy $*: exit $rc, $lines message lines: $(cat err.txt)"
	fi
}
# bad PATTERN ARGS...: a usage error (message and usage). refused: a request pcopy checks
# and turns down before doing anything (message only).
bad() { local p=$1; shift; exit2 "$p" 1 "$@"; }
refused() { local p=$1; shift; exit2 "$p" 0 "$@"; }

bad "missing source operand"
bad "missing source operand" -v -j 2
bad "unknown option: --bogus" --bogus src dst
bad "unknown option: -Z" -Z src dst
bad "option needs an argument: -j" src dst -j
bad "option needs an argument: --manifest" src dst --manifest
bad "option needs an argument: --tar" --tar
bad "invalid number of jobs" -j 0 src dst
bad "invalid number of jobs" -j 1025 src dst
bad "invalid number of jobs" -j '' src dst
bad "invalid number of jobs" -j 2x src dst
bad "invalid number of jobs" --jobs=-3 src dst
bad "--manifest needs a file name" --manifest '' src dst
bad "both want stdout" --json --manifest - src dst
bad "cannot be written by a dry run" -n --manifest m.sum src dst
bad "exactly two trees" --check src
bad "exactly two trees" --check src dst dst
bad "copies nothing" --check --delete src dst
bad "copies nothing" --check --force src dst
bad "copies nothing" --check -n src dst
bad "copies nothing" --check --manifest m.sum src dst
bad "--compress goes with --tar" --compress gzip src dst
bad "--compress takes" --tar a.tar --compress rar src
bad "--tar does not go with" --tar a.tar --delete src
bad "--tar does not go with" --tar a.tar --check src dst
bad "--tar does not go with" --tar a.tar -n src
bad "--tar needs an archive name" --tar '' src
bad "writes the archive to stdout" --tar - --json src
bad "writes the archive to stdout" --tar - --manifest - src
refused "into itself" src src/sub/inner
refused "cannot stat 'nope'" nope dst
refused "cannot overwrite non-directory" src plain
refused "refusing --delete" --delete src/sub src
finish
