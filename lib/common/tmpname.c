/* SPDX-License-Identifier: BSD-2-Clause */
/* tmpname: pcopy's temporary names (see tmpname.h). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/tmpname.h"

#define PREFIX_LEN (sizeof(TMPNAME_PREFIX) - 1)
/* The most digits a pid is read from: more is not a pid (and would overflow). */
#define PID_DIGITS 9

char *tmpname_counter(char *buf, size_t len, long pid, unsigned long n)
{
	return tmpname_tag(buf, len, pid, "%lu", n);
}

char *tmpname_split(char *buf, size_t len, long pid, uint64_t id)
{
	return tmpname_tag(buf, len, pid, "s%llu", (unsigned long long)id);
}

char *tmpname_tag(char *buf, size_t len, long pid, const char *tag, ...)
{
	int n = snprintf(buf, len, "%s%ld.", TMPNAME_PREFIX, pid);
	if (n >= 0 && (size_t)n < len) {
		va_list ap;
		va_start(ap, tag);
		vsnprintf(buf + n, len - (size_t)n, tag, ap);
		va_end(ap);
	}
	return buf;
}

int tmpname_is(const char *name)
{
	return strncmp(name, TMPNAME_PREFIX, PREFIX_LEN) == 0;
}

/* The number at S written without a leading zero, in at most PID_DIGITS digits and followed
 * by END; else 0. */
static long pid_at(const char *s, char end)
{
	size_t n = strspn(s, "0123456789");
	if (n == 0 || n > PID_DIGITS || s[0] == '0' || s[n] != end)
		return 0;
	return strtol(s, NULL, 10);
}

long tmpname_pid(const char *name)
{
	return tmpname_is(name) ? pid_at(name + PREFIX_LEN, '.') : 0;
}

char *tmpname_beside(const char *name, long pid)
{
	size_t n = strlen(name) + sizeof(TMPNAME_PREFIX) + 24;
	char *tmp = malloc(n);
	if (tmp != NULL)
		snprintf(tmp, n, "%s%s%ld", name, TMPNAME_PREFIX, pid);
	return tmp;
}

long tmpname_beside_pid(const char *entry, const char *base)
{
	size_t b = strlen(base);
	if (strncmp(entry, base, b) != 0 || !tmpname_is(entry + b))
		return 0;
	return pid_at(entry + b + PREFIX_LEN, '\0');
}
