/* testpng.h: real PNGs for the unit tests, written by libpng into memory,
 * and the growable byte buffer they (and hand-made files) are built in. */
#ifndef IMGEDIT_TESTPNG_H
#define IMGEDIT_TESTPNG_H

#include <stddef.h>
#include <stdint.h>

struct membuf {
	unsigned char	*p;
	size_t		 len, cap;
};

/* Appends n bytes (always leaving room for one more). Aborts on ENOMEM. */
void membuf_put(struct membuf *b, const void *data, size_t n);

/* A w x h PNG of colour type ctype at bit depth depth, every pixel 0. With
 * trns, a tRNS chunk: palette entries 0 and 1 get alpha 0 and 128; for grey
 * and RGB, colour 0 is transparent. Aborts on failure; caller frees .p. */
struct membuf testpng_make(uint32_t w, uint32_t h, int ctype, int depth,
    int trns);

#endif
