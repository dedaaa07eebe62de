#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# --json: each entry's event names its type (file, dir, symlink, hardlink, fifo, ...), in a
# copy, a --delete, --tar and --extract, the same as find(1) sees it in the source; and
# --json-progress adds a "progress" event every second that a front end can draw a bar from.
. "$(dirname "$0")/../../lib.sh"

if ! command -v python3 >/dev/null 2>&1; then
	skip "python3 is not installed"
	finish
fi

make_tree src

# types FILE EVENT PREFIX: "path type" of FILE's EVENT events, sorted, PREFIX taken off paths;
# find's letters for the types (f d l p s c b), a hard link as f.
# (Not types.py: python3 puts the script's directory first on its path, and a types.py
# there takes the place of the standard module json needs.)
cat >event_types.py <<'EOF'
import json, sys
letters = {"file": "f", "hardlink": "f", "dir": "d", "symlink": "l", "fifo": "p",
           "socket": "s", "device": "c"}
out = []
for line in open(sys.argv[1], encoding="utf-8", errors="surrogateescape"):
    e = json.loads(line)
    if e["event"] == sys.argv[2]:
        p = e["path"]
        if sys.argv[3] and p == sys.argv[3].rstrip("/"):
            continue  # the top directory itself
        if p.startswith(sys.argv[3]):
            p = p[len(sys.argv[3]):]
        if p:
            out.append("%s %s" % (p, letters.get(e.get("type"), "?")))
for l in sorted(out):
    print(l)
EOF
# The name that is not UTF-8 is left out: --json writes its byte as \u00e9, which reads
# back as the other name, café.
types() { python3 event_types.py "$@" | grep -av '^caf' | LC_ALL=C sort; }
# find's view of the entries below DIR that are not directories (copy mode reports no
# directories), or of all of them with "all".
find_types() {
	if [ "${2:-}" = all ]; then
		(cd "$1" && find . -mindepth 1 -printf '%P %y\n')
	else
		(cd "$1" && find . -mindepth 1 ! -type d -printf '%P %y\n')
	fi | grep -av '^caf' | LC_ALL=C sort
}

"$PCOPY" --json src dst >copy.json
check "copy: exit 0" [ $? = 0 ]
check "copy: every line is JSON" python3 -c 'import json,sys; [json.loads(l) for l in open("copy.json")]'
same_text "copy: each copied entry's type is find's" "$(find_types src)" \
	"$(types copy.json copied '')"
check "copy: one of the two hard-linked names is a hardlink" \
	[ "$(grep -c '"path":"\(plain.txt\|sub/hardlink\)","type":"hardlink"' copy.json)" = 1 ]
check "copy: the summary has no type" not grep -q '"event":"summary".*"type"' copy.json

"$PCOPY" --json src dst >again.json
check "re-run: skipped events carry their type" grep -q '"event":"skipped","path":"link-rel","type":"symlink"' again.json

mkdir -p dst/extra-dir/in && touch dst/extra-file && ln -s x dst/extra-link
"$PCOPY" --json --delete src dst >delete.json
check "--delete: a deleted directory is a dir" grep -q '"event":"deleted","path":"extra-dir","type":"dir"' delete.json
check "--delete: a deleted file is a file" grep -q '"event":"deleted","path":"extra-file","type":"file"' delete.json
check "--delete: a deleted symlink is a symlink" grep -q '"event":"deleted","path":"extra-link","type":"symlink"' delete.json

"$PCOPY" --json --tar a.tar src >tar.json
check "--tar: exit 0" [ $? = 0 ]
same_text "--tar: each member's type is find's" "$(find_types src all)" "$(types tar.json archived src/)"
mkdir x
"$PCOPY" --json --extract a.tar x >extract.json
check "--extract: exit 0" [ $? = 0 ]
same_text "--extract: each member's type is find's" "$(find_types src all)" \
	"$(types extract.json extracted src/)"

# --json-progress: a copy of about 3 seconds (one worker sleeping 10 ms before each file).
mkdir slow && for i in $(seq 1 300); do head -c 20000 /dev/urandom >"slow/f$i"; done
PCOPY_TEST_SLOW_MS=10 "$PCOPY" -j 1 --json-progress slow slowdst >progress.json 2>err.txt
check "--json-progress: exit 0" [ $? = 0 ]
check "--json-progress: nothing on stderr (not a terminal)" [ ! -s err.txt ]
check "--json-progress: the events of --json too" grep -q '"event":"copied","path":"f1","type":"file"' progress.json
python3 - >check.txt <<'EOF'
import json
ev = [json.loads(l) for l in open("progress.json")]
prog = [e for e in ev if e["event"] == "progress"]
keys = {"files_done", "files_total", "bytes_done", "bytes_total", "rate", "eta", "seconds",
        "scanning"}
print("count", "ok" if len(prog) >= 2 else len(prog))
print("keys", "ok" if all(set(p) - {"event"} == keys for p in prog) else [sorted(p) for p in prog])
secs = [p["seconds"] for p in prog]
gaps = [b - a for a, b in zip(secs, secs[1:])]
print("every_second", "ok" if secs[0] >= 1 and all(0.9 <= g <= 1.5 for g in gaps) else secs)
done = [p["files_done"] for p in prog]
print("monotonic", "ok" if done == sorted(done) and all(p["files_done"] <= p["files_total"] and
      p["bytes_done"] <= p["bytes_total"] for p in prog) else done)
rated = [p for p in prog if p["rate"] is not None]
print("rate", "ok" if rated and all(p["rate"] > 0 and p["eta"] is not None and p["eta"] >= 0
      for p in rated) else prog)
print("summary_last", "ok" if ev[-1]["event"] == "summary" else ev[-1])
EOF
while read -r what result; do
	check "--json-progress: $what ($result)" [ "$result" = ok ]
done <check.txt
check "--json-progress and --tar -: refused (both want stdout)" not "$PCOPY" --json-progress --tar - src

finish
