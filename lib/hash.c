/* hash: XXH3-128 through libxxhash, with xxh128sum's text form (see hash.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "hash.h"

struct hash_state {
	XXH3_state_t *xxh; /* libxxhash's streaming state */
};

/* A page of zeros fed repeatedly for holes. */
static const unsigned char zeros[65536];

struct hash_state *hash_new(void)
{
	struct hash_state *h = malloc(sizeof(*h));
	if (h == NULL)
		return NULL;
	h->xxh = XXH3_createState();
	if (h->xxh == NULL) {
		free(h);
		return NULL;
	}
	XXH3_128bits_reset(h->xxh);
	return h;
}

void hash_free(struct hash_state *h)
{
	if (h == NULL)
		return;
	XXH3_freeState(h->xxh);
	free(h);
}

void hash_reset(struct hash_state *h)
{
	XXH3_128bits_reset(h->xxh);
}

void hash_update(struct hash_state *h, const void *data, size_t len)
{
	XXH3_128bits_update(h->xxh, data, len);
}

void hash_update_zeros(struct hash_state *h, uint64_t len)
{
	while (len > 0) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		XXH3_128bits_update(h->xxh, zeros, n);
		len -= n;
	}
}

static struct hash128 from_xxh(XXH128_hash_t x)
{
	struct hash128 r = {x.high64, x.low64};
	return r;
}

struct hash128 hash_digest(struct hash_state *h)
{
	return from_xxh(XXH3_128bits_digest(h->xxh));
}

struct hash128 hash_buffer(const void *data, size_t len)
{
	return from_xxh(XXH3_128bits(data, len));
}

void hash_hex(struct hash128 h, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < 16; i++) {
		out[i] = digits[(h.high >> (60 - 4 * i)) & 0xf];
		out[16 + i] = digits[(h.low >> (60 - 4 * i)) & 0xf];
	}
	out[HASH_HEX_LEN] = '\0';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hash_parse(const char *s, struct hash128 *out)
{
	uint64_t half[2] = {0, 0};
	for (int i = 0; i < HASH_HEX_LEN; i++) {
		int v = hex_value(s[i]);
		if (v < 0)
			return -1;
		half[i / 16] = half[i / 16] << 4 | (uint64_t)v;
	}
	if (s[HASH_HEX_LEN] != '\0')
		return -1;
	out->high = half[0];
	out->low = half[1];
	return 0;
}
