/* fuzz.h: what every fuzz target shares: the libFuzzer entry point, a
 * cursor that takes parameters from the input's head, and chunkings. */
#ifndef IMGEDIT_FUZZ_H
#define IMGEDIT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant: say which and abort, so libFuzzer keeps the input. */
#define FZ_ASSERT(cond) do { if (!(cond)) { fprintf(stderr,		\
	"%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond);	\
	abort(); } } while (0)

/* The input, consumed from the front; past its end every byte reads 0. */
struct fz {
	const uint8_t	*p;
	size_t		 n;
};

static inline unsigned
fz_byte(struct fz *f)
{
	if (f->n == 0)
		return 0;
	f->n--;
	return *f->p++;
}

static inline unsigned
fz_u16(struct fz *f)
{
	unsigned hi = fz_byte(f);

	return hi << 8 | fz_byte(f);
}

/* Chunk lengths from a seed the input gives: the same input always splits
 * the same way. max == 0 means one chunk for everything. */
struct fz_chunks {
	uint32_t	 s;
	size_t		 max;
};

static inline void
fz_chunks_init(struct fz_chunks *c, unsigned seed)
{
	static const size_t maxes[] = { 0, 1, 2, 3, 7, 16, 64, 300 };

	c->s = seed * 2654435761u | 1;
	c->max = maxes[seed & 7];
}

/* The next chunk's length, 0..left (empty feeds included on purpose). */
static inline size_t
fz_chunk(struct fz_chunks *c, size_t left)
{
	size_t k;

	if (c->max == 0)
		return left;
	c->s ^= c->s << 13;
	c->s ^= c->s >> 17;
	c->s ^= c->s << 5;
	k = c->s % (c->max + 1);
	return k < left ? k : left;
}


#endif
