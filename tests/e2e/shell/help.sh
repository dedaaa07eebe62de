#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# --help fits an 80-column terminal: no line of pcopy's, pbatch's or pcopy-mpi's help is
# wider than 80 characters. --version names the command and its version on its first line,
# then what it was built with: libarchive, xxHash, MPI (Open MPI's version for pcopy-mpi).
# pcopy-mpi's help is its own: its name, and none of the options it refuses.
. "$(dirname "$0")/../../lib.sh"
PBATCH=${PBATCH:-$TOP/pbatch}
PCOPY_MPI=${PCOPY_MPI:-$TOP/pcopy-mpi}
[ -x "$PCOPY_MPI" ] && mpi_env # Open MPI's allocations at exit, under the sanitizer pass

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

# version_says CMD NAME MPI: CMD --version starts "NAME N.N.N" and names libarchive, xxHash
# and MPI (a line matching MPI).
version_says() {
	local out
	out=$("$1" --version) || return 1
	printf '%s\n' "$out" | head -1 | grep -qx "$2 [0-9][0-9.]*" &&
		printf '%s\n' "$out" | grep -q '^libarchive: libarchive [0-9]' &&
		printf '%s\n' "$out" | grep -q '^xxHash: [0-9]*\.[0-9]*\.[0-9]' &&
		printf '%s\n' "$out" | grep -q "^MPI: $3" ||
		{ echo "$1 --version said:"; printf '%s\n' "$out"; return 1; }
}
check "pcopy --version: version, libarchive, xxHash, no MPI" version_says "$PCOPY" pcopy none
if [ -x "$PCOPY_MPI" ]; then
	check "pcopy-mpi --version: pcopy-mpi, and its MPI library" \
		version_says "$PCOPY_MPI" pcopy-mpi '[A-Za-z]'
	check "pcopy-mpi --help's usage names pcopy-mpi" \
		bash -c '"$0" --help | head -1 | grep -q "^usage: pcopy-mpi \[OPTION\]"' "$PCOPY_MPI"
	for o in --tar --compress --extract --verify-manifest --backup --suffix --backup-dir \
		--unlisted; do
		check "pcopy-mpi --help does not offer $o, which it refuses" \
			not bash -c '"$0" --help | grep -qE -- "$1( |\$)"' "$PCOPY_MPI" "$o"
	done
	check "pcopy-mpi --help still offers --check and --delete" \
		bash -c '"$0" --help | grep -q -- "--check " && "$0" --help | grep -q -- "--delete "' \
		"$PCOPY_MPI"
	check "pcopy-mpi --version does not say none" \
		not bash -c '"$0" --version | grep -q "^MPI: none"' "$PCOPY_MPI"
fi
finish
