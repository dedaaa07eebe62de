#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# --tar, the smaller breaks:
# - a source named `..` (or ending in `/..`): member names never start with `../`; like GNU
#   tar, the leading `..` is dropped (members `./`, `./NAME`...), with a note on stderr;
# - an unreadable directory is archived (as GNU tar does), reported once and counted once,
#   and `copied` counts what copy mode counts (entries other than directories);
# - compression suffixes are matched whatever their case, as GNU tar's -a does;
# - `--tar -` refuses to write an archive to a terminal (exit 2, nothing written).
. "$(dirname "$0")/../../lib.sh"

# ---- ..
mkdir -p top/work top/data/sub
echo a >top/data/sub/f
echo b >top/work/g
(cd top/work && "$PCOPY" -q --tar ../../up.tar .. 2>"$T/up.err")
rc=$?
check "..: exit 0 (got $rc)" [ $rc -eq 0 ]
check "..: no member starts with ../" bash -c 'tar -tf up.tar >up.list && [ -s up.list ] && ! grep -q "^\.\./" up.list && ! grep -qx "\.\." up.list'
check "..: members are named from ./" bash -c 'grep -qx "\./data/sub/f" up.list && grep -qx "\./" up.list'
check "..: a note says so" grep -q '^pcopy: \.\.: ' up.err
mkdir up
tar -C up -xf up.tar
check "..: the archive extracts to the tree" same_tree top up
(cd top/work && "$PCOPY" -q --tar ../../up2.tar ../data/sub/.. 2>/dev/null)
check "DIR/..: same" bash -c 'tar -tf up2.tar | grep -qx "\./sub/f" && ! tar -tf up2.tar | grep -q "\.\./"'
(cd top/work && "$PCOPY" -q --tar ../../up3.tar ../data 2>/dev/null)
check "../NAME: members are NAME/..." bash -c '[ "$(tar -tf up3.tar | tr "\n" " ")" = "data/ data/sub/ data/sub/f " ]'

# ---- counts: copied as in copy mode
make_tree src
"$PCOPY" --stats -q src copy >copy-stats.txt
"$PCOPY" --stats -q --tar c.tar src >tar-stats.txt
check "copied: the same count as copy mode" bash -c '[ "$(grep "^copied:" copy-stats.txt)" = "$(grep "^copied:" tar-stats.txt)" ]'
check "copied: directories are not counted" bash -c '[ "$(grep "^copied:" tar-stats.txt | cut -d" " -f2)" -eq "$(tar -tf c.tar 2>/dev/null | grep -vc /$)" ]'

# ---- an unreadable directory
as_user() { "$@"; }
if [ "$(id -u)" = 0 ]; then
	as_user() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
fi
mkdir -p ur/s/locked ur/s/ok
echo 1 >ur/s/ok/f
echo 2 >ur/s/locked/g
echo 3 >ur/s/h
chmod 000 ur/s/locked
chmod 777 ur
if as_user test -r ur/s/locked; then
	skip "an unreadable directory cannot be made here"
else
	(cd ur && as_user "$PCOPY" --stats --tar a.tar s >stats.txt 2>err.txt)
	check "unreadable directory: reported once" [ "$(grep -c 's/locked' ur/err.txt)" -eq 1 ]
	check "unreadable directory: message" grep -q '^pcopy: s/locked: cannot read directory: Permission denied' ur/err.txt
	check "unreadable directory: failed 1" grep -qx 'failed: 1' ur/stats.txt
	check "unreadable directory: copied counts the 2 files" grep -qx 'copied: 2' ur/stats.txt
	check "unreadable directory: still a member, as GNU tar has it" bash -c 'tar -tf ur/a.tar | grep -qx s/locked/'
	(cd ur && as_user "$PCOPY" --json --tar b.tar s >events.txt 2>/dev/null)
	check "unreadable directory: one failed event" [ "$(grep -c '"event":"failed"' ur/events.txt)" -eq 1 ]
	check "unreadable directory: the event has the errno text, as copy events do" \
		grep -q '"event":"failed","path":"s/locked",.*"error":"cannot read directory: Permission denied"' ur/events.txt
	check "unreadable directory: --json summary counts" grep -q '"copied":2,.*"failed":1,' ur/events.txt
	(cd ur && as_user "$PCOPY" --stats s copy >copy-stats.txt 2>/dev/null)
	check "unreadable directory: the same counts as copy mode" bash -c 'for k in copied failed files directories; do [ "$(grep "^$k:" ur/copy-stats.txt)" = "$(grep "^$k:" ur/stats.txt)" ] || exit 1; done'
fi
chmod 755 ur/s/locked

# ---- suffixes in capitals
for pair in TAR.GZ:1f8b Tgz:1f8b TAR.BZ2:425a68 Tar.Xz:fd377a585a00 TAR.ZST:28b52ffd TAR.LZ4:04224d18; do
	suffix=${pair%%:*} magic=${pair#*:}
	"$PCOPY" -q --tar "c.$suffix" src
	check ".$suffix: compressed ($magic)" [ "$(head -c $((${#magic} / 2)) "c.$suffix" | od -An -tx1 | tr -d ' \n')" = "$magic" ]
done

# ---- a terminal on stdout
if command -v script >/dev/null && script -qec true /dev/null </dev/null >/dev/null 2>&1; then
	script -qec "'$PCOPY' --tar - src; echo \"rc=\$?\"" /dev/null </dev/null >tty.txt 2>&1
	check "--tar - to a terminal: refused with exit 2" grep -q 'rc=2' tty.txt
	check "--tar - to a terminal: says why" grep -qi 'pcopy: .*terminal' tty.txt
	check "--tar - to a terminal: no archive written" bash -c '[ $(wc -c <tty.txt) -lt 400 ] && ! grep -aq ustar tty.txt'
	"$PCOPY" -q --tar - src 2>/dev/null | tar -tf - >piped.txt 2>/dev/null
	check "--tar - to a pipe still works" grep -qx src/plain.txt piped.txt
else
	skip "script(1) cannot run a command on a pseudo-terminal here"
fi
finish
