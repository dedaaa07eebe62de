#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Makes the archives of tests/e2e/extract/conformance.sh. Run once, by hand, in this
# directory; the archives are committed, so that the test needs no zip, GNU tar or Python.
# Needs: GNU tar, bsdtar, zip (Info-ZIP), python3.
set -eu
cd "$(dirname "$0")"
export LC_ALL=C.UTF-8 TZ=UTC
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT

# A small tree with what every archiver must carry: modes, a UTF-8 name, links, an empty file.
t=$w/tree
mkdir -p "$t/sub/deep" "$t/日本語" "$t/empty dir"
printf 'alpha\n' >"$t/a.txt"
printf '#!/bin/sh\necho hi\n' >"$t/exec.sh"
printf 'read only\n' >"$t/ro.txt"
: >"$t/empty"
printf 'accents\n' >"$t/héllo wörld.txt"
printf 'kana\n' >"$t/日本語/ファイル.txt"
printf 'deep\n' >"$t/sub/deep/x"
ln -s a.txt "$t/link"
ln -s ../nowhere "$t/dangling"
ln "$t/a.txt" "$t/hard"
chmod 755 "$t/exec.sh"
chmod 444 "$t/ro.txt"
chmod 700 "$t/sub"
find "$t" -mindepth 1 -exec touch -h -d '2011-02-03 04:05:06' {} +
chmod 750 "$t"
touch -d '2001-01-01 00:00:00' "$t"

