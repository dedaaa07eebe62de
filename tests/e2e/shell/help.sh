#!/bin/bash
# --help fits an 80-column terminal: no line of pcopy's, pbatch's or pcopy-mpi's help is
# wider than 80 characters.
. "$(dirname "$0")/../../lib.sh"
PBATCH=${PBATCH:-$TOP/pbatch}
PCOPY_MPI=${PCOPY_MPI:-$TOP/pcopy-mpi}

# fits80 CMD: CMD --help succeeds and prints no line over 80 characters.
fits80() {
	local out
	out=$("$1" --help) || { echo "$1 --help failed"; return 1; }
	[ -n "$out" ] || { echo "$1 --help printed nothing"; return 1; }
	local wide
	wide=$(printf '%s\n' "$out" | awk 'length > 80')
	[ -z "$wide" ] || { echo "$1 --help lines over 80:"; printf '%s\n' "$wide"; return 1; }
}

check "pcopy --help fits 80 columns" fits80 "$PCOPY"
check "pbatch --help fits 80 columns" fits80 "$PBATCH"
if [ -x "$PCOPY_MPI" ]; then
	check "pcopy-mpi --help fits 80 columns" fits80 "$PCOPY_MPI"
else
	skip "built without MPI"
fi
finish
