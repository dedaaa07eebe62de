#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The parent stopped at several points of a copy of a few hundred MiB and thousands of files:
# SIGKILL (no chance to clean up), SIGINT and SIGTERM (clean stop). At the moment it stops,
# every final name must already hold a complete, correct file; no worker may outlive it; and
# the same command run again must end with an exact copy, a manifest that xxh128sum accepts,
# and no temporary file anywhere.
. "$(dirname "$0")/../lib.sh"

# 3000 files of 33 kB in 30 directories, two of 50 MiB, links, an empty directory: ~200 MiB.
mkdir src
for d in $(seq -w 0 29); do
	mkdir -p "src/d$d/sub"
	head -c $((100 * 33000)) /dev/urandom | split -b 33000 -a 3 - "src/d$d/f"
	echo "$d" >"src/d$d/sub/small"
done
for i in 1 2; do head -c $((50 << 20)) /dev/urandom >"src/big$i"; done
mkdir src/empty
ln src/d00/faaa src/hardlink
ln -s d01/faab src/symlink
chmod 750 src/d05
touch -d '2001-02-03 04:05:06.7' src/d07 src/d07/faac
nfiles=$(find src -type f | wc -l)
# sums DIR: "hash  ./path" of every regular file below DIR except temporaries, sorted.
sums() { (cd "$1" && find . -type f ! -name '.pcopy-tmp.*' -print0 | xargs -0 -r xxh128sum 2>/dev/null | sort); }
sums src >src.sums

# workers_gone PIDS...: every listed process has exited within 5 seconds.
workers_gone() {
	local i w state gone
	for i in $(seq 1 50); do
		gone=1
		for w in "$@"; do
			state=$(awk '{print $3}' "/proc/$w/stat" 2>/dev/null)
			[ -n "$state" ] && [ "$state" != Z ] && gone=0
		done
		[ $gone = 1 ] && return 0
		sleep 0.1
	done
	return 1
}

# finals_complete DST: every regular file under DST equals its source twin.
finals_complete() {
	local bad
	bad=$(sums "$1" | comm -23 - src.sums)
	[ -z "$bad" ] || { echo "incomplete under a final name: $bad" | head -5; return 1; }
}

# stop_at SIGNAL EVENTS STATUS NAME: start a copy, send SIGNAL to the parent once EVENTS
# files are reported done (--json lines), expect exit STATUS, then re-run and check.
stop_at() {
	local sig=$1 events=$2 want=$3 name=$4 dst=dst-$4
	: >"$name.json"
	PCOPY_TEST_SLOW_MS=1 "$PCOPY" -q --json -j 2 src "$dst" >"$name.json" 2>"$name.err" &
	local pid=$!
	local t=0
	while [ "$(wc -l <"$name.json")" -lt "$events" ] && [ $t -lt 3000 ]; do
		sleep 0.01
		t=$((t + 1))
	done
	local workers
	workers=$(pgrep -P $pid | tr '\n' ' ')
	kill -"$sig" $pid
	wait $pid
	local rc=$?
	check "$name: stopped by SIG$sig after ~$events files, exit $want (got $rc)" [ $rc -eq "$want" ]
	# shellcheck disable=SC2086
	check "$name: no worker outlives the parent" workers_gone $workers
	check "$name: every final name holds a complete file" finals_complete "$dst"
	if [ "$sig" != KILL ]; then
		check "$name: a clean stop leaves no temporary file" no_tmp "$dst"
		check "$name: says how far it got" grep -q 'interrupted after [0-9]* of [0-9]* entries' "$name.err"
	else
		echo "# $name: $(find "$dst" -name '.pcopy-tmp.*' | wc -l) temporary files left by the killed run"
	fi
	"$PCOPY" -q --manifest "$name.sum" src "$dst" 2>"$name.err2"
	rc=$?
	check "$name: re-run exits 0 (got $rc)" [ $rc -eq 0 ]
	check "$name: re-run gives an exact copy" same_tree src "$dst"
	check "$name: no temporary files after the re-run" no_tmp "$dst"
	check "$name: the manifest checks with xxh128sum" bash -c 'cd "$0" && xxh128sum --quiet -c "$1"' "$dst" "$T/$name.sum"
	check "$name: the manifest lists every file" [ "$(wc -l <"$name.sum")" -eq "$nfiles" ]
	rm -rf "$dst"
}

stop_at KILL 0 137 kill-at-start
stop_at KILL 300 137 kill-early
stop_at INT 1500 130 int-middle
stop_at TERM 2700 143 term-late
stop_at KILL 2700 137 kill-late

# The whole process group killed at once (parent and workers: an OOM kill, a power cut of
# sorts) while a big file is half written: its temporary file stays behind, and the next
# run recognises it and removes it. --bwlimit (50 MiB/s) keeps each big file's temporary
# for a second: unthrottled it lived for some 50 ms, and the kill could come after its
# rename (the test failed so, twice).
setsid "$PCOPY" -q -j 2 --bwlimit 51200 src dst-group 2>group.err &
pid=$!
t=0
until [ -n "$(find dst-group -name '.pcopy-tmp.*' -size +1M 2>/dev/null | head -1)" ] || [ $t -ge 1000 ]; do
	sleep 0.005
	t=$((t + 1))
done
kill -KILL -- -"$pid"
wait $pid 2>/dev/null
check "group killed: temporary files were left behind" [ -n "$(find dst-group -name '.pcopy-tmp.*' | head -1)" ]
check "group killed: every final name holds a complete file" finals_complete dst-group
"$PCOPY" -q src dst-group 2>group.err
check "group killed: re-run exits 0" [ $? -eq 0 ]
check "group killed: the stale temporary files are removed" no_tmp dst-group
check "group killed: exact copy" same_tree src dst-group
rm -rf dst-group

# Workers killed again and again (SIGKILL, and a crash: SIGSEGV) while the run goes on:
# each is replaced, its file handed out again, and the run ends exact with exit 0.
PCOPY_TEST_SLOW_MS=1 "$PCOPY" -q -j 2 src dst-workers 2>workers.err &
pid=$!
killed=0
for sig in KILL SEGV KILL SEGV KILL; do
	sleep 0.2
	w=$(pgrep -P $pid | shuf -n 1)
	[ -n "$w" ] && kill -"$sig" "$w" 2>/dev/null && killed=$((killed + 1))
done
wait $pid
rc=$?
check "workers killed $killed times: run exits 0 (got $rc)" [ $rc -eq 0 ]
check "workers killed: exact copy" same_tree src dst-workers
check "workers killed: no temporary files" no_tmp dst-workers
finish
