#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# A 1 GiB file of random data is copied exactly, and its manifest hash is xxh128sum's. Files
# of 256 MiB and more are copied in parts by several workers at once: the parts, a sparse
# big file, an interrupted split copy and a worker killed in the middle of one.
. "$(dirname "$0")/../../lib.sh"

mkdir src
# Incompressible, reproducible data, cheaper than /dev/urandom.
if command -v openssl >/dev/null; then
	openssl enc -aes-128-ctr -pass pass:pcopy -nosalt -pbkdf2 </dev/zero 2>/dev/null | head -c $((1 << 30)) >src/big.bin
else
	head -c $((1 << 30)) /dev/urandom >src/big.bin
fi
echo tail >src/small
"$PCOPY" -q -j 4 --json --manifest m.txt src dst >events.json
check "exit 0" [ $? -eq 0 ]
check "one event for the big file, with its size" [ "$(grep -c '"path":"big.bin"' events.json)" -eq 1 ]
check "its type and size" grep -q '"path":"big.bin","type":"file","bytes":1073741824' events.json
check "1 GiB file identical" cmp -s src/big.bin dst/big.bin
check "size kept" [ "$(stat -c %s dst/big.bin)" -eq $((1 << 30)) ]
want=$(xxh128sum src/big.bin | cut -d' ' -f1)
check "manifest hash equals xxh128sum's" grep -q "^$want  big.bin\$" m.txt
check "xxh128sum -c passes in DEST" bash -c 'cd dst && xxh128sum --quiet -c ../m.txt 2>/dev/null'
rm -f dst/big.bin
"$PCOPY" -q --no-verify src dst
check "--no-verify copy identical" cmp -s src/big.bin dst/big.bin

# A sparse 4 GiB file with data at three places: copied in parts, holes kept.
truncate -s 4G src/sparse.img
for off in 0 1500000000 4294000000; do
	head -c 100000 /dev/urandom | dd of=src/sparse.img bs=1 seek=$off conv=notrunc status=none
done
"$PCOPY" -q -j 2 --manifest m2.txt src dst
check "sparse big file: identical" cmp -s src/sparse.img dst/sparse.img
check "sparse big file: still sparse" [ "$(stat -c %b dst/sparse.img)" -lt 10000 ]
want=$(xxh128sum src/sparse.img | cut -d' ' -f1)
check "sparse big file: manifest hash equals xxh128sum's" grep -q "^$want  sparse.img\$" m2.txt
rm src/sparse.img

# Interrupted in the middle of a split copy: the shared temporary file is removed.
rm -rf dst
PCOPY_TEST_SLOW_MS=100 "$PCOPY" -q -j 2 src dst 2>err.txt &
pid=$!
t=0
until [ -n "$(find dst -name '.pcopy-tmp.*' 2>/dev/null | head -1)" ] || [ $t -ge 500 ]; do sleep 0.01; t=$((t + 1)); done
kill -INT $pid
wait $pid
check "split copy interrupted: exit 130" [ $? -eq 130 ]
check "split copy interrupted: no temporary file" no_tmp dst
check "split copy interrupted: no partial big file" [ ! -e dst/big.bin ]

# A worker killed while it copies a part: the part is copied again, the file is exact.
PCOPY_TEST_SLOW_MS=100 "$PCOPY" -q -j 2 src dst 2>err.txt &
pid=$!
t=0
until [ -n "$(find dst -name '.pcopy-tmp.*' 2>/dev/null | head -1)" ] || [ $t -ge 500 ]; do sleep 0.01; t=$((t + 1)); done
sleep 0.15
kill -KILL "$(pgrep -P $pid | head -1)"
wait $pid
check "worker killed during a part: exit 0 ($(cat err.txt))" [ $? -eq 0 ]
check "worker killed during a part: identical" cmp -s src/big.bin dst/big.bin
check "worker killed during a part: no temporary file" no_tmp dst

# Hundreds of big files copied in parts at once (sparse: 300 MiB each, a few bytes of data):
# every part is handed out once and the run ends; the parts of each file land in place.
mkdir many
for i in $(seq 1 300); do
	truncate -s 300M many/f$i
	printf 'head %d' "$i" | dd of=many/f$i conv=notrunc status=none
	printf 'tail %d' "$i" | dd of=many/f$i bs=1 seek=$((300 * 1048576 - 16)) conv=notrunc status=none
done
timeout 120 "$PCOPY" -q -j 2 many many-copy 2>many.err
check "300 split copies: exit 0 ($(head -c 300 many.err))" [ $? -eq 0 ]
check "300 split copies: every file there" [ "$(ls many-copy | wc -l)" -eq 300 ]
bad=0
for i in $(seq 1 300); do
	[ "$(head -c 8 many-copy/f$i | tr -d '\0')" = "$(head -c 8 many/f$i | tr -d '\0')" ] &&
		[ "$(tail -c 16 many-copy/f$i | tr -d '\0')" = "tail $i" ] &&
		[ "$(stat -c %s many-copy/f$i)" -eq $((300 * 1048576)) ] || bad=$((bad + 1))
done
check "300 split copies: first and last bytes and sizes right ($bad wrong)" [ $bad -eq 0 ]
check "300 split copies: still sparse" [ "$(du -sk many-copy | cut -f1)" -lt 100000 ]
check "300 split copies: no temporary file" no_tmp many-copy
finish
