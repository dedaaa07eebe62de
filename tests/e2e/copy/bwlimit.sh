#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# --bwlimit RATE: rsync's spelling of the rate (KiB/s without a unit, K M G, 0: no limit,
# under 512 bytes refused), the copy as without it, and one limit for all the workers
# together. The times checked are lower bounds only, well under what the limit gives: a
# throttle that works cannot be faster than its rate, whatever the machine's load.
. "$(dirname "$0")/../../lib.sh"

mkdir src many
head -c $((8 << 20)) /dev/urandom >src/big
echo small >src/small
for i in 1 2 3 4; do head -c $((2 << 20)) /dev/urandom >"many/f$i"; done

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# The spellings rsync takes are taken, those it refuses are refused (exit 2).
for rate in 0 1 10 0.5 1k 1.5m 2M 1G 1KB 512b 1k+1 1b 511b abc -1 1x 1kk; do
	rm -rf r p
	rsync -a --bwlimit="$rate" src/small r >/dev/null 2>&1
	want=$?
	"$PCOPY" -q --bwlimit "$rate" src/small p 2>err.out
	got=$?
	if [ "$want" = 0 ]; then
		check "--bwlimit $rate: accepted, as by rsync" test "$got" = 0
	else
		check "--bwlimit $rate: refused with exit 2, as by rsync" test "$got" = 2
		check "--bwlimit $rate: the message names the option" grep -q -- '--bwlimit' err.out
	fi
done
"$PCOPY" -q --bwlimit '' src/small p2 2>/dev/null
check "--bwlimit '': exit 2" test $? = 2
"$PCOPY" -q --bwlimit 1M --tar x.tar src 2>/dev/null
check "--bwlimit with --tar: exit 2" test $? = 2

# 8 MiB at 2 MiB/s: about 4 s; at least 2 s.
start=$(now_ms)
"$PCOPY" -q --bwlimit 2M src dst
rc=$?
ms=$(($(now_ms) - start))
echo "# 8 MiB at --bwlimit 2M took $ms ms"
check "--bwlimit 2M: exit 0" test $rc = 0
check "--bwlimit 2M: the copy is the source" same_tree src dst
check "--bwlimit 2M: 8 MiB take at least 2 s" test "$ms" -ge 2000

# Four workers, 8 MiB in four files, one limit of 2 MiB/s for them all: about 4 s, at least
# 2 s (a limit per worker would let them through in 1 s).
start=$(now_ms)
"$PCOPY" -q -j4 --bwlimit 2048 many many.dst
rc=$?
ms=$(($(now_ms) - start))
echo "# -j4, 4 x 2 MiB at --bwlimit 2048 took $ms ms"
check "-j4 --bwlimit 2048: exit 0" test $rc = 0
check "-j4 --bwlimit 2048: the copy is the source" same_tree many many.dst
check "-j4 --bwlimit 2048: the workers share the limit (at least 2 s)" test "$ms" -ge 2000

# --no-verify would use the kernel's copy: it is limited too.
start=$(now_ms)
"$PCOPY" -q --no-verify --bwlimit 4M src dst2
ms=$(($(now_ms) - start))
check "--no-verify --bwlimit 4M: the copy is the source" same_tree src dst2
check "--no-verify --bwlimit 4M: 8 MiB take at least 1 s" test "$ms" -ge 1000

# 0: no limit.
"$PCOPY" -q --bwlimit 0 src dst3
check "--bwlimit 0: the copy is the source" same_tree src dst3
finish
