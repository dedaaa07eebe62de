#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# End-to-end tests for pbatch: concurrency, output grouping and order, --tag, the joblog
# format (checked against GNU parallel when it is installed), --resume, --timeout,
# --halt-on-error, --json, signals and exit statuses. Runs in a scratch dir (tests/lib.sh).
. "$(dirname "$0")/../../lib.sh"
PBATCH=${PBATCH:-$TOP/pbatch}
# A sleep no other process on the machine runs, so pgrep finds only ours.
NAP="sleep 30.$$"

# No process of ours left: wait up to a second for the kernel to finish the kills.
none_left() {
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		pgrep -f "$NAP" >/dev/null || return 0
		sleep 0.1
	done
	pgrep -af "$NAP"
	return 1
}
TAB=$'\t'
JOBLOG_RE=$'^[0-9]+\t:\t[0-9]+\\.[0-9]{3}\t *[0-9]+\\.[0-9]{3}\t0\t[0-9]+\t-?[0-9]+\t[0-9]+\t.*$'
HEADER=$'Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand'

# --- concurrency: at most -j commands overlap, and more than one does -----------------------
for i in 1 2 3 4 5 6 7 8 9; do
	echo "flock log.lock sh -c 'echo start $i >>log'; sleep 0.3; flock log.lock sh -c 'echo end $i >>log'"
done >conc.cmds
"$PBATCH" -j 3 conc.cmds >/dev/null
overlap=$(awk '$1 == "start" { n++; if (n > m) m = n } $1 == "end" { n-- } END { print m + 0 }' log)
check "-j 3 runs exactly 3 at once (max overlap $overlap)" [ "$overlap" -eq 3 ]
check "all 9 commands ran" [ "$(grep -c '^end' log)" -eq 9 ]

# --- output of each job is contiguous -------------------------------------------------------
for k in 1 2 3 4 5 6; do
	echo "for i in \$(seq 200); do echo M$k \$i; [ \$i = 100 ] && sleep 0.05; done"
done >contig.cmds
"$PBATCH" -j 6 contig.cmds >contig.out
runs=$(awk '{ print $1 }' contig.out | uniq | wc -l)
check "each job's 200 lines are contiguous (6 runs, got $runs)" [ "$runs" -eq 6 ]
check "no line lost" [ "$(wc -l <contig.out)" -eq 1200 ]

# --- --keep-order and --tag -----------------------------------------------------------------
printf 'sleep 1; echo 1\nsleep 0.5; echo 2\necho 3\n' >order.cmds
check "--keep-order prints in input order" \
	[ "$("$PBATCH" -j 3 --keep-order order.cmds | tr '\n' ' ')" = "1 2 3 " ]
check "without --keep-order the fastest job prints first" \
	[ "$("$PBATCH" -j 3 order.cmds | head -1)" = "3" ]
