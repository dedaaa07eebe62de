#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Smoke run of the fuzz targets (part of make check): each target, built with the plain
# driver, runs over its seed corpus and a fixed set of mutations of each seed. Seconds, not
# a fuzzing campaign: that is make fuzz.
FUZZDIR=${FUZZDIR:-$(cd "$(dirname "$0")" && pwd)}
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
MUTATIONS=${FUZZ_SMOKE_MUTATIONS:-20000}
# Each extract input makes, fills and removes a directory: fewer of them, for seconds.
EXTRACT_MUTATIONS=${FUZZ_SMOKE_EXTRACT_MUTATIONS:-50}
PASS=0
FAIL=0
for t in cli manifest joblog extract; do
	m=$MUTATIONS
	[ "$t" = extract ] && m=$EXTRACT_MUTATIONS
	if "$FUZZDIR/fuzz_$t" -m "$m" "$SRCDIR/tests/fuzz/corpus/$t"; then
		PASS=$((PASS + 1))
		echo "ok - fuzz_$t over its seed corpus"
	else
		FAIL=$((FAIL + 1))
		echo "not ok - fuzz_$t over its seed corpus"
	fi
done
echo "# $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
