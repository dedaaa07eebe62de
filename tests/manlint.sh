#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The man pages must be clean under mandoc -Tlint at warning level (style habit 8). Style
# notes are left out: "referenced manual not found: Xr rsync 1" only says that the machine
# running the test has no rsync page installed (a fresh Debian has none), not that ours is
# wrong.
set -e
# Lines about the machine's own mandoc.db (no makewhatis run) say nothing about our pages.
out=$("$MANDOC" -Tlint -Wwarning "$SRCDIR"/man/*.1 2>&1 | grep -v 'outdated mandoc.db') || true
if [ -n "$out" ]; then
	printf '%s\n' "$out"
	exit 1
fi
echo "mandoc -Tlint: clean"
