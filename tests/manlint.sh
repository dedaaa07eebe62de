#!/bin/sh
# The man pages must be clean under mandoc -Tlint (style habit 8).
set -e
# Lines about the machine's own mandoc.db (no makewhatis run) say nothing about our pages.
out=$("$MANDOC" -Tlint "$SRCDIR"/man/*.1 2>&1 | grep -v 'outdated mandoc.db') || true
if [ -n "$out" ]; then
	printf '%s\n' "$out"
	exit 1
fi
echo "mandoc -Tlint: clean"
