#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Draws what compare.sh -T or -p writes: seconds per corpus for each tool, and the -j curve.
#
#   tests/bench/plot.sh [-o DIR] [-f svg|png|both] [-t SUBTITLE] TSVFILE...
#   -o: where the pictures go (default: the directory of the first TSVFILE)
#   -f: picture format (default svg)
#   -t: a line under each picture's title (default: the "pcopy:" comment line of the
#       first TSVFILE, the version and commit that was timed)
#
# From the rows of series "tools": DIR/compare-WHERE.svg for each location (disk, tmpfs),
# a panel per corpus on its own scale, a bar per tool at its median with a whisker from
# the fastest to the slowest run. From the rows of series "jcurve" (compare.sh -J):
# DIR/jcurve.svg, a panel per corpus, pcopy's median seconds against -j for each location
# and cp -a's median as a dashed line of the same colour.
#
# The columns are compare.sh's (write_tsv): series, corpus, where, tool, label, median_s,
# min_s, max_s, runs_s. Lines starting with "#" are comments; "-" is a figure not known
# (no whisker then). When several rows have the same series, corpus, location and tool,
# the last counts, so a file that several runs appended to shows the latest of each.
# Needs gnuplot (Debian: gnuplot-nox); without it this says so and exits 1.
set -euo pipefail
export LC_ALL=C # a '.' decimal point in awk and gnuplot

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/bench/lib.sh
. "$here/lib.sh"

outdir=
format=svg
subtitle=
work=

# Colours: pcopy in blues, the other tools each their own; unknown tools grey.
declare -A colour=(
	[pcopy]=1f5fbf [pcopy_base]=8fa8cf [pcopy_nv]=62a8f0
	[cp]=e07b00 [cp_sum]=f2b36b [rsync]=5fb35f [rsync_h]=1d6b1d [tar]=8e44ad [dcp]=8c564b [dsync]=c49c94
)
declare -A where_colour=([tmpfs]=1f5fbf [disk]=b3541e)
grey=888888
# A whisker from the fastest run to the slowest: a vector with flat heads.
whisker='heads size screen 0.008,90'

parse_args() {
	local opt
	while getopts 'o:f:t:h' opt; do
		case $opt in
		o) outdir=$OPTARG ;;
		f) format=$OPTARG ;;
		t) subtitle=$OPTARG ;;
		*) usage ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# -gt 0 ] || usage
	case $format in svg | png | both) ;; *) die "-f wants svg, png or both, not '$format'" ;; esac
	local f
	for f; do [ -r "$f" ] || die "cannot read $f"; done
	tsvfiles=("$@")
	[ -n "$outdir" ] || outdir=$(dirname -- "$1")
	mkdir -p -- "$outdir" || die "cannot make $outdir"
	if [ -z "$subtitle" ]; then
		subtitle=$(sed -n 's/^# pcopy: *//p' "$1" | tail -n 1)
	fi
}

