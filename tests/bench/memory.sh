#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Peak memory of pcopy on a tree of many empty files, and whether copying overlaps the walk.
#
#   tests/bench/memory.sh [-n FILES] [-d FILES_PER_DIR] [-j N] [-i MS] [-t TREE] [-r]
#   -n: files in the tree (default 1000000); -d: files per directory (default 1000);
#   -j: pcopy workers (default 2); -i: sampling interval in ms (default 20);
#   -t: keep the tree in TREE: made there if missing, reused if present, never removed
#       (for trees too big for tmpfs, e.g. 10,000,000 files in an ext4 image);
#   -r: also measure a no-change re-run of each copy (pcopy again into the finished copy)
#
# Environment:
#   TMPFS_DIR  where the tree (unless -t) and the copies are made (default /dev/shm);
#              removed at exit. Another file system works too (then only inodes are checked).
#   PCOPY      pcopy binary to measure (default: REPO/pcopy).
#
# The tree is SRC/a (a tenth of the files) and SRC/b (the rest), so the script runs
# `pcopy --progress SRC/a` and then `pcopy --progress SRC`, each under /usr/bin/time -v.
# The per-file cost is the slope between the two runs, (peak(all) - peak(a)) /
# (files(all) - files(a)); the fixed part (binary, libraries, queues) cancels out.
#
# What is measured, and why not only /usr/bin/time -v: its "Maximum resident set size"
# is the ru_maxrss of what it waited for, which Linux reports as the largest peak of
# pcopy and of any one of its reaped workers, not their sum. So a sampler also reads,
# every -i ms, /proc/PID/status of the parent and of each worker (VmHWM: the kernel's
# own peak RSS of that process, exact even between samples) and /proc/PID/smaps_rollup
# (Pss: resident memory with shared pages, such as pcopy's shared-memory queues and name
# arena, divided among the processes that map them). "sum PSS" is the largest total over
# the samples: the memory the run as a whole took, counting shared pages once.
#
# Overlap: pcopy's progress line says "DONE/FOUND+ files" while the walk is still
# running; the sampler timestamps every line, so the report says when the first entry was
# done and when the walk ended. It also checks that the percentage never goes down.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=tests/bench/lib.sh
. "$here/lib.sh"

files=1000000
per_dir=1000
jobs=2
interval=20
tmpfs_dir=${TMPFS_DIR:-/dev/shm}
tree=   # -t: a kept tree
rerun=0 # -r: also a no-change re-run

work= # private dir: tree, copies, logs

cleanup() {
	[ -n "$work" ] || return 0
	note "removing $work"
	rm -rf -- "$work"
}

parse_args() {
	local opt
	while getopts 'n:d:j:i:t:rh' opt; do
		case $opt in
		t) tree=$OPTARG ;;
		r) rerun=1 ;;
		n) files=$OPTARG ;;
		d) per_dir=$OPTARG ;;
		j) jobs=$OPTARG ;;
		i) interval=$OPTARG ;;
		*) usage ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# -eq 0 ] || usage
	local v
	for v in "$files" "$per_dir" "$jobs" "$interval"; do
		[[ $v =~ ^[1-9][0-9]*$ ]] || die "options want positive numbers, not '$v'"
	done
	[ "$files" -ge 20 ] || die "-n wants at least 20 files (a tenth of them is the small run)"
}

