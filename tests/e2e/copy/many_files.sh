#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# 20,000 small files in 200 directories: exact with one worker and with eight, every file
# counted once.
. "$(dirname "$0")/../../lib.sh"

python3 - <<'PY'
import os, random
rnd = random.Random(7)
for d in range(200):
    sub = os.path.join("src", f"d{d // 20:02}", f"e{d:03}")
    os.makedirs(sub, exist_ok=True)
    for f in range(100):
        with open(os.path.join(sub, f"f{f:03}"), "wb") as fh:
            fh.write(rnd.randbytes(rnd.randrange(0, 3000)))
PY
"$PCOPY" -q -j 1 --stats src j1 >stats1.txt
check "-j 1: exit 0" [ $? -eq 0 ]
"$PCOPY" -q -j 8 --stats src j8 >stats8.txt
check "-j 8: exit 0" [ $? -eq 0 ]
check "-j 1 copy exact" same_tree src j1
check "-j 8 copy exact" same_tree src j8
check "-j 1 copied 20000" grep -qx 'copied: 20000' stats1.txt
check "-j 8 copied 20000" grep -qx 'copied: 20000' stats8.txt
check "-j 8 directories 211" grep -qx 'directories: 211' stats8.txt
check "file count matches" [ "$(find j8 -type f | wc -l)" -eq 20000 ]
check "no temporary files" no_tmp j8
finish
