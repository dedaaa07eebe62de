/* SPDX-License-Identifier: BSD-2-Clause */
/* hash: XXH3-128 through libxxhash, with xxh128sum's text form (see hash.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
/* For the layout of XXH3_state_t, which hash_update_zeros() advances over long holes. */
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>
#ifdef HAVE_XXH_DISPATCH
/* The x86 dispatcher: AVX-512, AVX2 or SSE2, as this CPU has them (the plain entry points
   are SSE2 only: half the speed here). Same digests; the streaming state is the same. */
#define XXH_DISPATCH_DISABLE_REPLACE
#include <xxh_x86dispatch.h>
#define xxh_update XXH3_128bits_update_dispatch
#define xxh_oneshot XXH3_128bits_dispatch
#else
#define xxh_update XXH3_128bits_update
#define xxh_oneshot XXH3_128bits
#endif

#include "common/hash.h"

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
	xxh_update(h->xxh, data, len);
}

/* Feed LEN zeros through libxxhash itself. */
static void feed_zeros(XXH3_state_t *x, uint64_t len)
{
	while (len > 0) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		xxh_update(x, zeros, n);
		len -= n;
	}
}

/*
 * Holes of sparse files: what XXH3 does with a long run of zeros, without reading any.
 *
 * XXH3 consumes input in 64-byte stripes. A stripe of zeros adds, to accumulator lane i,
 * lo32(k) * hi32(k) where k is the 64-bit word of the secret at 8 * (stripe's place in its
 * block + i); after the last stripe of a block every lane is scrambled. So a run of zero
 * stripes needs 8 additions per stripe until the block ends, then 8 additions and one
 * scramble per whole block: 16 GiB of zeros in 0.075 s instead of 1 s through the library
 * (from a buffer in the cache), and no memory traffic.
 *
 * This follows libxxhash 0.8's streaming state: once more than one internal buffer
 * (XXH3_INTERNALBUFFER_SIZE bytes) was fed, an update keeps the last 1 to 256 bytes
 * buffered and consumes the rest in groups of 4 stripes. When those buffered bytes are
 * zeros, appending 256 * N zeros consumes 4 * N zero stripes and leaves the buffer as it
 * was. Whether the library behaves so is not assumed: zero_skip_works() compares the
 * shortcut with the library on awkward cases once per process, and the shortcut is used
 * only if every digest agrees, so a different libxxhash costs speed, never correctness.
 */
#define ZERO_GROUP ((uint64_t)XXH3_INTERNALBUFFER_SIZE)
#define XXH3_STRIPE 64         /* XXH3_STRIPE of the implementation */
#define XXH3_LANES 8           /* XXH3_LANES */
#define XXH3_PRIME 0x9E3779B1u /* XXH3_PRIME, the scramble's multiplier */

/* One lane over a block of zero stripes: their additions ADD, then the scramble with KEY. */
static inline uint64_t zero_block(uint64_t acc, uint64_t add, uint64_t key)
{
	acc += add;
	acc ^= acc >> 47;
	acc ^= key;
	return acc * XXH3_PRIME;
}

static void skip_zero_groups(XXH3_state_t *x, uint64_t groups)
{
	const unsigned char *secret = x->extSecret != NULL ? x->extSecret : x->customSecret;
	size_t per_block = x->nbStripesPerBlock;
	uint64_t add[XXH3_LANES], block_add[XXH3_LANES] = {0}, scramble_key[XXH3_LANES];
	for (size_t i = 0; i < XXH3_LANES; i++) {
		uint64_t k;
		memcpy(&scramble_key[i], secret + x->secretLimit + 8 * i, 8);
		for (size_t n = 0; n < per_block; n++) {
			memcpy(&k, secret + 8 * n + 8 * i, 8);
			block_add[i] += (k & 0xffffffffu) * (k >> 32);
		}
	}
	uint64_t stripes = groups * (ZERO_GROUP / XXH3_STRIPE);
	x->totalLen += groups * ZERO_GROUP;
	while (stripes > 0) {
		size_t n0 = x->nbStripesSoFar;
		uint64_t take = per_block - n0;
		if (n0 == 0 && stripes >= per_block) {
			/* Whole blocks, the bulk of a long hole: eight lanes in scalar registers
			 * (plain 64-bit multiplies; SSE2 has none, and GCC's emulation is 2x
			 * slower). */
			uint64_t blocks = stripes / per_block;
			uint64_t a0 = x->acc[0], a1 = x->acc[1], a2 = x->acc[2], a3 = x->acc[3];
			uint64_t a4 = x->acc[4], a5 = x->acc[5], a6 = x->acc[6], a7 = x->acc[7];
			for (uint64_t b = 0; b < blocks; b++) {
				a0 = zero_block(a0, block_add[0], scramble_key[0]);
				a1 = zero_block(a1, block_add[1], scramble_key[1]);
				a2 = zero_block(a2, block_add[2], scramble_key[2]);
				a3 = zero_block(a3, block_add[3], scramble_key[3]);
				a4 = zero_block(a4, block_add[4], scramble_key[4]);
				a5 = zero_block(a5, block_add[5], scramble_key[5]);
				a6 = zero_block(a6, block_add[6], scramble_key[6]);
				a7 = zero_block(a7, block_add[7], scramble_key[7]);
			}
			x->acc[0] = a0, x->acc[1] = a1, x->acc[2] = a2, x->acc[3] = a3;
			x->acc[4] = a4, x->acc[5] = a5, x->acc[6] = a6, x->acc[7] = a7;
			stripes -= blocks * per_block;
			continue;
		} else {
			if (take > stripes)
				take = stripes;
			memset(add, 0, sizeof(add));
			for (size_t i = 0; i < XXH3_LANES; i++)
				for (size_t n = n0; n < n0 + take; n++) {
					uint64_t k;
					memcpy(&k, secret + 8 * n + 8 * i, 8);
					add[i] += (k & 0xffffffffu) * (k >> 32);
				}
		}
		for (size_t i = 0; i < XXH3_LANES; i++)
			x->acc[i] += add[i];
		stripes -= take;
		x->nbStripesSoFar = n0 + (size_t)take;
		if (x->nbStripesSoFar == per_block) {
			for (size_t i = 0; i < XXH3_LANES; i++)
				x->acc[i] = zero_block(x->acc[i], 0, scramble_key[i]);
			x->nbStripesSoFar = 0;
		}
	}
	/* The buffered bytes were zeros and stay so; the bytes before them are zeros now. */
	memset(x->buffer, 0, sizeof(x->buffer));
}

