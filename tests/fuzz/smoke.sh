#!/bin/sh
# Smoke run of the fuzz targets (part of make check): each target, built with the plain
# driver, runs over its seed corpus and a fixed set of mutations of each seed. Seconds, not
# a fuzzing campaign: that is make fuzz.
FUZZDIR=${FUZZDIR:-$(cd "$(dirname "$0")" && pwd)}
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
MUTATIONS=${FUZZ_SMOKE_MUTATIONS:-20000}
PASS=0
FAIL=0
for t in cli manifest joblog; do
	if "$FUZZDIR/fuzz_$t" -m "$MUTATIONS" "$SRCDIR/tests/fuzz/corpus/$t"; then
		PASS=$((PASS + 1))
		echo "ok - fuzz_$t over its seed corpus"
	else
		FAIL=$((FAIL + 1))
		echo "not ok - fuzz_$t over its seed corpus"
	fi
done
echo "# $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