# Splits the rows into gnuplot data files in $work, one per panel, and index files:
#   wheres           the locations of series "tools", in order of appearance
#   bars.WHERE       the corpora of series "tools" at WHERE, in order of appearance
#   bars.WHERE.C     x, median, top (where a label goes), colour, label: one bar per tool
#   err.WHERE.C      x, median, min, max of the bars whose spread is known
#   jcurve           the corpora of series "jcurve", in order of appearance
#   jcurve.C         the locations with a curve for corpus C
#   j.C.WHERE        j, median, min, max (min and max "NaN" when not known), by j
#   jcp.C.WHERE      cp -a's median for that panel, if it ran
#   jvalues          every -j value, sorted
split_rows() {
	local colours='' id
	for id in "${!colour[@]}"; do colours+="$id=$((16#${colour[$id]})) "; done
	awk -F '\t' -v dir="$work" -v colours="$colours" -v grey=$((16#$grey)) '
		function known(v) { return v != "" && v != "-" }
		function add(list, item) { if (!((list, item) in seen)) { seen[list, item] = 1; order[list] = order[list] item "\n" } }
		BEGIN {
			n = split(colours, c, " ")
			for (i = 1; i <= n; i++) { split(c[i], kv, "="); col[kv[1]] = kv[2] }
		}
		/^#/ || $1 == "series" || NF < 6 { next }
		{
			key = $1 SUBSEP $2 SUBSEP $3 SUBSEP $4
			if (!(key in row)) keys[++nkeys] = key
			row[key] = $0
		}
		END {
			for (k = 1; k <= nkeys; k++) {
				split(row[keys[k]], f, "\t")
				series = f[1]; corpus = f[2]; where = f[3]; tool = f[4]; label = f[5]
				med = f[6]; lo = f[7]; hi = f[8]
				if (!known(med)) continue
				if (series == "tools") {
					add("wheres", where)
					add("bars." where, corpus)
					x = ++nbars[where, corpus]
					top = known(hi) ? hi : med
					printf "%d\t%s\t%s\t%d\t%s\n", x, med, top, (tool in col) ? col[tool] : grey, label \
						>(dir "/bars." where "." corpus)
					if (known(lo) && known(hi))
						printf "%d\t%s\t%s\t%s\n", x, med, lo, hi >(dir "/err." where "." corpus)
				} else if (series == "jcurve") {
					add("jcurve", corpus)
					if (tool ~ /^pcopy_j[0-9]+$/) {
						add("jcurve." corpus, where)
						j = substr(tool, 8)
						add("jvalues", j)
						printf "%d\t%s\t%s\t%s\n", j, med, known(lo) ? lo : "NaN", known(hi) ? hi : "NaN" \
							>(dir "/j." corpus "." where ".unsorted")
					} else if (tool == "cp") {
						printf "%s\n", med >(dir "/jcp." corpus "." where)
					}
				}
			}
			for (list in order) printf "%s", order[list] >(dir "/" list)
		}' "${tsvfiles[@]}"
	local f
	for f in "$work"/j.*.unsorted; do
		[ -e "$f" ] || continue
		sort -n "$f" >"${f%.unsorted}"
	done
	[ ! -e "$work/jvalues" ] || sort -n -o "$work/jvalues" "$work/jvalues"
}

# gnuplot's commands to open picture $1 (a path without extension) of $2 x $3 pixels in
# format $4.
terminal() {
	local font='font "sans,11"'
	case $4 in
	svg) echo "set terminal svg size $2,$3 dynamic noenhanced $font background rgb 'white'" ;;
	png) echo "set terminal pngcairo size $2,$3 noenhanced $font background rgb 'white'" ;;
	esac
	echo "set output '$1.$4'"
}

# A gnuplot string literal of $1 (in single quotes, which gnuplot does not expand).
quote() { printf "'%s'" "${1//\'/\'\'}"; }

# A gnuplot expression for a title of line $1 over line $2 (none if empty).
heading() {
	if [ -n "$2" ]; then printf '%s . "\\n" . %s' "$(quote "$1")" "$(quote "$2")"; else quote "$1"; fi
}

# Sets rows and cols for $1 panels: side by side up to 3, then in rows of at most 3
# (4 in 2 x 2), so that a picture shrunk to a page's width stays readable.
layout() {
	cols=$1
	[ "$1" -le 3 ] || cols=$((($1 + 1) / 2 < 3 ? ($1 + 1) / 2 : 3))
	rows=$((($1 + cols - 1) / cols))
}

