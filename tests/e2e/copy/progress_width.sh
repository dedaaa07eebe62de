#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The progress line on a pseudo-terminal of a set size, as a user sees it: at 120 columns it
# shows bytes done / total, files, the rate and the ETA; at 40 it drops fields and no line is
# longer than 39 columns (it never wraps); after a resize and SIGWINCH it is redrawn at the new
# width; at the end a summary line replaces it. The same for pbatch's line.
. "$(dirname "$0")/../../lib.sh"
PBATCH=${PBATCH:-$TOP/pbatch}

if ! command -v python3 >/dev/null 2>&1; then
	skip "python3 is not installed"
	finish
fi

# on_pty COLS OUT [RESIZE_AT NEW_COLS] -- COMMAND...: run COMMAND with stdin, stdout and stderr
# on a pseudo-terminal COLS wide; its raw output goes to OUT. With RESIZE_AT, after that many
# seconds the terminal becomes NEW_COLS wide, COMMAND gets SIGWINCH, and what comes after
# goes to OUT.after.
cat >pty_run.py <<'EOF'
import fcntl, os, select, signal, struct, subprocess, sys, termios, time
cols, out = int(sys.argv[1]), sys.argv[2]
resize_at = new_cols = None
args = sys.argv[3:]
if args[0] != '--':
    resize_at, new_cols = float(args[0]), int(args[1])
    args = args[2:]
argv = args[1:]
master, slave = os.openpty()
def size(c):
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack('HHHH', 24, c, 0, 0))
size(cols)
p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
start = time.monotonic()
parts = [bytearray(), bytearray()]
cur = 0
switch_at = None
while True:
    now = time.monotonic()
    if resize_at is not None and switch_at is None and now - start >= resize_at:
        size(new_cols)
        p.send_signal(signal.SIGWINCH)
        # What is read in the next 0.5 s (a few ticks) may still be the old width's.
        switch_at = now + 0.5
    if switch_at is not None and cur == 0 and now >= switch_at:
        cur = 1
    r, _, _ = select.select([master], [], [], 0.05)
    if r:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        parts[cur] += data
    elif p.poll() is not None:
        # drain what is left, then stop
        os.set_blocking(master, False)
        try:
            while True:
                data = os.read(master, 65536)
                if not data:
                    break
                parts[cur] += data
        except OSError:
            pass
        break
p.wait()
os.close(slave)
open(out, 'wb').write(parts[0])
if resize_at is not None:
    open(out + '.after', 'wb').write(parts[1])
sys.exit(p.returncode)
EOF
on_pty() { python3 pty_run.py "$@"; }

# lines FILE: the pieces of FILE as drawn (split on \r and \n), escape sequences removed,
# empty ones left out.
lines() { tr '\r' '\n' <"$1" | sed 's/\x1b\[K//g' | grep -av '^$'; }
# widest FILE: the length of its longest piece.
widest() { lines "$1" | awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }'; }

# 300 files of 20 kB copied by one worker that sleeps 10 ms before each: about 3 seconds.
mkdir src && for i in $(seq 1 300); do head -c 20000 /dev/urandom >"src/f$i"; done
export PCOPY_TEST_SLOW_MS=10

on_pty 120 wide.txt -- "$PCOPY" -j 1 src d120
check "120 columns: exit 0" [ $? = 0 ]
check "120 columns: redrawn in place with \\r and ESC [ K" grep -aq $'\r.*\033\\[K' wide.txt
check "120 columns: bytes done / total (IEC)" \
	grep -aq '%  [0-9.]* [KM]iB / [0-9.]*+\? [KM]iB  ' <(lines wide.txt)
check "120 columns: files done/total" grep -aq ' [0-9]*/300 files' <(lines wide.txt)
check "120 columns: the current rate" grep -aq 'files  [0-9.]* [KM]\?i\?B/s' <(lines wide.txt)
check "120 columns: the ETA" grep -aq 'B/s  ETA [0-9]*:[0-9][0-9]$' <(lines wide.txt)
check "120 columns: no line over 119 columns ($(widest wide.txt))" [ "$(widest wide.txt)" -le 119 ]
check "120 columns: the summary line at the end" \
	grep -aqx 'done: 300 files, 5.7 MiB in 0:0[0-9] ([0-9.]* [KM]iB/s), 0 failed' \
	<(lines wide.txt | tail -1)
