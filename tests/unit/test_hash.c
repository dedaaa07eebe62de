/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/common/hash.c: agreement with xxh128sum's known values, streaming, parsing. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <xxhash.h>

#include "common/hash.h"

/* Reference digests printed by `printf ... | xxh128sum` (xxhash 0.8.1). */
static void test_known_values(void **state)
{
	(void)state;
	char hex[HASH_HEX_LEN + 1];
	hash_hex(hash_buffer("", 0), hex);
	assert_string_equal(hex, "99aa06d3014798d86001c324468d497f");
	hash_hex(hash_buffer("hello\n", 6), hex);
	assert_string_equal(hex, "6bba86c7e069f56d5a10b435f1c8e49c");
}

static void test_streaming_matches_oneshot(void **state)
{
	(void)state;
	static unsigned char data[300000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 131 + 7);
	struct hash_state *h = hash_new();
	assert_non_null(h);
	hash_reset(h);
	for (size_t off = 0; off < sizeof(data); off += 4099) {
		size_t n = sizeof(data) - off < 4099 ? sizeof(data) - off : 4099;
		hash_update(h, data + off, n);
	}
	assert_true(hash_equal(hash_digest(h), hash_buffer(data, sizeof(data))));
	hash_free(h);
}

static void test_zeros(void **state)
{
	(void)state;
	static unsigned char zeros[200000];
	struct hash_state *h = hash_new();
	hash_reset(h);
	hash_update(h, "ab", 2);
	hash_update_zeros(h, sizeof(zeros) - 2);
	unsigned char buf[sizeof(zeros)];
	memcpy(buf, zeros, sizeof(buf));
	buf[0] = 'a';
	buf[1] = 'b';
	assert_true(hash_equal(hash_digest(h), hash_buffer(buf, sizeof(buf))));
	hash_free(h);
}

/* Holes between data at every alignment the shortcut over long zero runs must get right. */
static void test_zeros_mixed(void **state)
{
	(void)state;
	static unsigned char buf[3 << 20];
	unsigned seed = 12345;
	for (int round = 0; round < 200; round++) {
		struct hash_state *h = hash_new();
		assert_non_null(h);
		hash_reset(h);
		size_t n = 0;
		memset(buf, 0, sizeof(buf));
		for (int part = 0; part < 5; part++) {
			seed = seed * 1103515245u + 12345u;
			size_t data = (seed >> 8) % (part % 2 ? 3000 : 70000);
			seed = seed * 1103515245u + 12345u;
			size_t zeros = (seed >> 8) % (round % 3 ? 5000 : 500000);
			if (n + data + zeros > sizeof(buf))
				break;
			for (size_t i = 0; i < data; i++)
				buf[n + i] = (unsigned char)(i * 7 + (size_t)round);
			hash_update(h, buf + n, data);
			hash_update_zeros(h, zeros);
			n += data + zeros;
		}
		assert_true(hash_equal(hash_digest(h), hash_buffer(buf, n)));
		hash_free(h);
	}
}

/* 16 GiB of zeros between two bytes: the digest xxh128sum gives such a sparse file. */
static void test_zeros_huge(void **state)
{
	(void)state;
	struct hash_state *h = hash_new();
	char hex[HASH_HEX_LEN + 1];
	hash_reset(h);
	hash_update(h, "x", 1);
	hash_update_zeros(h, UINT64_C(1) << 34);
	hash_update(h, "y", 1);
	hash_hex(hash_digest(h), hex);
	assert_string_equal(hex, "ac2d13558c304a4049f70bf6559a5aa0");
	hash_free(h);
	/* Debian 12's libxxhash (0.8.1) must get the shortcut, or holes cost their size. */
	if (XXH_versionNumber() == 801)
		assert_true(hash_fast_zeros());
}

static void test_parse_roundtrip(void **state)
{
	(void)state;
	struct hash128 h = {0x0123456789abcdefull, 0xfedcba9876543210ull}, back;
	char hex[HASH_HEX_LEN + 1];
	hash_hex(h, hex);
	assert_string_equal(hex, "0123456789abcdeffedcba9876543210");
	assert_int_equal(hash_parse(hex, &back), 0);
	assert_true(hash_equal(h, back));
	assert_int_equal(hash_parse("0123", &back), -1);
	assert_int_equal(hash_parse("0123456789abcdeffedcba987654321g", &back), -1);
	assert_int_equal(hash_parse("0123456789abcdeffedcba98765432100", &back), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_known_values), cmocka_unit_test(test_streaming_matches_oneshot),
	    cmocka_unit_test(test_zeros),        cmocka_unit_test(test_zeros_mixed),
	    cmocka_unit_test(test_zeros_huge),   cmocka_unit_test(test_parse_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
