/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hash: XXH3-128 digests as pcopy records and prints them.
 *
 * The digest is the standard whole-file XXH3-128 of libxxhash, printed the way xxh128sum
 * prints it (32 lowercase hex digits, high half first), so manifests check with xxh128sum.
 */
#ifndef PCOPY_HASH_H
#define PCOPY_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_HEX_LEN 32

struct hash128 {
	uint64_t high; /* XXH128_hash_t.high64 */
	uint64_t low;  /* XXH128_hash_t.low64 */
};

/* Streaming state; opaque wrapper around XXH3_state_t. */
struct hash_state;

/* Allocate a streaming state. NULL on memory exhaustion. */
struct hash_state *hash_new(void);

/* Free a streaming state (NULL is fine). */
void hash_free(struct hash_state *h);

/* Start a new digest. */
void hash_reset(struct hash_state *h);

/* Feed LEN bytes. */
void hash_update(struct hash_state *h, const void *data, size_t len);

/* Feed LEN zero bytes (a hole in a sparse file) without touching memory per byte. */
void hash_update_zeros(struct hash_state *h, uint64_t len);

/* 1 when hash_update_zeros() takes its shortcut with the libxxhash in use (hash.c). */
int hash_fast_zeros(void);

/* The digest of everything fed since the last reset. */
struct hash128 hash_digest(struct hash_state *h);

/* One-shot digest of a buffer. */
struct hash128 hash_buffer(const void *data, size_t len);

/* Which XXH3 code hashes here, for --version: "run-time dispatch (this CPU: AVX2)" through
 * libxxhash's x86 dispatcher, or "SSE2" when that was not found at build time. */
const char *hash_code_path(void);

/* Write the 32 hex digits and a NUL into OUT (at least HASH_HEX_LEN + 1 bytes). */
void hash_hex(struct hash128 h, char *out);

/* Parse 32 hex digits. Returns 0, or -1 when S is not exactly that. */
int hash_parse(const char *s, struct hash128 *out);

/* 1 when equal. */
static inline int hash_equal(struct hash128 a, struct hash128 b)
{
	return a.high == b.high && a.low == b.low;
}

#endif