rm -f ./*.tar ./*.tar.gz ./*.zip ./*.cpio ./*.7z ./*.mtree ./*.txt
tar --format=gnu -C "$t" -cf gnu-dot.tar .
tar --format=posix -C "$t" -cf gnu-posix-dot.tar .
bsdtar -C "$t" -czf bsdtar-dot.tar.gz .
bsdtar --format=newc -C "$t" -cf bsdtar-newc.cpio .
bsdtar --format=7zip -C "$t" -cf bsdtar.7z .
(cd "$w" && zip -q -r -y infozip.zip tree) && mv "$w/infozip.zip" .

# A sparse file of 64 MiB with three runs of data, as GNU tar stores it (pax 1.0 sparse).
truncate -s 64M "$w/sparse.img"
printf 'head' | dd of="$w/sparse.img" bs=1 conv=notrunc status=none
printf 'middle' | dd of="$w/sparse.img" bs=1 seek=$((32 << 20)) conv=notrunc status=none
printf 'tail' | dd of="$w/sparse.img" bs=1 seek=$(((64 << 20) - 4)) conv=notrunc status=none
touch -d '2011-02-03 04:05:06' "$w/sparse.img"
tar --format=posix --sparse --sparse-version=1.0 -C "$w" -cf gnu-sparse.tar sparse.img

python3 - <<'PY'
import io, struct, tarfile, zipfile

MTIME = 1296705906  # 2011-02-03 04:05:06 UTC

def member(t, name, data=b'', mode=0o644, **kw):
    i = tarfile.TarInfo(name)
    i.size, i.mode, i.mtime = len(data), mode, MTIME
    for k, v in kw.items():
        setattr(i, k, v)
    t.addfile(i, io.BytesIO(data))

# Python's tarfile: pax with UTF-8 names, GNU with long names and link names.
with tarfile.open('python-pax.tar', 'w', format=tarfile.PAX_FORMAT) as t:
    member(t, './', mode=0o755, type=tarfile.DIRTYPE)
    member(t, 'Ünïcödé/', mode=0o755, type=tarfile.DIRTYPE)
    member(t, 'Ünïcödé/ñ.txt', b'enye\n')
    member(t, 'Ünïcödé/ссылка', type=tarfile.SYMTYPE, linkname='ñ.txt')
    member(t, 'emoji-😀.txt', b'smile\n', mode=0o600)
with tarfile.open('python-gnu.tar', 'w', format=tarfile.GNU_FORMAT) as t:
    long = 'long-' + 'n' * 120
    member(t, long + '/', mode=0o755, type=tarfile.DIRTYPE)
    member(t, long + '/' + 'f' * 150 + '.txt', b'long name\n')
    member(t, 'longlink', type=tarfile.SYMTYPE, linkname='t' * 200)
    member(t, 'fifo', type=tarfile.FIFOTYPE)

# Python's zipfile: UTF-8 names (flag bit 11), a directory entry, stored and deflated.
with zipfile.ZipFile('python-utf8.zip', 'w') as z:
    z.writestr(zipfile.ZipInfo('dir/', (2011, 2, 3, 4, 5, 6)), b'')
    for name, data, how in (('dir/stored-ü.txt', b'stored\n', zipfile.ZIP_STORED),
                            ('déflaté.txt', b'deflated ' * 50, zipfile.ZIP_DEFLATED)):
        i = zipfile.ZipInfo(name, (2011, 2, 3, 4, 5, 6))
        i.compress_type = how
        i.external_attr = 0o100644 << 16
        z.writestr(i, data)

# Damaged: a bad CRC in one member of three.
with zipfile.ZipFile('zip-badcrc.zip', 'w', zipfile.ZIP_STORED) as z:
    for name, data in (('good.txt', b'good data\n'), ('bad.txt', b'this data will be damaged\n'),
                       ('last.txt', b'last\n')):
        z.writestr(zipfile.ZipInfo(name, (2011, 2, 3, 4, 5, 6)), data)
b = bytearray(open('zip-badcrc.zip', 'rb').read())
b[b.find(b'this data will')] ^= 0x20
open('zip-badcrc.zip', 'wb').write(b)

# Damaged: a member with more data than its declared size.
with zipfile.ZipFile('zip-oversize.zip', 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr(zipfile.ZipInfo('big.txt', (2011, 2, 3, 4, 5, 6)), b'0123456789' * 100)
    z.writestr(zipfile.ZipInfo('ok.txt', (2011, 2, 3, 4, 5, 6)), b'ok\n')
b = bytearray(open('zip-oversize.zip', 'rb').read())
struct.pack_into('<I', b, b.find(b'PK\x03\x04') + 22, 600)
struct.pack_into('<I', b, b.find(b'PK\x01\x02') + 24, 600)
open('zip-oversize.zip', 'wb').write(b)

def three(fmt, out):
    with tarfile.open(out, 'w', format=fmt) as t:
        member(t, 'one.txt', b'one\n')
        member(t, 'two.bin', bytes(range(256)) * 20)
        member(t, 'three.txt', b'three\n')

# Damaged: cut inside the second member's data.
three(tarfile.GNU_FORMAT, 'tar-truncated.tar')
b = open('tar-truncated.tar', 'rb').read()
open('tar-truncated.tar', 'wb').write(b[:512 * 3 + 2048])

# Damaged: the second member's header checksum is wrong (libarchive: ARCHIVE_RETRY).
three(tarfile.USTAR_FORMAT, 'tar-badheader.tar')
b = bytearray(open('tar-badheader.tar', 'rb').read())
b[b.find(b'two.bin')] = ord('T')
open('tar-badheader.tar', 'wb').write(b)

# A default ACL on a regular file: libarchive cannot set it (ARCHIVE_WARN).
with tarfile.open('tar-badacl.tar', 'w', format=tarfile.PAX_FORMAT) as t:
    member(t, 'acl.txt', b'acl\n', pax_headers={
        'SCHILY.acl.access': 'user::rw-,user:12345:r--,group::r--,mask::r--,other::r--',
        'SCHILY.acl.default': 'user::rwx,group::r-x,other::r-x'})
    member(t, 'plain.txt', b'plain\n')

# Absurd sizes: a pax sparse member of 2^62 bytes, then a harmless one.
with tarfile.open('sparse-huge.tar', 'w', format=tarfile.PAX_FORMAT) as t:
    data = b'sparse data\n'
    smap = b'1\n0\n%d\n' % len(data)
    member(t, 'GNUSparseFile.0/huge.img', smap + b'\0' * (512 - len(smap)) + data,
           pax_headers={'GNU.sparse.major': '1', 'GNU.sparse.minor': '0',
                        'GNU.sparse.name': 'huge.img', 'GNU.sparse.realsize': str(1 << 62)})
    member(t, 'after.txt', b'after\n')
PY
printf '#mtree\nhuge type=file size=9223372036854775807\nafter type=dir mode=0755\n' >huge.mtree
printf 'hello\n' >word.txt

# Encrypted: one member with a password, one without (Info-ZIP's traditional encryption).
printf 'secret\n' >"$w/secret.txt"
printf 'plain\n' >"$w/plain.txt"
touch -d '2011-02-03 04:05:06' "$w/secret.txt" "$w/plain.txt"
(cd "$w" && zip -q -P password enc.zip secret.txt && zip -q enc.zip plain.txt)
mv "$w/enc.zip" zip-encrypted.zip
ls -l

# For tests/e2e/extract/faults.sh: a legitimate 8 TiB sparse member, whose holes take
# long enough to hash that a signal must stop it.
python3 - <<'PY'
import io, tarfile
with tarfile.open('sparse-8tib.tar', 'w', format=tarfile.PAX_FORMAT) as t:
    data = b'sparse data\n'
    smap = b'1\n0\n%d\n' % len(data)
    i = tarfile.TarInfo('GNUSparseFile.0/slow.img')
    body = smap + b'\0' * (512 - len(smap)) + data
    i.size, i.mtime, i.mode = len(body), 1296705906, 0o644
    i.pax_headers = {'GNU.sparse.major': '1', 'GNU.sparse.minor': '0',
                     'GNU.sparse.name': 'slow.img', 'GNU.sparse.realsize': str(1 << 43)}
    t.addfile(i, io.BytesIO(body))
PY

# A hard link to itself: libarchive's disk writer warns and opens nothing (then the next
# member must still be extracted).
python3 - <<'PY'
import io, tarfile
with tarfile.open('tar-selflink.tar', 'w', format=tarfile.USTAR_FORMAT) as t:
    i = tarfile.TarInfo('self'); i.type = tarfile.LNKTYPE; i.linkname = 'self'; i.mtime = 1296705906
    t.addfile(i)
    i = tarfile.TarInfo('after.txt'); d = b'after\n'; i.size = len(d); i.mtime = 1296705906
    i.mode = 0o644
    t.addfile(i, io.BytesIO(d))
PY
