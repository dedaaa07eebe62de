#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# -i, --itemize-changes and --log-file: pcopy prints the lines rsync -aHAX -i prints for the
# same tree and the same DEST (compared sorted: the order of the lines differs), and
# --log-file appends them with rsync's "YYYY/MM/DD HH:MM:SS [PID] " before each.
. "$(dirname "$0")/../../lib.sh"

mkdir -p src/d1/d2 R P
echo a >src/a
echo bb >src/d1/b
echo ccc >src/d1/d2/c
ln -s a src/l
mkfifo src/fifo
# Whole seconds apart, so that every time rsync's 't' compares differs or is equal for sure.
find src -exec touch -h -d '2020-01-01 00:00:00' {} +

# step NAME [OPTION]...: the same change from rsync -aHAX -i (into R/dst) and pcopy -i
# (into P/dst), run from inside R and P so that "created directory dst" reads the same.
step() {
	local what=$1
	shift
	(cd R && rsync -aHAX -i "$@" ../src/ dst/) >r.out 2>&1
	(cd P && "$PCOPY" -q -i "$@" ../src dst) >p.out 2>&1
	same_text "$what: the lines rsync -i prints" "$(LC_ALL=C sort r.out)" "$(LC_ALL=C sort p.out)"
}

step "a new tree"
check "a new tree: pcopy's copy is rsync's" same_tree R/dst P/dst
step "no change: no line"
check "no change: nothing printed" test ! -s p.out

echo "more data" >>src/a
touch -d '2021-01-01 00:00:00' src/a
step "content change (size and time)"

touch -d '2022-01-01 00:00:00' src/d1/b
step "mtime-only change"

chmod 600 src/d1/b
chmod 700 src/d1/d2
step "mode change of a file and a directory"

ln -s d1/b src/l2
ln -sfn d1 src/l
step "a new symlink and one with a new target"

rm src/d1/d2/c
echo extra >R/dst/extra
echo extra >P/dst/extra
step "deleted file and extra file with --delete" --delete
check "--delete: the extras are gone" test ! -e P/dst/extra -a ! -e P/dst/d1/d2/c

ln src/d1/b src/d1/hb
step "a new hard link"

if [ "$(id -u)" = 0 ]; then
	chown 1:2 src/a
	chown 3 src/d1/b
	step "owner and group change"
else
	skip "owner and group change: needs root"
fi

if setfattr -n user.pcopy -v 1 src/a 2>/dev/null; then
	step "xattr change"
else
	skip "xattr change: user xattrs not supported here"
fi

if command -v setfacl >/dev/null && setfacl -m u:1:r src/d1/b 2>/dev/null; then
	step "ACL change"
else
	skip "ACL change: setfacl not available"
fi

# -n: the lines of what would change, and nothing changes.
echo "dry" >>src/d1/b
touch -d '2023-01-01 00:00:00' src/d1/b
mkdir src/newdir
echo n >src/newdir/n
before=$(times_of P/dst)
step "-n: what would change" -n
same_text "-n: DEST is left as it was" "$before" "$(times_of P/dst)"
rm -rf R/dst2 P/dst2
(cd R && rsync -aHAX -i -n ../src/ dst2/) >r.out 2>&1
(cd P && "$PCOPY" -q -i -n ../src dst2) >p.out 2>&1
# Which name of a new set of hard links gets the data differs (rsync: its last name in its
# list; pcopy: the first in the walk), so those two lines are compared apart.
same_text "-n into a new DEST: rsync's lines" "$(grep -Ev '^.{11} d1/h?b( |$)' r.out | LC_ALL=C sort)" \
	"$(grep -Ev '^.{11} d1/h?b( |$)' p.out | LC_ALL=C sort)"
same_text "-n into a new DEST: the new hard links" \
	"$(printf '%s\n' '>f+++++++++ d1/b' 'hf+++++++++ d1/hb => d1/b')" \
	"$(grep -E '^.{11} d1/h?b( |$)' p.out | LC_ALL=C sort)"
check "-n into a new DEST: nothing made" test ! -e P/dst2

# --files-from without ".": DEST itself is not sent, so rsync says only "created directory"
# for a new one and nothing for one that exists (whose time and mode differ from SOURCE's).
printf '%s\n' d1/b >from.list
rm -rf R/dst3 P/dst3
(cd R && rsync -aHAX -i --files-from=../from.list ../src/ dst3/) >r.out 2>&1
(cd P && "$PCOPY" -q -i --files-from=../from.list ../src dst3) >p.out 2>&1
same_text "--files-from into a new DEST, no '.': rsync's lines" "$(LC_ALL=C sort r.out)" "$(LC_ALL=C sort p.out)"
touch -d '2019-01-01' R/dst3 P/dst3
chmod 700 R/dst3 P/dst3
touch src/d1/b
(cd R && rsync -aHAX -i --files-from=../from.list ../src/ dst3/) >r.out 2>&1
(cd P && "$PCOPY" -q -i --files-from=../from.list ../src dst3) >p.out 2>&1
same_text "--files-from into an existing DEST, no '.': rsync's lines" "$(LC_ALL=C sort r.out)" "$(LC_ALL=C sort p.out)"

# --log-file: the same lines, each after a timestamp and the pid, appended.
echo "log" >>src/a
touch -d '2024-01-01 00:00:00' src/a
(cd P && "$PCOPY" -q -i --log-file ../pcopy.log ../src dst) >p.out 2>&1
stamp='^[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} \[[0-9]+\] '
check "--log-file: every line starts as rsync's log lines do" \
	test "$(grep -cEv "$stamp" pcopy.log)" = 0
same_text "--log-file: the lines -i prints" "$(cat p.out)" "$(sed -E "s#$stamp##" pcopy.log)"
rsync -aHAX --log-file=rsync.log src/ R/dst/ >/dev/null
same_text "--log-file: the change lines rsync logs" \
	"$(sed -E "s#$stamp##" rsync.log | grep -v -e '^building file list' -e '^sent ' | LC_ALL=C sort)" \
	"$(sed -E "s#$stamp##" pcopy.log | LC_ALL=C sort)"
touch -d '2025-01-01 00:00:00' src/a
lines=$(wc -l <pcopy.log)
"$PCOPY" -q --log-file pcopy.log src P/dst >p.out 2>&1
check "--log-file without -i: nothing on stdout" test ! -s p.out
check "--log-file: one line appended" test "$(wc -l <pcopy.log)" = $((lines + 1))
check "--log-file: the line appended" grep -qE "$stamp>f\.\.t\.{6} a\$" pcopy.log

# --log-file with --json: the events on stdout, the lines in the file.
touch -d '2026-01-01 00:00:00' src/a
"$PCOPY" -q --json --log-file json.log src P/dst >p.out 2>&1
check "--log-file with --json: the line logged" grep -qE "$stamp>f\.\.t\.{6} a\$" json.log
check "--log-file with --json: JSON on stdout" grep -q '^{"event":"copied","path":"a"' p.out

# Bad uses: a log file that cannot be opened, -i with --json or --check.
"$PCOPY" -q --log-file no/such/dir/log src P/dst 2>err.out
check "--log-file in a missing directory: exit 2" test $? = 2
check "--log-file in a missing directory: named in the message" \
	grep -q '^pcopy: no/such/dir/log: ' err.out
for bad in "-i --json" "--log-file x --check" "-i --check" "-i --tar x.tar" "--log-file="; do
	"$PCOPY" $bad src P/dst >/dev/null 2>err.out
	check "$bad: exit 2" test $? = 2
done
finish
