#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# --extract against bsdtar on archives nobody here wrote by hand: GNU tar, bsdtar (tar.gz,
# cpio, 7-Zip), Info-ZIP and Python's tarfile and zipfile, with "./" members, non-ASCII names,
# damaged members (bad CRC, data past its size, truncated, a broken header, encrypted, an
# ACL that cannot be set) and absurd size declarations. The archives are committed in
# tests/data/extract (generate.sh made them). Each is extracted by `bsdtar -xpf` and by
# pcopy, in the C locale (no LANG, as CI runs) and in C.UTF-8; the trees must agree on names,
# types, modes, link targets, sizes, link counts, times and contents, and the exit statuses
# on success or failure, except where pcopy refuses on purpose to put a damaged or partial
# member under its final name. pcopy must name each damaged member as
# "pcopy: ARCHIVE: MEMBER: reason", leave no temporary file, and write nothing outside DEST.
. "$(dirname "$0")/../../lib.sh"

DATA=${SRCDIR:-$TOP}/tests/data/extract
if ! command -v bsdtar >/dev/null; then
	skip "bsdtar not installed"
	finish
fi
if ! LC_ALL=C.UTF-8 locale charmap 2>/dev/null | grep -q UTF-8; then
	skip "no C.UTF-8 locale"
	finish
fi

# Every entry below $1: name, type, mode, link count, link target, size and, unless NOTIME is
# set, mtime (one line each).
meta() {
	local f='%P\t%y\t%m\t%n\t%l\t%s\t%T@\n'
	[ -n "${NOTIME:-}" ] && f='%P\t%y\t%m\t%n\t%l\t%s\n'
	(cd "$1" && find . -mindepth 1 -printf "$f" | LC_ALL=C sort)
}

# Trees $1 and $2 agree, leaving out names matching the extended regex $3.
same_as_bsdtar() {
	local a=$1 b=$2 ex=${3:-'^$'} out
	out=$(diff <(meta "$a" | grep -Ev "$ex") <(meta "$b" | grep -Ev "$ex"))
	if [ -n "$out" ]; then echo "$out" | head -20; return 1; fi
	[ "$(stat -c %a "$a")" = "$(stat -c %a "$b")" ] || { echo "DEST modes differ"; return 1; }
	(cd "$a" && find . -type f -printf '%P\n') | grep -Ev "$ex" | while IFS= read -r f; do
		cmp -s "$a/$f" "$b/$f" || { echo "contents differ: $f"; exit 1; }
	done
}

# ARCHIVE ; pcopy's exit status ; bsdtar's when different on purpose (else -) ;
# names left out of the comparison (pcopy refuses them, or extracts more than bsdtar) ;
# what pcopy must report (an ERE, after "pcopy: ARCHIVE: ") ; "t" when times are compared (not when the archive has none)
CASES='
gnu-dot.tar;0;-;;;t
gnu-posix-dot.tar;0;-;;;t
bsdtar-dot.tar.gz;0;-;;;t
bsdtar-newc.cpio;0;-;;;t
bsdtar.7z;0;-;;;t
infozip.zip;0;-;;;t
gnu-sparse.tar;0;-;;;t
python-pax.tar;0;-;;;t
python-gnu.tar;0;-;;;t
python-utf8.zip;0;-;;;t
zip-badcrc.zip;1;-;;bad.txt: ZIP bad CRC;t
zip-oversize.zip;1;-;^big\.txt;big.txt: (ZIP uncompressed data is wrong size|Too much data);t
zip-encrypted.zip;1;-;^secret\.txt;secret.txt: Passphrase required;t
tar-truncated.tar;1;-;^two\.bin;two.bin: Truncated tar archive;t
tar-badheader.tar;1;0;;Damaged tar archive;t
tar-badacl.tar;1;-;;acl.txt: .*ACL;t
sparse-huge.tar;1;-;^(huge\.img|after\.txt);huge.img: declared size is larger than pcopy extracts: File too large;t
huge.mtree;1;-;^(huge|after);huge: declared size is larger than pcopy extracts: File too large;-
word.txt;1;-;;hello: Missing type keyword in mtree specification;-
tar-selflink.tar;1;-;;self: Skipping hardlink pointing to itself;t
'

