#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# --manifest is xxh128sum-compatible and sorted; --json and --stats report what happened.
. "$(dirname "$0")/../../lib.sh"

make_tree src
"$PCOPY" -q --manifest man.txt src dst
check "exit 0" [ $? -eq 0 ]
# xxhsum 0.8.1 cannot check the escaped line of the name with a newline; check the rest.
grep -av '^\\' man.txt >plain-lines.txt
check "xxh128sum -c passes in DEST" bash -c 'cd dst && xxh128sum --quiet --strict -c ../plain-lines.txt 2>/dev/null'
check "sorted bytewise by path" bash -c 'sed "s/^\\\\//" man.txt | cut -c35- | LC_ALL=C sort -c'
check "one line per regular file" [ "$(wc -l <man.txt)" -eq "$(find src -type f -printf x | wc -c)" ]
check "hard link listed under both names" grep -aq '  sub/hardlink$' man.txt
check "newline name escaped coreutils-style" grep -aq '^\\[0-9a-f]\{32\}  new\\nline$' man.txt
check "backslash name escaped" grep -aq '^\\[0-9a-f]\{32\}  back\\\\slash$' man.txt
want=$(cd src && xxh128sum sub/random.bin)
check "hash of a file equals xxh128sum's" grep -aqxF "$want" man.txt

"$PCOPY" -q --manifest - src dst >stdout-man.txt
check "--manifest - writes to stdout; a skipped re-run lists the same hashes" cmp -s man.txt stdout-man.txt

"$PCOPY" -q --manifest sub-man.txt src/sub src/plain.txt into-dir 2>/dev/null || { mkdir into-dir; "$PCOPY" -q --manifest sub-man.txt src/sub src/plain.txt into-dir; }
check "several sources: paths relative to DIRECTORY" bash -c 'cd into-dir && xxh128sum --quiet --strict -c ../sub-man.txt 2>/dev/null'
check "... with the source base name" grep -aq '  sub/random.bin$' sub-man.txt

"$PCOPY" -v --stats --manifest - src mv >mv.txt 2>/dev/null
check "--manifest - keeps stdout for the manifest (-v, --stats go to stderr)" bash -c 'grep -avq "^\\\\\?[0-9a-f]\{32\}  " mv.txt; [ $? -eq 1 ]'

"$PCOPY" --json src j >events.json
check "json: one object per line" bash -c 'python3 -c "import json,sys; [json.loads(l) for l in open(\"events.json\")]"'
check "json: copied event with path, bytes and hash" grep -aq '^{"event":"copied","path":"sub/random.bin","type":"file","bytes":300000,"hash":"[0-9a-f]\{32\}"}$' events.json
check "json: summary last" bash -c 'tail -1 events.json | grep -aq "^{\"event\":\"summary\",\"files\":"'
check "json: non-UTF-8 byte escaped" grep -aq 'caf\\u00e9' events.json
python3 - <<'PY' >summary.txt
import json
s = [json.loads(l) for l in open("events.json")][-1]
print(s["files"], s["copied"], s["skipped"], s["failed"], s["exit"])
PY
check "json: summary counts" [ "$(cat summary.txt)" = "17 17 0 0 0" ]

"$PCOPY" -q --stats src s >stats.txt
for key in 'files: 17' 'copied: 17' 'skipped: 0' 'failed: 0' 'directories: 6'; do
	check "--stats prints '$key'" grep -aqx "$key" stats.txt
done
check "--stats prints bytes, seconds, throughput" grep -aq '^seconds: ' stats.txt && grep -aq '^throughput: ' stats.txt && grep -aq '^bytes: ' stats.txt

"$PCOPY" -v src v >verbose.txt
check "-v lists each file" grep -aqx 'sub/deeper/file' verbose.txt
check "-v: one line per entry" [ "$(wc -l <verbose.txt)" -eq 18 ] # 17 entries, one name holds a newline
finish
