#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Re-runs: nothing copied when nothing changed; only what changed is copied; --checksum
# catches a same-size, same-mtime change that the quick check cannot; --force copies all;
# metadata-only changes are applied; --delete and --dry-run.
. "$(dirname "$0")/../../lib.sh"

make_tree src
"$PCOPY" -q src dst
"$PCOPY" -q --json src dst >run2.json
check "no-change re-run copies nothing" grep -q '"event":"summary".*"copied":0,' run2.json
check "no-change re-run skips every file" [ "$(grep -c '"event":"skipped"' run2.json)" -ge 10 ]

echo changed >src/sub/deeper/file
"$PCOPY" -q --stats src dst >s.txt
check "one changed file: copied 1" grep -qx 'copied: 1' s.txt
check "tree exact after the change" same_tree src dst

# Same size, same mtime, different content: the quick check keeps the old copy ...
printf 'HELLO\n' >tmp.txt
touch -r src/plain.txt tmp.txt
cp --preserve=timestamps tmp.txt src/plain.txt
touch -r tmp.txt src/plain.txt
"$PCOPY" -q src dst
check "quick check does not see a same-size same-mtime change" [ "$(cat dst/plain.txt)" = hello ]
"$PCOPY" -q -c --stats src dst >s.txt
check "--checksum copies it" [ "$(cat dst/plain.txt)" = HELLO ]
check "--checksum: copied 2 (the file, and its hard link made again)" grep -qx 'copied: 2' s.txt
check "hard link still a link after the re-copy" [ "$(stat -c %i dst/plain.txt)" = "$(stat -c %i dst/sub/hardlink)" ]

"$PCOPY" -q --force --stats src dst >s.txt
check "--force copies every file" [ "$(sed -n 's/^copied: //p' s.txt)" -ge 15 ]

chmod 600 src/sub/random.bin
"$PCOPY" -q --json src dst >m.json
check "mode-only change applied" [ "$(stat -c %a dst/sub/random.bin)" = 600 ]
check "mode-only change reported as updated, not copied" grep -q '"event":"updated","path":"sub/random.bin"' m.json
check "... and the summary says copied 0" grep -q '"copied":0,' m.json

touch -d '2010-10-10 10:10:10.5' src/sub/zero-length
"$PCOPY" -q src dst
check "mtime-only change applied" [ "$(stat -c %Y.%y dst/sub/zero-length)" = "$(stat -c %Y.%y src/sub/zero-length)" ]

# Times are compared to the nanosecond (pcopy.1, Incremental runs): a same-size copy whose
# mtime differs only below the second, with other data, is copied again, as rsync does with
# --modify-window=-1 (rsync's default, whole seconds, would keep the stale data).
printf 'HELLO\n' >src/plain.txt
touch -d '2011-11-11 11:11:11.250' src/plain.txt
"$PCOPY" -q src dst
printf 'STALE\n' >dst/plain.txt
touch -d '2011-11-11 11:11:11.750' dst/plain.txt
"$PCOPY" -q --stats src dst >s.txt
check "an mtime differing below the second: copied again" [ "$(cat dst/plain.txt)" = HELLO ]
check "... with the source's time to the nanosecond" [ "$(stat -c %.9Y dst/plain.txt)" = "$(stat -c %.9Y src/plain.txt)" ]
if command -v rsync >/dev/null; then
	printf 'STALE\n' >dst/plain.txt
	touch -d '2011-11-11 11:11:11.750' dst/plain.txt
	rsync -aHAX --modify-window=-1 src/ dst/
	check "... as rsync --modify-window=-1 does" [ "$(cat dst/plain.txt)" = HELLO ]
fi

# --delete removes what the source no longer has, never without the flag.
echo extra >dst/extra-file && mkdir -p dst/extra-dir/x && echo e >dst/extra-dir/x/f
ln -s /etc/passwd dst/extra-link
"$PCOPY" -q src dst
check "without --delete extras stay" [ -e dst/extra-file ] && [ -d dst/extra-dir ]
"$PCOPY" -n --delete src dst >dry.txt
check "--dry-run --delete lists deletions" grep -qx 'deleting extra-dir' dry.txt
check "--dry-run --delete changes nothing" [ -e dst/extra-file ] && [ -d dst/extra-dir ]
"$PCOPY" -q --delete src dst
check "--delete removes files, dirs and links" [ ! -e dst/extra-file ] && [ ! -e dst/extra-dir ] && [ ! -L dst/extra-link ]
check "/etc/passwd untouched" [ -s /etc/passwd ]
check "tree exact after --delete" same_tree src dst

# --dry-run lists what would be copied and changes nothing.
echo new >src/new-file
before=$(times_of dst)
"$PCOPY" -n src dst >dry.txt
check "--dry-run lists the new file" grep -qx 'new-file' dry.txt
check "--dry-run copies nothing" [ ! -e dst/new-file ]
check "--dry-run leaves times alone" [ "$before" = "$(times_of dst)" ]
"$PCOPY" -n src never-made >dry-new.txt 2>dry-new.err
check "--dry-run to a new DEST: exit 0" [ $? -eq 0 ]
check "--dry-run to a new DEST: no error ($(head -c 200 dry-new.err))" [ ! -s dry-new.err ]
check "--dry-run to a new DEST lists a file in a subdirectory" grep -qx 'sub/deeper/file' dry-new.txt
check "--dry-run to a new DEST creates nothing" [ ! -e never-made ]

# Stale temporary files from a killed run are removed by the next run.
echo junk >dst/sub/.pcopy-tmp.99999.1
"$PCOPY" -q src dst
check "stale temporary file removed" no_tmp dst

# --exclude: not copied, not descended, not deleted.
"$PCOPY" -q --exclude '*.bin' --exclude 'also empty' src ex
check "--exclude pattern on names" [ ! -e ex/sub/random.bin ] && [ -e ex/sub/zero-length ]
check "--exclude directory not descended" [ ! -e "ex/also empty" ]
finish
