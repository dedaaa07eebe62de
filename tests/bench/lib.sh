# SPDX-License-Identifier: BSD-2-Clause
# Helpers shared by the scripts in tests/bench: messages, usage, versions of what is timed,
# medians and ratios. Sourced, not run: the caller has set -euo pipefail and LC_ALL=C.
# shellcheck shell=bash

# Messages carry the name of the script that sourced this file.
die() { echo "${0##*/}: error: $*" >&2; exit 1; }
note() { echo "${0##*/}: $*" >&2; }

# Prints the usage comment at the top of the calling script (its second line down to the
# second bare "#" line) and exits 2.
usage() {
	awk 'NR == 1 { next }
		/^#$/ && ++bare == 2 { exit }
		/^#/ { sub(/^# ?/, ""); print; next }
		{ exit }' "$0" >&2
	exit 2
}

# First line of "$1 --version" (xxh128sum prints it on stderr), or "$1 not installed".
version_of() {
	command -v "$1" >/dev/null || { echo "$1 not installed"; return 0; }
	{ "$1" --version 2>&1 || true; } | head -n 1 | tr -s ' ' | sed 's/ $//'
}

# "VERSION, commit ABC" of binary $1, built from the repository at $2. A modified work
# tree means the binary may not be exactly that commit: "(+ uncommitted changes)" says so.
build_info() {
	local version commit
	version=$("$1" --version 2>&1 | head -n 1)
	commit=$(git -C "$2" rev-parse --short HEAD 2>/dev/null || echo unknown)
	if [ "$commit" != unknown ] && [ -n "$(git -C "$2" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
		commit="$commit (+ uncommitted changes)"
	fi
	echo "$version, commit $commit"
}

# "median min" of the space-separated numbers in $1.
stats() {
	tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '
		{ v[NR] = $1 }
		END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		      printf "%.3f %.3f\n", m, v[1] }'
}

ratio() { # $1 / $2, or "-" when there is no baseline
	if [ -z "$2" ]; then echo -; else awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; fi
}