check "120 columns: no ETA 0:00 left on the screen" not grep -aq 'ETA' <(lines wide.txt | tail -1)

on_pty 40 narrow.txt -- "$PCOPY" -j 1 src d40
check "40 columns: exit 0" [ $? = 0 ]
check "40 columns: no line over 39 columns ($(widest narrow.txt))" [ "$(widest narrow.txt)" -le 39 ]
check "40 columns: the percentage stays" grep -aq '^ *[0-9.]*%  ' <(lines narrow.txt)
check "40 columns: the files are dropped" not grep -aq 'files  ' <(lines narrow.txt)
check "40 columns: rate and ETA kept" grep -aq '%  [0-9.]* [KM]\?i\?B/s  ETA [0-9]' <(lines narrow.txt)
check "40 columns: the summary, on lines within the width" \
	[ "$(lines narrow.txt | tail -2 | tr '\n' '|')" = \
		"$(lines narrow.txt | tail -2 | tr '\n' '|' |
			grep -a '^done: 300 files,|5.7 MiB in 0:0[0-9] ([0-9.]* [KM]iB/s), 0 failed|$')" ]

on_pty 120 resize.txt 1.5 40 -- "$PCOPY" -j 1 src dresize
check "resized: exit 0" [ $? = 0 ]
check "resized: wide before (files shown)" grep -aq ' [0-9]*/300 files' <(lines resize.txt)
check "resized: drawn again after SIGWINCH" grep -aq '%  ' <(lines resize.txt.after)
check "resized: no line over 39 columns after it ($(widest resize.txt.after))" \
	[ "$(widest resize.txt.after)" -le 39 ]
check "resized: the summary at the end" grep -aq '^done: 300 files,' <(lines resize.txt.after)
same_tree src dresize >/dev/null
check "resized: the copy is whole" [ $? = 0 ]

on_pty 120 quiet.txt -- "$PCOPY" -q -j 1 src dquiet
check "-q on a terminal: nothing at all" [ ! -s quiet.txt ]
unset PCOPY_TEST_SLOW_MS

# pbatch: 24 commands of 0.1 s on one slot, about 2.5 seconds.
for i in $(seq 1 24); do echo "sleep 0.1"; done >cmds
on_pty 120 pwide.txt -- "$PBATCH" -j 1 cmds
check "pbatch 120 columns: exit 0" [ $? = 0 ]
check "pbatch 120 columns: percentage, jobs, running, failed" \
	grep -aq '^[0-9]*%  [0-9]*/24 done  1 running  0 failed' <(lines pwide.txt)
check "pbatch 120 columns: jobs a second and ETA" \
	grep -aq 'failed  [0-9.]* jobs/s  ETA [0-9]*:[0-9][0-9]$' <(lines pwide.txt)
check "pbatch 120 columns: the summary line at the end" \
	grep -aqx 'done: 24 jobs in 0:0[0-9] ([0-9.]* jobs/s), 0 failed' <(lines pwide.txt | tail -1)
on_pty 40 pnarrow.txt 1.2 25 -- "$PBATCH" -j 1 cmds
check "pbatch 40 columns: no line over 39 columns ($(widest pnarrow.txt))" \
	[ "$(widest pnarrow.txt)" -le 39 ]
check "pbatch 40 columns: ETA kept" grep -aq '^[0-9]*%  .*ETA [0-9]' <(lines pnarrow.txt)
check "pbatch 40 columns: with the rate shown, running is dropped" \
	not grep -a 'jobs/s.*running\|running.*jobs/s' <(lines pnarrow.txt)
check "pbatch resized to 25: no line over 24 columns ($(widest pnarrow.txt.after))" \
	[ "$(widest pnarrow.txt.after)" -le 24 ]
check "pbatch resized to 25: the summary, wrapped" grep -aq '^done: 24 jobs' <(lines pnarrow.txt.after)

finish
