#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# --tar: a pax archive through libarchive that GNU tar and bsdtar both restore exactly
# (hard links, symlinks, sparse files, xattrs, times, odd names), compression by suffix,
# stdout mode, a manifest of member paths, and no archive under the final name when
# interrupted.
. "$(dirname "$0")/../../lib.sh"

make_tree src
xattr=0
setfattr -n user.colour -v blue src/plain.txt 2>/dev/null && xattr=1
"$PCOPY" --tar a.tar --manifest man.txt src
check "exit 0" [ $? -eq 0 ]
check "members named by the source's base name" bash -c 'tar -tf a.tar 2>/dev/null | head -1 | grep -qx "src/"'
check "depth first, each directory followed by its contents, names sorted" \
	bash -c '[ "$(tar -tf a.tar 2>/dev/null | grep -A3 "^src/sub/$" | tr "\n" " ")" = "src/sub/ src/sub/deeper/ src/sub/deeper/file src/sub/hardlink " ]'
mkdir gnu bsd
tar --xattrs --xattrs-include='*' -C gnu -xf a.tar 2>/dev/null
check "GNU tar extracts it exactly (rsync -c -H)" same_tree src gnu/src
bsdtar -C bsd -xf a.tar
check "bsdtar extracts it exactly" same_tree src bsd/src
check "times to the nanosecond after GNU tar" [ "$(stat -c %y src/link-rel)" = "$(stat -c %y gnu/src/link-rel)" ]
check "GNU tar and bsdtar list the same members" bash -c 'cmp -s <(tar -tf a.tar 2>/dev/null) <(bsdtar -tf a.tar 2>/dev/null | sed "s|[^/]\$|&|")'
check "rsync -c -H -X sees no difference after GNU tar" bash -c 'out=$(rsync -a -n -c -i -H -X src/ gnu/src/ 2>&1); [ -z "$out" ]'
check "rsync -c -H -X sees no difference after bsdtar" bash -c 'out=$(rsync -a -n -c -i -H -X src/ bsd/src/ 2>&1); [ -z "$out" ]'
check "hard link stored as a link" [ "$(stat -c %i gnu/src/plain.txt)" = "$(stat -c %i gnu/src/sub/hardlink)" ]
check "sparse file still sparse after GNU tar" [ "$(du -k gnu/src/sparse.img | cut -f1)" -lt 1024 ]
if [ $xattr = 1 ]; then
	check "xattr restored by GNU tar --xattrs" [ "$(getfattr --only-values -n user.colour gnu/src/plain.txt 2>/dev/null)" = blue ]
fi
grep -av '^\\' man.txt >plain-lines.txt
check "manifest checks inside the extraction" bash -c 'cd gnu && xxh128sum --quiet --strict -c ../plain-lines.txt 2>/dev/null'
check "manifest lists member paths" grep -aq '  src/sub/random.bin$' man.txt

"$PCOPY" --tar b.tar src
check "same tree, same times: identical uncompressed archives" bash -c 'tar -tvf a.tar >x 2>/dev/null; tar -tvf b.tar >y 2>/dev/null; cmp -s x y'

"$PCOPY" --tar ex.tar --exclude '*.bin' --exclude 'also empty' --exclude 'sub/deeper/*' src
tar -tf ex.tar >ex-list.txt 2>/dev/null
check "--exclude: a pattern on names" bash -c '! grep -q "random.bin" ex-list.txt && grep -qx "src/sub/zero-length" ex-list.txt'
check "--exclude: an excluded directory is not descended" bash -c '! grep -q "also empty" ex-list.txt'
check "--exclude: a pattern on paths below the source" bash -c 'grep -qx "src/sub/deeper/" ex-list.txt && ! grep -q "src/sub/deeper/file" ex-list.txt'
if [ "$(id -u)" = 0 ] && mkdir -p fs/mnt && mount -t tmpfs -o size=1m tmpfs fs/mnt 2>/dev/null; then
	echo inside >fs/mnt/file
	"$PCOPY" -q -x --tar fs1.tar fs
	"$PCOPY" -q --tar fs2.tar fs
	umount fs/mnt
	check "-x: the mount point is a member, what is below it is not" bash -c 'tar -tf fs1.tar | grep -qx fs/mnt/ && ! tar -tf fs1.tar | grep -q fs/mnt/file'
	check "without -x it is archived" bash -c 'tar -tf fs2.tar | grep -qx fs/mnt/file'