printf 'echo hi; echo there >&2\n' >tag.cmds
check "--tag prefixes every line with the command and a tab, on both streams" \
	[ "$("$PBATCH" --tag tag.cmds 2>&1)" = "echo hi; echo there >&2${TAB}hi
echo hi; echo there >&2${TAB}there" ]

# --- joblog format --------------------------------------------------------------------------
printf 'printf abcde\nexit 3\nsleep 0.2\n' >jl.cmds
"$PBATCH" -j 2 --joblog jl jl.cmds >/dev/null
check "joblog header is GNU parallel's" [ "$(head -1 jl)" = "$HEADER" ]
bad=0
while IFS= read -r line; do [[ $line =~ $JOBLOG_RE ]] || { echo "# bad: $line"; bad=1; }; done \
	< <(tail -n +2 jl)
check "every joblog line has the GNU parallel field formats" [ "$bad" -eq 0 ]
check "joblog has one line per job" [ "$(wc -l <jl)" -eq 4 ]
check "Receive counts output bytes, Exitval the exit status" \
	[ "$(awk -F'\t' '$1 == 1 { print $6 } $1 == 2 { print $7 }' jl | sort | tr '\n' ' ')" = "3 5 " ]
check "sleep 0.2 has a JobRuntime of at least 0.2" \
	awk -F'\t' '$1 == 3 && $4 + 0 >= 0.2 { ok = 1 } END { exit !ok }' jl

# --- --resume -------------------------------------------------------------------------------
printf 'echo x >>count\n\ntest -e flag\necho y >>count2\n' >resume.cmds
"$PBATCH" -j 1 --joblog rj resume.cmds >/dev/null
check "first run: exit 1 when a command fails" [ $? -eq 1 ]
touch flag
"$PBATCH" -j 1 --joblog rj --resume resume.cmds >/dev/null
check "resumed run: the failed command ran again and succeeded" [ $? -eq 0 ]
check "resumed run: commands done before ran once" \
	eval '[ "$(wc -l <count)" -eq 1 ] && [ "$(wc -l <count2)" -eq 1 ]'
check "resumed run appends, header once" \
	eval '[ "$(grep -c "^Seq" rj)" -eq 1 ] && [ "$(wc -l <rj)" -eq 5 ]'
"$PBATCH" --joblog rj --resume resume.cmds >/dev/null
check "second resume runs nothing" eval '[ "$(wc -l <count)" -eq 1 ] && [ "$(wc -l <rj)" -eq 5 ]'
if command -v parallel >/dev/null; then
	parallel --will-cite --joblog rj --resume <resume.cmds >/dev/null 2>&1
	check "GNU parallel --resume skips everything pbatch recorded as done" \
		eval '[ "$(wc -l <count)" -eq 1 ] && [ "$(wc -l <count2)" -eq 1 ]'
else
	echo "ok - # SKIP GNU parallel not installed"
fi
echo true | "$PBATCH" --joblog fresh --resume >/dev/null
check "--resume with a new joblog writes the header" [ "$(head -1 fresh)" = "$HEADER" ]
{ echo "$HEADER"; printf '1\t:\tjunk\n'; } >badlog
err=$("$PBATCH" --joblog badlog --resume resume.cmds 2>&1 >/dev/null)
check "malformed joblog: exit 2" [ $? -eq 2 ]
check "malformed joblog: clear message ($err)" [ "$err" = "pbatch: badlog:2: malformed joblog line" ]

# --- --timeout kills the whole process group ------------------------------------------------
echo "$NAP & $NAP; wait" >to.cmds
start=$SECONDS
"$PBATCH" --timeout 0.5 --joblog tj to.cmds >/dev/null 2>to.err
rc=$?
check "timed-out job fails the run (exit $rc)" [ "$rc" -eq 1 ]
check "a timed-out job is said, as GNU parallel says it" \
	grep -qx "pbatch: '$NAP \& $NAP; wait': killed: it ran longer than --timeout" to.err
check "timeout acts promptly" [ $((SECONDS - start)) -lt 5 ]
check "no process of the timed-out job is left" none_left
check "joblog records the killing signal" \
	awk -F'\t' 'NR == 2 && ($8 == 15 || $8 == 9) { ok = 1 } END { exit !ok }' tj
echo "trap '' TERM; $NAP & $NAP; wait" >to2.cmds
"$PBATCH" --timeout 0.2 --joblog tj2 to2.cmds >/dev/null 2>&1
check "a group that ignores SIGTERM gets SIGKILL after the grace period" \
	awk -F'\t' 'NR == 2 && $8 == 9 && $4 >= 2 && $4 < 5 { ok = 1 } END { exit !ok }' tj2
check "no process of the TERM-ignoring job is left" none_left
check "--timeout 0 is a usage error" \
	sh -c '"$1" --timeout 0 </dev/null 2>/dev/null; [ $? -eq 2 ]' sh "$PBATCH"

# --- --halt-on-error ------------------------------------------------------------------------
printf 'echo a >>halt\nfalse\necho c >>halt\necho d >>halt\n' >halt.cmds
"$PBATCH" -j 1 --halt-on-error halt.cmds >/dev/null
check "--halt-on-error exits 1" [ $? -eq 1 ]
check "--halt-on-error starts nothing after the failure" [ "$(cat halt)" = "a" ]

# --- --json ---------------------------------------------------------------------------------
printf 'echo out\nexit 4\n' >json.cmds
"$PBATCH" -j 1 --json json.cmds >json.out 2>json.err
check "--json: one event per job" \
	grep -qx '{"event":"job","seq":2,"command":"exit 4","exit":4,"signal":0,"runtime":[0-9.]*}' json.out
check "--json: summary" grep -qx '{"event":"summary","jobs":2,"failed":1,"skipped":0}' json.out
check "--json: job output goes to stderr" [ "$(cat json.err)" = "out" ]

# --- exit statuses, stdin, blank lines, usage -----------------------------------------------
check "exit 0 when all succeed" sh -c 'printf "true\ntrue\n" | "$1"' sh "$PBATCH"
check "exit 1 when one fails" sh -c 'printf "true\nfalse\n" | "$1"; [ $? -eq 1 ]' sh "$PBATCH"
for bad in "-j 0" "-j 1025" "-j x" "--bogus" "--resume" "no-such-file" "a b"; do
	# shellcheck disable=SC2086
	err=$("$PBATCH" $bad </dev/null 2>&1 >/dev/null)
	rc=$?
	check "usage error '$bad': exit 2 with a pbatch: message" \
		eval '[ "$rc" -eq 2 ] && [[ $err == pbatch:* ]]'
done
out=$(printf 'echo a\n\n   \necho b\n' | "$PBATCH" -j 1 --joblog sj)
check "stdin input, blank lines skipped" [ "$out" = "a
b" ]
check "Seq is the input line number, as GNU parallel counts it" \
	[ "$(cut -f1 sj | tr '\n' ' ')" = "Seq 1 4 " ]
check "--version" [ "$("$PBATCH" --version)" = "pbatch 0.1.0" ]
check "--help starts with the usage line" \
	[ "$("$PBATCH" --help | head -1)" = "usage: pbatch [OPTION]... [FILE]" ]
check "progress only when asked (not a terminal)" \
	[ -z "$(echo true | "$PBATCH" 2>&1 >/dev/null)" ]
check "--progress draws a line with percentage" \
	sh -c 'echo true | "$1" --progress 2>&1 >/dev/null | grep -aq "0%  0/1 done  . running  0 failed"' \
	sh "$PBATCH"
check "--progress ends with the summary line" \
	sh -c 'echo true | "$1" --progress 2>&1 >/dev/null | tr "\r" "\n" | tail -1 |
		grep -q "^done: 1 job in 0:00 ([0-9.]* jobs/s), 0 failed$"' sh "$PBATCH"

# --- SIGTERM kills every running group and exits 143 ----------------------------------------
for i in 1 2 3 4; do echo "$NAP"; done >sig.cmds
"$PBATCH" -j 2 sig.cmds >/dev/null &
pid=$!
for i in $(seq 50); do [ "$(pgrep -fc "$NAP")" -ge 2 ] && break; sleep 0.1; done
kill -TERM "$pid"
wait "$pid"
rc=$?
check "SIGTERM: exit 143 (got $rc)" [ "$rc" -eq 143 ]
check "SIGTERM: no sleep left behind" none_left

"$PBATCH" -j 2 sig.cmds >/dev/null &
pid=$!
for i in $(seq 50); do [ "$(pgrep -fc "$NAP")" -ge 2 ] && break; sleep 0.1; done
kill -INT "$pid"
wait "$pid"
rc=$?
check "SIGINT: exit 130 (got $rc)" [ "$rc" -eq 130 ]
check "SIGINT: no sleep left behind" none_left

echo "# $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
