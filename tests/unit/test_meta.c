/* Unit tests for lib/fs/meta.c: the mode rule (which permission bits a copy is created with
 * and ends with) and the sparse test. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fs/meta.h"

static struct stat file(mode_t mode, uid_t uid, gid_t gid)
{
	struct stat st;
	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFREG | mode;
	st.st_uid = uid;
	st.st_gid = gid;
	return st;
}

static void test_mode_rule(void **state)
{
	(void)state;
	struct meta_ctx m;
	meta_ctx_init(&m, 0);
	assert_int_equal(meta_perm(S_IFREG | 06755), 06755);
	assert_int_equal(meta_perm(S_IFDIR | 01777), 01777);

	struct stat own = file(06755, m.euid, m.egid);
	struct stat other = file(06755, m.euid + 1, m.egid);
	struct stat sticky = file(01644, m.euid + 1, m.egid);
	/* Created without set-id and sticky bits: those come after the owner. */
	assert_int_equal(meta_create_mode(&own), 0755);
	assert_int_equal(meta_create_mode(&sticky), 0644);
	/* The set-id bits stay for the caller's own files or when the owner is kept. */
	assert_int_equal(meta_mode(&m, &own, 0), 06755);
	assert_int_equal(meta_mode(&m, &other, 1), 06755);
	assert_int_equal(meta_mode(&m, &other, 0), 0755);
	assert_int_equal(meta_mode(&m, &sticky, 0), 01644);
	meta_ctx_free(&m);
}

static void test_sparse(void **state)
{
	(void)state;
	struct stat st = file(0644, 0, 0);
	st.st_size = 1 << 20;
	st.st_blocks = (1 << 20) / 512;
	assert_false(meta_sparse(&st));
	st.st_blocks = 8;
	assert_true(meta_sparse(&st));
	st.st_size = 0; /* empty: nothing to skip */
	st.st_blocks = 0;
	assert_false(meta_sparse(&st));
	st = file(0755, 0, 0);
	st.st_mode = S_IFDIR | 0755; /* only regular files */
	st.st_size = 4096;
	assert_false(meta_sparse(&st));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mode_rule),
	    cmocka_unit_test(test_sparse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
