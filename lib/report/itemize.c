/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * itemize: rsync's itemized change lines (see itemize.h).
 */
#include "config.h"

#include <string.h>
#include <sys/stat.h>

#include "copy/copy.h"
#include "report/itemize.h"

/* X: the kind of entry. */
static char kind_letter(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR: return 'd';
	case S_IFLNK: return 'L';
	case S_IFCHR:
	case S_IFBLK: return 'D';
	case S_IFIFO:
	case S_IFSOCK: return 'S';
	default: return 'f';
	}
}

void itemize_code(char code[12], enum itemize_kind kind, uint32_t mode, uint32_t items)
{
	if (kind == ITEMIZE_DELETED) {
		memcpy(code, "*deleting  ", 12);
		return;
	}
	static const struct {
		uint32_t bit;
		char letter;
	} letters[9] = {{ITEM_CHANGE, 'c'}, {ITEM_SIZE, 's'},  {ITEM_TIME, 't'},
	                {ITEM_PERMS, 'p'},  {ITEM_OWNER, 'o'}, {ITEM_GROUP, 'g'},
	                {0, 'u'},           {ITEM_ACL, 'a'},   {ITEM_XATTR, 'x'}};
	int reg = S_ISREG(mode) || (mode & S_IFMT) == 0;
	if (kind == ITEMIZE_HARDLINK)
		code[0] = 'h';
	else if (kind == ITEMIZE_UPDATED)
		code[0] = '.';
	else
		code[0] = reg ? '>' : 'c';
	code[1] = kind_letter(mode);
	for (int i = 0; i < 9; i++)
		code[2 + i] = (items & ITEM_NEW)                                ? '+'
		              : letters[i].bit != 0 && (items & letters[i].bit) ? letters[i].letter
		                                                                : '.';
	code[11] = '\0';
	/* A directory or symlink whose metadata alone changes is not made anew. */
	if (kind == ITEMIZE_COPIED && !reg && !(items & (ITEM_NEW | ITEM_CHANGE)))
		code[0] = '.';
}

void itemize_line(FILE *out, const char *stamp, enum itemize_kind kind, uint32_t mode,
                  uint32_t items, const char *path, const char *link)
{
	char code[12];
	itemize_code(code, kind, mode, items);
	size_t n = strlen(path);
	int slash = S_ISDIR(mode) && (n == 0 || path[n - 1] != '/');
	fprintf(out, "%s%s %s%s", stamp != NULL ? stamp : "", code,
	        strcmp(path, ".") == 0 ? "." : path, slash ? "/" : "");
	if (link != NULL && kind != ITEMIZE_DELETED)
		fprintf(out, " %s %s", kind == ITEMIZE_HARDLINK ? "=>" : "->", link);
	fputc('\n', out);
}