check_tools() {
	[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"
	command -v python3 >/dev/null || die "python3 is missing"
	pcopy_bin=${PCOPY:-$repo/pcopy}
	[ -x "$pcopy_bin" ] || die "no pcopy binary at $pcopy_bin (run make in $repo, or set PCOPY)"
	pcopy_info=$(build_info "$pcopy_bin" "$repo")
}

# The tree and one copy at a time live in tmpfs: an inode and a dentry per file, twice
# (about 1.2 kB), so refuse when the file system has too few inodes or the machine too
# little memory.
check_room() {
	local need_inodes need_bytes have_inodes have_bytes mem copies=2
	[ -z "$tree" ] || [ ! -d "$tree/a" ] || copies=1
	need_inodes=$((copies * (files + files / per_dir + 10) + 1000))
	need_bytes=$((copies * files * 1200))
	have_inodes=$(df --output=iavail "$tmpfs_dir" | tail -n 1 | tr -d ' ')
	have_bytes=$(df --output=avail --block-size=1 "$tmpfs_dir" | tail -n 1 | tr -d ' ')
	mem=$(awk '/^MemAvailable:/ { printf "%.0f\n", $2 * 1024 }' /proc/meminfo)
	[ "$have_inodes" -ge "$need_inodes" ] ||
		die "$tmpfs_dir has $have_inodes free inodes; a tree and a copy of $files files need $need_inodes"
	if [ "$(stat -f -c %T "$tmpfs_dir")" != tmpfs ]; then
		note "$tmpfs_dir is not a tmpfs: checked its inodes only"
		return 0
	fi
	if [ "$have_bytes" -lt "$need_bytes" ] || [ "$mem" -lt $((2 * need_bytes)) ]; then
		die "not enough memory for $files files in $tmpfs_dir (about $need_bytes bytes, twice that free)"
	fi
}

# SRC/a/dNNNNN/fNNNN (files/10 files) and SRC/b/... (the rest), PER_DIR files a directory.
make_tree() {
	python3 - "$1" "$files" "$per_dir" <<'PY'
import os, sys
root, total, per_dir = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
small = total // 10
for part, count in (("a", small), ("b", total - small)):
    for start in range(0, count, per_dir):
        d = os.path.join(root, part, "d%05d" % (start // per_dir))
        os.makedirs(d)
        fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
        for i in range(min(per_dir, count - start)):
            os.close(os.open("f%04d" % i, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644, dir_fd=fd))
        os.close(fd)
PY
}

# Runs "$@" (the /usr/bin/time command line), reading its stderr (pcopy's progress line)
# and sampling the memory of every process under it. Prints key=value lines.
sample() {
	python3 - "$interval" "$@" <<'PY'
import os, re, select, subprocess, sys, time

interval = int(sys.argv[1]) / 1000.0
cmd = sys.argv[2:]

def kids_of(pids):
    """Every process whose parent is in pids, and theirs, by one scan of /proc."""
    parent = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
        except OSError:
            continue
        # the command name may hold spaces and parentheses: fields start after the last ")"
        parent[int(name)] = int(stat[stat.rindex(")") + 2:].split()[1])
    found, todo = set(), set(pids)
    while todo:
        todo = {p for p, pp in parent.items() if pp in todo and p not in found}
        found |= todo
    return found

def status(pid):
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmHWM", "VmRSS", "RssAnon", "RssShmem", "RssFile", "PPid"):
                    out[k] = int(v.split()[0])
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    out["Pss"] = int(line.split()[1])
    except (OSError, ValueError):
        return None
    return out

t0 = time.monotonic()
proc = subprocess.Popen(cmd, stderr=subprocess.PIPE)
timer = proc.pid
hwm = {}      # pid -> last VmHWM seen (kB); it only grows, so the last is the peak
role = {}     # pid -> "parent" or "worker"
peak_pss = peak_rss = 0
buf = b""
lines = []    # (seconds, text) of each progress line
tail = []     # anything else pcopy printed
fd = proc.stderr.fileno()
open_pipe = True
while True:
    done = proc.poll() is not None
    now = time.monotonic() - t0
    pids = kids_of([timer])
    pss = rss = 0
    for pid in pids:
        st = status(pid)
        if st is None:
            continue
        if pid not in role:
            role[pid] = "parent" if st.get("PPid") == timer else "worker"
        hwm[pid] = max(hwm.get(pid, 0), st.get("VmHWM", 0))
        pss += st.get("Pss", 0)
        rss += st.get("VmRSS", 0)
    peak_pss, peak_rss = max(peak_pss, pss), max(peak_rss, rss)
    if open_pipe and select.select([fd], [], [], 0 if done else interval)[0]:
        chunk = os.read(fd, 65536)
        if not chunk:
            open_pipe = False
        stamp = time.monotonic() - t0
        buf += chunk
        parts = re.split(rb"[\r\n]", buf)
        buf = parts.pop()
        for p in parts:
            text = p.replace(b"\x1b[K", b"").decode("utf-8", "replace").strip()
            if text:
                lines.append((stamp, text))
    elif not open_pipe and not done:
        time.sleep(interval)
    if done and not open_pipe:
        break
wall = time.monotonic() - t0
if buf.strip():
    lines.append((wall, buf.replace(b"\x1b[K", b"").decode("utf-8", "replace").strip()))

# Progress lines: "  12.5%  1234/5678+ files  0 B/s  ETA -:--"; "+" while the walk runs.
pat = re.compile(r"^\s*([0-9.]+)%\s+(\d+)/(\d+)(\+?) files")
first_line = first_done = walk_end = None
pcts = []
for stamp, text in lines:
    m = pat.match(text)
    if not m:
        tail.append(text)
        continue
    pct, done_n, found, scanning = float(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4)
    pcts.append(pct)
    if first_line is None:
        first_line = (stamp, scanning == "+")
    if first_done is None and done_n > 0:
        first_done = (stamp, done_n, found, scanning == "+")
    if walk_end is None and not scanning:
        walk_end = (stamp, done_n, found)

parents = [p for p in role if role[p] == "parent"]
workers = [p for p in role if role[p] == "worker"]
print("status=%d" % proc.returncode)
print("wall=%.3f" % wall)
print("parent_hwm_kb=%d" % max([hwm[p] for p in parents] or [0]))
print("worker_hwm_kb=%d" % max([hwm[p] for p in workers] or [0]))
print("workers_seen=%d" % len(workers))
print("peak_pss_kb=%d" % peak_pss)
print("peak_rss_kb=%d" % peak_rss)
print("progress_lines=%d" % len(pcts))
if first_line:
    print("first_line=%.3f %s" % (first_line[0], "scanning" if first_line[1] else "walk-over"))
if first_done:
    print("first_done=%.3f %d %d %s" % (first_done[0], first_done[1], first_done[2],
                                        "scanning" if first_done[3] else "walk-over"))
if walk_end:
    print("walk_end=%.3f %d %d" % walk_end)
falls = [a - b for a, b in zip(pcts, pcts[1:]) if b < a - 0.05]
print("pct_drops=%d" % len(falls))
print("pct_max_drop=%.1f" % max(falls or [0]))
if pcts:
    print("pct_range=%.1f %.1f" % (min(pcts), max(pcts)))
for t in tail[-5:]:
    print("other=%s" % t)
PY
}

# Runs pcopy on $1 into $2 under /usr/bin/time and the sampler; results in r_* globals.
measure() {
	local src=$1 dst=$2 tag=$3 out=$work/$3.out tv=$work/$3.time key val
	note "pcopy -j$jobs --progress $src ($tag)"
	sample /usr/bin/time -v -o "$tv" "$pcopy_bin" -j"$jobs" --progress -- "$src" "$dst" >"$out"
	declare -gA r=()
	while IFS='=' read -r key val; do
		case $key in other) r[other]+="$val; " ;; *) r[$key]=$val ;; esac
	done <"$out"
	[ "${r[status]}" = 0 ] || { cat "$tv" >&2; die "pcopy failed on $src (status ${r[status]}): ${r[other]:-}"; }
	r[time_kb]=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tv")
	r[files]=$(find "$dst" -type f | wc -l)
	[ "${r[files]}" -eq "$(find "$src" -type f | wc -l)" ] || die "the copy of $src is incomplete"
	local k
	for k in "${!r[@]}"; do res[$tag/$k]=${r[$k]}; done
	[ "${tag%-re}" = "$tag" ] || return 0
	[ "$rerun" = 0 ] || measure "$src" "$dst" "$tag-re"
	rm -rf -- "$dst"
}

kib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

# (kB at all - kB at a) * 1024 / (files at all - files at a); $2: "-re" for the re-runs
slope() {
	awk -v a="${res[a$2/$1]}" -v b="${res[all$2/$1]}" -v fa="${res[a$2/files]}" -v fb="${res[all$2/files]}" \
		'BEGIN { printf "%.0f", (b - a) * 1024 / (fb - fa) }'
}

report() {
	local tag
	echo "date:    $(date '+%Y-%m-%d %H:%M:%S %z')"
	local tags=(a all) suffix
	[ "$rerun" = 0 ] || tags+=(a-re all-re)
	echo "host:    nproc $(nproc), kernel $(uname -r), copies in $tmpfs_dir ($(stat -f -c %T "$tmpfs_dir"))"
	echo "pcopy:   $pcopy_info"
	echo "tree:    $files empty files, $per_dir per directory${tree:+, in $tree ($(stat -f -c %T "$tree"))}; sampling every ${interval} ms"
	echo
	printf '%-6s %9s %8s %12s %12s %12s %14s %8s\n' run files "wall s" "parent HWM" "worker HWM" "sum PSS" "time -v maxRSS" workers
	for tag in "${tags[@]}"; do
		printf '%-6s %9s %8s %12s %12s %12s %14s %8s\n' "$tag" "${res[$tag/files]}" "${res[$tag/wall]}" \
			"$(kib "${res[$tag/parent_hwm_kb]}")" "$(kib "${res[$tag/worker_hwm_kb]}")" \
			"$(kib "${res[$tag/peak_pss_kb]}")" "$(kib "${res[$tag/time_kb]}")" "${res[$tag/workers_seen]}"
	done
	echo
	local per_parent per_pss per_worker
	for suffix in "" ${tags[2]:+-re}; do
		per_parent=$(slope parent_hwm_kb "$suffix") per_pss=$(slope peak_pss_kb "$suffix")
		per_worker=$(slope worker_hwm_kb "$suffix")
		echo "bytes per file (slope between the ${suffix:+re-}runs): parent $per_parent, largest worker $per_worker, all processes (sum PSS) $per_pss"
	done
	per_pss=$(slope peak_pss_kb "")
	awk -v b="$per_pss" 'BEGIN { printf "target: peak memory < 200 bytes per file + a fixed amount: %s (%s B/file, sum PSS)\n", (b < 200 ? "PASS" : "MISS"), b }'
	for tag in a all; do
		local fd we fl verdict
		read -r -a fl <<<"${res[$tag/first_line]:-}"
		read -r -a fd <<<"${res[$tag/first_done]:-}"
		read -r -a we <<<"${res[$tag/walk_end]:-}"
		if [ ${#fl[@]} -eq 0 ] || [ ${#fd[@]} -eq 0 ] || [ ${#we[@]} -eq 0 ]; then
			echo "overlap ($tag): no progress lines to tell (${res[$tag/progress_lines]} seen)"
			continue
		fi
		if [ "${fd[3]}" = scanning ]; then
			verdict="copying starts before the walk ends"
		elif [ "${fl[1]}" = walk-over ]; then
			verdict="cannot tell: the walk was over by the first progress line (drawn every 0.1 s)"
		else
			verdict="NO OVERLAP: nothing was done while the walk ran"
		fi
		printf 'overlap (%s): first entry done by %ss (%s done of %s found, %s); walk over by %ss (%s of %s done); run %ss: %s\n' \
			"$tag" "${fd[0]}" "${fd[1]}" "${fd[2]}" "${fd[3]}" "${we[0]}" "${we[1]}" "${we[2]}" "${res[$tag/wall]}" "$verdict"
		echo "percentage ($tag): ${res[$tag/progress_lines]} progress lines, range ${res[$tag/pct_range]:-?}%, went down ${res[$tag/pct_drops]} times (at most ${res[$tag/pct_max_drop]} points at once)"
	done
}

main() {
	parse_args "$@"
	check_tools
	check_room
	work=$(mktemp -d "$tmpfs_dir/pcopy-memory.XXXXXX")
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	declare -gA res=()
	local t0=$SECONDS src=${tree:-$work/src}
	if [ -d "$src/a" ]; then
		note "reusing the tree in $src (made by this script with -n $files -d $per_dir?)"
	else
		note "making $files empty files in $src"
		make_tree "$src"
		note "tree made in $((SECONDS - t0)) s"
	fi
	measure "$src/a" "$work/dst-a" a
	measure "$src" "$work/dst-all" all
	report
}

main "$@"
