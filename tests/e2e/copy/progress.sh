#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The progress line: redrawn on a terminal, absent otherwise unless --progress, silenced by -q.
. "$(dirname "$0")/../../lib.sh"

mkdir src && for i in $(seq 1 200); do head -c 20000 /dev/urandom >src/f$i; done
"$PCOPY" src a 2>err.txt
check "not a terminal: no redraw characters" [ ! -s err.txt ]
# Slowed down (a worker sleeps 5 ms before each file) so that the line is drawn before the end.
PCOPY_TEST_SLOW_MS=5 "$PCOPY" -j 1 --progress src b 2>err.txt
check "--progress: carriage-return redraws" grep -q $'\r' err.txt
check "--progress: percentage, bytes done / total, files" \
	grep -aq '[0-9.]*%  [0-9.]* [KMG]\?i\?B / [0-9.]*+\? [KMG]\?i\?B  [0-9]*/[0-9]*+\? files' err.txt
check "--progress: no escape sequences when not a terminal" not grep -aq $'\033' err.txt
last=$(tr '\r' '\n' <err.txt | tail -1)
check "--progress: the summary line replaces it at the end" \
	grep -q '^done: 200 files, 3.8 MiB in 0:[0-9][0-9] ([0-9.]* [KMG]\?i\?B/s), 0 failed$' <<<"$last"
check "--progress: ends with a newline" [ "$(tail -c 1 err.txt | od -An -c | tr -d ' ')" = '\n' ]
"$PCOPY" -q --progress src c 2>err.txt
check "-q silences it" [ ! -s err.txt ]
if command -v script >/dev/null; then
	PCOPY_TEST_SLOW_MS=2 script -qfec "$PCOPY src d" typescript >/dev/null 2>&1
	check "on a terminal: progress line drawn" grep -aq '%  .* / .*  [0-9]*/200+\? files' typescript
	check "on a terminal: the summary at the end" grep -aq $'\033\\[Kdone: 200 files, ' typescript
	n=$(tr '\r' '\n' <typescript | grep -ac 'files')
	check "redrawn several times but at most 10 per second ($n draws)" [ "$n" -ge 2 ] && [ "$n" -le 30 ]
else
	skip "script(1) not available for the terminal case"
fi
finish