mkdir jail
while IFS=';' read -r a want bsd_want ex report times; do
	[ -n "$a" ] || continue
	LC_ALL=C.UTF-8 bsdtar --passphrase wrong -xpf "$DATA/$a" -C "$(mkdir -p "b-$a" && echo "b-$a")" \
		</dev/null >/dev/null 2>&1
	brc=$?
	env -u LANG -u LC_ALL -u LC_CTYPE "$PCOPY" -q --extract "$DATA/$a" "jail/p-$a" 2>"err-$a"
	prc=$?
	LC_ALL=C.UTF-8 "$PCOPY" -q --extract "$DATA/$a" "u-$a" 2>/dev/null
	urc=$?
	NOTIME=
	[ "$times" = t ] || NOTIME=1
	check "$a: pcopy exits $want (got $prc)" [ "$prc" -eq "$want" ]
	if [ "$bsd_want" = - ]; then
		check "$a: bsdtar exits the same way (bsdtar $brc, pcopy $prc)" \
			[ $((brc != 0)) -eq $((prc != 0)) ]
	else
		check "$a: bsdtar exits $bsd_want (pcopy $want on purpose)" [ "$brc" -eq "$bsd_want" ]
	fi
	check "$a: the tree bsdtar extracts (C locale)" same_as_bsdtar "b-$a" "jail/p-$a" "${ex:-^$}"
	check "$a: the same tree in C.UTF-8" same_as_bsdtar "jail/p-$a" "u-$a"
	if [ -n "$report" ]; then
		check "$a: reported as 'pcopy: ARCHIVE: MEMBER: reason'" \
			bash -c 'grep -F "pcopy: $1: " "$2" | cut -c $((${#1} + 10))- | grep -Eq "^$3"' _ \
			"$DATA/$a" "err-$a" "$report"
	else
		check "$a: nothing reported" [ ! -s "err-$a" ]
	fi
	check "$a: no temporary file" no_tmp "jail/p-$a"
done <<<"$CASES"
check "no partial, oversized or unreadable member under its final name" bash -c '
	! ls jail/p-zip-oversize.zip/big.txt jail/p-zip-encrypted.zip/secret.txt \
		jail/p-tar-truncated.tar/two.bin jail/p-sparse-huge.tar/huge.img \
		jail/p-huge.mtree/huge 2>/dev/null | grep -q .'
check "nothing written outside DEST" [ "$(ls jail | grep -vc '^p-')" -eq 0 ]

# The "./" member is DEST itself: its mode and time are set (GNU tar sets both; bsdtar the
# mode only), where pcopy used to refuse it and exit 1.
check "'./' member: DEST gets its mode (750)" [ "$(stat -c %a jail/p-gnu-dot.tar)" = 750 ]
check "'./' member: DEST gets its mtime" [ "$(stat -c %Y jail/p-gnu-dot.tar)" = 978307200 ]
check "non-ASCII names in a zip, no LANG" [ -f "jail/p-python-utf8.zip/déflaté.txt" ]
check "a sparse member stays sparse" [ "$(du -k jail/p-gnu-sparse.tar/sparse.img | cut -f1)" -lt 1024 ]
check "a member with a bad CRC is kept, as bsdtar keeps it" [ -f jail/p-zip-badcrc.zip/bad.txt ]
check "the members after a failed one are extracted" [ -f jail/p-zip-encrypted.zip/plain.txt ] &&
	[ -f jail/p-tar-badheader.tar/three.txt ] && [ -f jail/p-sparse-huge.tar/after.txt ]

# --json: a damaged member is never vouched for; the summary's bytes are the file data.
"$PCOPY" --json --extract "$DATA/zip-badcrc.zip" json-out >json.txt 2>/dev/null
check "--json: the damaged member has a failed event" grep -q '"event":"failed","path":"bad.txt"' json.txt
check "--json: and no extracted event" bash -c '! grep -q "\"event\":\"extracted\",\"path\":\"bad.txt\"" json.txt'
check "--json summary: bytes are the files extracted (15), not the archive's size" \
	grep -q '"event":"summary".*"bytes":15,' json.txt
finish
