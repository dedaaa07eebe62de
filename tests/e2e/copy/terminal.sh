#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# On a terminal, the -v names (stdout) and the progress line (stderr) share the screen: each
# name is printed on a line of its own, never run on from the progress text (the line is
# cleared first and drawn again after). Runs pcopy under script(1) and replays the raw bytes
# as a terminal would show them.
. "$(dirname "$0")/../../lib.sh"

if ! command -v script >/dev/null 2>&1 || ! command -v perl >/dev/null 2>&1; then
	skip "script(1) or perl is not installed"
	finish
fi

# Enough files, copied by one worker, that the progress line is drawn many times.
for d in $(seq 1 12); do
	mkdir -p "src/d$d"
	for f in $(seq 1 250); do echo "$f" >"src/d$d/f$f"; done
done

# What a terminal shows for the raw output on stdin: \r goes back to the line's start,
# ESC [ K erases to its end, other bytes overwrite; one line per \n.
screen() {
	perl -ne 'chomp; my ($l, $c) = ("", 0);
		while (length) {
			if (s/^\r//) { $c = 0 }
			elsif (s/^\e\[K//) { substr($l, $c) = "" }
			elsif (s/^(.)//s) { if ($c < length $l) { substr($l, $c, 1) = $1 } else { $l .= $1 } $c++ }
		}
		print "$l\n"'
}

# under_tty FILE COMMAND: run the shell COMMAND on a pseudo-terminal; raw output to FILE.
under_tty() { script -qfec "$2" /dev/null >"$1" 2>&1 </dev/null; }

# The files are about 11 KiB in all: at 16 KiB/s the copy lasts over half a second, so the
# progress line (drawn every tenth of a second) is up while the names are printed, however fast
# the machine; without the limit, a fast run can end before its first tick.
under_tty raw.txt "'$PCOPY' -j 1 -v --bwlimit 16 src dst"
check "-v on a terminal: exit 0" [ $? = 0 ]
check "the progress line was drawn while names were printed" \
	[ "$(grep -ac '[0-9]/[0-9]*+\? files' raw.txt)" -gt 2 ]
screen <raw.txt >screen.txt
check "every file name is on a line of its own (3000)" \
	[ "$(grep -c '^d[0-9]*/f[0-9]*$' screen.txt)" = 3000 ]
check "no name runs on from the progress text" bash -c '! grep -a "%  .*d[0-9]*/f" screen.txt'
check "only the last progress line stays on the screen" \
	[ "$(grep -vc '^d[0-9]*/f[0-9]*$' screen.txt)" = 1 ]

under_tty raw2.txt "'$PCOPY' -j 1 -v --tar a.tar src"
screen <raw2.txt >screen2.txt
check "--tar -v: every member on a line of its own" bash -c '! grep -a "%  .*src/" screen2.txt'
check "--tar -v: all members listed" [ "$(grep -c '^src/d[0-9]*/f[0-9]*$' screen2.txt)" = 3000 ]

rm -rf src/d1
under_tty raw3.txt "'$PCOPY' -j 1 -n --delete src dst"
screen <raw3.txt >screen3.txt
check "--dry-run lines: each on a line of its own" bash -c '! grep -a "%  .*deleting" screen3.txt'
check "--dry-run lines: all there" [ "$(grep -c '^deleting d1' screen3.txt)" -ge 1 ]

finish