else
	skip "cannot mount a tmpfs here for --one-file-system"
fi
mkdir self && echo hi >self/a
"$PCOPY" -q --tar self/self.tar self
check "an archive written inside its source is not a member of itself" bash -c '[ "$(tar -tf self/self.tar | tr "\n" " ")" = "self/ self/a " ]'
"$PCOPY" -j1 --tar j1.tar src && "$PCOPY" -j3 --tar j3.tar src
check "the pool size does not change the archive" bash -c 'tar -tvf j1.tar >x 2>/dev/null; tar -tvf j3.tar >y 2>/dev/null; cmp -s x y && tar -tvf a.tar 2>/dev/null | cmp -s - x'
"$PCOPY" --tar j.tar --json src >events.txt
check "--json: one archived event per member" [ "$(grep -c '"event":"archived"' events.txt)" = "$(tar -tf j.tar 2>/dev/null | wc -l)" ]
check "--json: a summary with the counts" grep -q '^{"event":"summary","files":.*"copied":.*"exit":0}$' events.txt
check "--json: hashes of regular files" grep -q '"path":"src/plain.txt","type":"file","bytes":6,"hash":"[0-9a-f]\{32\}"' events.txt
"$PCOPY" --tar p.tar --progress src 2>progress.txt
check "--progress draws a line" grep -q 'files' progress.txt

for pair in tar.gz:1f8b tgz:1f8b tar.bz2:425a68 tar.xz:fd377a585a00 tar.zst:28b52ffd tar.lz4:04224d18; do
	suffix=${pair%%:*} magic=${pair#*:}
	"$PCOPY" --tar "c.$suffix" src
	check ".$suffix: magic bytes $magic" [ "$(head -c $((${#magic} / 2)) "c.$suffix" | od -An -tx1 | tr -d ' \n')" = "$magic" ]
done
check ".tar.zst lists with bsdtar" bash -c 'bsdtar -tf c.tar.zst | grep -qx src/plain.txt'
"$PCOPY" --tar forced.bin --compress gzip src
check "--compress forces a filter" [ "$(head -c 2 forced.bin | od -An -tx1 | tr -d ' \n')" = 1f8b ]

mkdir piped
"$PCOPY" --tar - src 2>/dev/null | tar -C piped -xf - 2>/dev/null
check "--tar - streams an uncompressed tar to stdout" same_tree src piped/src

"$PCOPY" --tar e.tar --compress bogus src 2>err.txt
check "unknown --compress: exit 2" [ $? -eq 2 ] && [ ! -e e.tar ]
"$PCOPY" --tar f.tar nope 2>err.txt
check "missing source: reported, exit 1" [ $? -eq 1 ] && grep -q "^pcopy: nope: " err.txt

# A file that keeps growing while it is archived: it is left out and reported (or, if it
# happened to hold still while read, archived whole); the archive stays valid either way.
mkdir grow && for i in $(seq 200); do echo "$i" >"grow/f$i"; done
(while :; do echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; done >>grow/a-growing) &
writer=$!
sleep 0.2
"$PCOPY" -q --tar grow.tar grow 2>grow-err.txt
rc=$?
kill $writer
wait $writer 2>/dev/null
check "growing file: exit 0 or 1 (got $rc)" [ $rc -le 1 ]
check "growing file: reported when left out" bash -c '[ '$rc' -eq 0 ] || grep -q "^pcopy: grow/a-growing: changed while being archived" grow-err.txt'
mkdir grow-x
check "growing file: the archive extracts, the other files intact" bash -c 'tar -C grow-x -xf grow.tar && for i in $(seq 200); do [ "$(cat grow-x/grow/f$i)" = "$i" ] || exit 1; done'

# Interrupted: no archive under the final name, no temporary left.
mkdir big && head -c $((300 << 20)) /dev/urandom >big/data
"$PCOPY" --tar big.tar.gz big 2>/dev/null &
pid=$!
sleep 0.5
kill -TERM $pid
wait $pid
rc=$?
check "interrupted --tar: exit 143 (got $rc)" [ $rc -eq 143 ]
check "interrupted --tar: no final archive" [ ! -e big.tar.gz ]
check "interrupted --tar: no temporary archive" [ -z "$(ls | grep pcopy-tmp)" ]
finish