/* LEN zeros into X, the shortcut taken when WITH_SKIP. */
static void zeros_into(XXH3_state_t *x, uint64_t len, int with_skip)
{
	/* Two buffers' worth through the library: past its buffering stage, zeros buffered. */
	uint64_t lead = len < 2 * ZERO_GROUP ? len : 2 * ZERO_GROUP;
	feed_zeros(x, lead);
	len -= lead;
	if (with_skip && len >= ZERO_GROUP) {
		skip_zero_groups(x, len / ZERO_GROUP);
		len %= ZERO_GROUP;
	}
	feed_zeros(x, len);
}

/* 1 when the shortcut gives the library's digests (see above). */
static int zero_skip_works(void)
{
	static const size_t heads[] = {0, 1, 63, 64, 200, 256, 257, 700, 1024, 1500, 5000};
	static const uint64_t runs[] = {512, 767, 768, 1024, 1100, 4096, 16383, 65536 + 77};
	static const size_t tails[] = {0, 1, 63, 64, 65, 255, 256, 300, 1025};
	unsigned char data[5000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 131 + 7);
	XXH3_state_t *a = XXH3_createState(), *b = XXH3_createState();
	int ok = a != NULL && b != NULL;
	for (size_t h = 0; ok && h < sizeof(heads) / sizeof(heads[0]); h++)
		for (size_t r = 0; ok && r < sizeof(runs) / sizeof(runs[0]); r++)
			for (size_t t = 0; ok && t < sizeof(tails) / sizeof(tails[0]); t++) {
				XXH3_state_t *s[2] = {a, b};
				XXH128_hash_t d[2];
				for (int k = 0; k < 2; k++) {
					XXH3_128bits_reset(s[k]);
					xxh_update(s[k], data, heads[h]);
					zeros_into(s[k], runs[r], k);
					xxh_update(s[k], data + 1, tails[t]);
					d[k] = XXH3_128bits_digest(s[k]);
				}
				ok = XXH128_isEqual(d[0], d[1]);
			}
	XXH3_freeState(a);
	XXH3_freeState(b);
	return ok;
}

int hash_fast_zeros(void)
{
	/* A property of the library this process runs with, so tested once per process. */
	static int works = -1;
	if (works < 0)
		works = zero_skip_works();
	return works;
}

void hash_update_zeros(struct hash_state *h, uint64_t len)
{
	if (len < 4 * ZERO_GROUP)
		feed_zeros(h->xxh, len);
	else
		zeros_into(h->xxh, len, hash_fast_zeros());
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
	return from_xxh(xxh_oneshot(data, len));
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

const char *hash_code_path(void)
{
#if defined(HAVE_XXH_DISPATCH) && (defined(__x86_64__) || defined(__i386__))
	/* The dispatcher's own choice is not published; it takes the widest of these that the
	   CPU (and the kernel, for the wider registers) supports, as __builtin_cpu_supports tells.
	 */
	if (__builtin_cpu_supports("avx512f"))
		return "run-time dispatch (this CPU: AVX-512)";
	if (__builtin_cpu_supports("avx2"))
		return "run-time dispatch (this CPU: AVX2)";
	return "run-time dispatch (this CPU: SSE2)";
#elif defined(HAVE_XXH_DISPATCH)
	return "run-time dispatch";
#else
	return "SSE2 (libxxhash's plain entry points; no run-time dispatch at build time)";
#endif
}