# The script for DIR/compare-$1: a panel per corpus, a bar per tool.
bars_script() {
	local where=$1 fmt=$2 corpora=() c f rows cols
	mapfile -t corpora <"$work/bars.$where"
	layout ${#corpora[@]}
	terminal "$outdir/compare-$where" $((380 * cols + 20)) $((400 * rows + 50)) "$fmt"
	cat <<-EOF
		set datafile separator "\t"
		set multiplot layout $rows,$cols title $(heading "Seconds per copy on $where, median of the runs (lower is better)" "$subtitle")
		set style fill solid 0.85 border rgb 'black'
		set boxwidth 0.7
		set yrange [0:*]
		set offsets 0.6, 0.6, graph 0.1, 0
		set xtics rotate by 45 right nomirror scale 0 font ",10"
		set lmargin 12
		set ytics nomirror
		set grid ytics
		set border 3
		unset key
		set ylabel "seconds"
	EOF
	for c in "${corpora[@]}"; do
		f=$work/bars.$where.$c
		echo "set title $(quote "$c")"
		printf "plot %s using 1:2:4:xtic(5) with boxes lc rgb variable notitle" "$(quote "$f")"
		if [ -s "$work/err.$where.$c" ]; then
			printf ", \\\\\n\t%s using 1:3:(0):(column(4) - column(3)) with vectors %s lc rgb 'black' notitle" \
				"$(quote "$work/err.$where.$c")" "$whisker"
		fi
		# The label is the median as the file has it (compare.sh prints milliseconds).
		printf ", \\\\\n\t%s using 1:3:2 with labels offset 0,0.7 font ',9' notitle\n" "$(quote "$f")"
		echo "unset ylabel"
	done
	echo "unset multiplot"
}

# The script for DIR/jcurve: a panel per corpus, a curve per location.
jcurve_script() {
	local fmt=$1 corpora=() wheres=() c w f rgb plots cp jtics rows cols
	mapfile -t corpora <"$work/jcurve"
	jtics=$(paste -s -d , "$work/jvalues")
	layout ${#corpora[@]}
	terminal "$outdir/jcurve" $((320 * cols + 20)) $((340 * rows + 50)) "$fmt"
	cat <<-EOF
		set datafile separator "\t"
		set multiplot layout $rows,$cols title $(heading "pcopy (verified) against -j, median seconds; dashed: cp -a" "$subtitle")
		set logscale x 2
		set xrange [$(head -n 1 "$work/jvalues") / 1.4 : $(tail -n 1 "$work/jvalues") * 1.4]
		set xtics ($jtics) nomirror
		set ytics nomirror
		set yrange [0:*]
		set offsets 0, 0, graph 0.1, 0
		set grid ytics
		set border 3
		set key bottom left opaque font ",10"
		set xlabel "-j"
		set ylabel "seconds"
	EOF
	for c in "${corpora[@]}"; do
		echo "set title $(quote "$c")"
		plots=()
		wheres=()
		[ ! -e "$work/jcurve.$c" ] || mapfile -t wheres <"$work/jcurve.$c"
		for w in "${wheres[@]}"; do
			f=$work/j.$c.$w
			rgb=${where_colour[$w]:-$grey}
			plots+=("$(quote "$f") using 1:2 with linespoints lc rgb '#$rgb' lw 2 pt 7 title $(quote "pcopy, $w")")
			# Whiskers only where the spread is known (not NaN).
			if awk -F '\t' '$3 ~ /^[0-9.]+$/ { found = 1 } END { exit !found }' "$f"; then
				plots+=("$(quote "$f") using 1:3:(0):(column(4) - column(3)) with vectors $whisker lc rgb '#$rgb' notitle")
			fi
			if [ -s "$work/jcp.$c.$w" ]; then
				cp=$(head -n 1 "$work/jcp.$c.$w")
				plots+=("$cp with lines lc rgb '#$rgb' lw 1.5 dt 2 title $(quote "cp -a, $w")")
			fi
		done
		[ ${#plots[@]} -gt 0 ] || plots=("NaN notitle")
		local IFS=,
		echo "plot ${plots[*]}"
		unset IFS
		echo "unset ylabel"
		echo "unset key"
	done
	echo "unset multiplot"
}

main() {
	parse_args "$@"
	command -v gnuplot >/dev/null ||
		die "gnuplot is not installed (Debian: apt-get install gnuplot-nox); the figures stay in ${tsvfiles[*]}"
	work=$(mktemp -d "${TMPDIR:-/tmp}/pcopy-plot.XXXXXX")
	trap 'rm -rf -- "$work"' EXIT
	split_rows

	local fmts=("$format") fmt where wheres=() drawn=()
	[ "$format" != both ] || fmts=(svg png)
	for fmt in "${fmts[@]}"; do
		[ ! -e "$work/wheres" ] || mapfile -t wheres <"$work/wheres"
		for where in "${wheres[@]}"; do
			bars_script "$where" "$fmt" >"$work/plot.gp"
			gnuplot "$work/plot.gp" || die "gnuplot failed on the bars of $where"
			drawn+=("$outdir/compare-$where.$fmt")
		done
		if [ -s "$work/jcurve" ]; then
			jcurve_script "$fmt" >"$work/plot.gp"
			gnuplot "$work/plot.gp" || die "gnuplot failed on the -j curve"
			drawn+=("$outdir/jcurve.$fmt")
		fi
	done
	[ ${#drawn[@]} -gt 0 ] || die "no rows of series tools or jcurve in ${tsvfiles[*]}"
	note "drew ${drawn[*]}"
}

main "$@"
