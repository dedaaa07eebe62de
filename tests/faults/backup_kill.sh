#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# --backup's two renames (#15): the old file to its backup name, then the verified new one
# over the final name. A worker killed between the two leaves the old file whole under its
# backup name; the run gives the file to another worker, which finds the name free and
# copies it, so the run still ends with the new file in place, its backup, and no temporary
# file; a re-run changes nothing.
. "$(dirname "$0")/../lib.sh"
use_inject

mkdir src dst
echo new-data >src/f && echo other >src/g
echo old >dst/f && echo old-g >dst/g && touch -d '2019-01-01 00:00:00' dst/f dst/g
LD_PRELOAD=$INJECT FAULT_RENAME_KILL='f~' "$PCOPY" -q -j 1 -b src dst 2>err.txt
check "killed after the backup rename: exit 0 ($(head -c 200 err.txt))" [ $? -eq 0 ]
check "the new file in place" cmp -s src/f dst/f
check "the old one kept whole" [ "$(cat dst/f~)" = old ]
check "the other file backed up as usual" [ "$(cat dst/g~)" = old-g ] && cmp -s src/g dst/g
check "no temporary file left" no_tmp dst
"$PCOPY" -q -b src dst
check "a re-run changes nothing" [ "$(cat dst/f~)" = old ] && [ "$(cat dst/g~)" = old-g ]

# With --backup-dir the same (the backup is renamed to its path below bk).
echo newer >src/f
LD_PRELOAD=$INJECT FAULT_RENAME_KILL='f.b' "$PCOPY" -q -j 1 --backup-dir bk --suffix .b src dst 2>err.txt
check "--backup-dir, killed after the backup rename: exit 0" [ $? -eq 0 ]
check "--backup-dir: the new file in place" cmp -s src/f dst/f
check "--backup-dir: the old one kept whole" [ "$(cat dst/bk/f.b)" = new-data ]
check "--backup-dir: no temporary file left" no_tmp dst
finish
