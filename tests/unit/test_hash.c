/* Unit tests for lib/hash.c: agreement with xxh128sum's known values, streaming, parsing. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hash.h"

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
	    cmocka_unit_test(test_known_values),
	    cmocka_unit_test(test_streaming_matches_oneshot),
	    cmocka_unit_test(test_zeros),
	    cmocka_unit_test(test_parse_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
