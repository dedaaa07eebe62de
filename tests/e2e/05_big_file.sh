#!/bin/bash
# A 1 GiB file of random data is copied exactly, and its manifest hash is xxh128sum's.
. "$(dirname "$0")/lib.sh"

mkdir src
# Incompressible, reproducible data, cheaper than /dev/urandom.
if command -v openssl >/dev/null; then
	openssl enc -aes-128-ctr -pass pass:pcopy -nosalt -pbkdf2 </dev/zero 2>/dev/null | head -c $((1 << 30)) >src/big.bin
else
	head -c $((1 << 30)) /dev/urandom >src/big.bin
fi
echo tail >src/small
"$PCOPY" -q --manifest m.txt src dst
check "exit 0" [ $? -eq 0 ]
check "1 GiB file identical" cmp -s src/big.bin dst/big.bin
check "size kept" [ "$(stat -c %s dst/big.bin)" -eq $((1 << 30)) ]
want=$(xxh128sum src/big.bin | cut -d' ' -f1)
check "manifest hash equals xxh128sum's" grep -q "^$want  big.bin\$" m.txt
check "xxh128sum -c passes in DEST" bash -c 'cd dst && xxh128sum --quiet -c ../m.txt 2>/dev/null'
rm -f dst/big.bin
"$PCOPY" -q --no-verify src dst
check "--no-verify copy identical" cmp -s src/big.bin dst/big.bin
finish
