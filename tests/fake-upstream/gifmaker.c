/* gifmaker.c: animated GIFs for output_format=gif, written by hand: a
 * 4-colour palette and LZW codes kept at 3 bits by a clear code every two. */
#include "fake_upstream.h"

#include <stdlib.h>
#include <string.h>

struct bits {
	unsigned char	*out;		/* the whole file being written */
	size_t		 len, cap;
	unsigned char	 block[255];	/* the data sub-block being filled */
	size_t		 blen;
	unsigned	 acc, nacc;	/* bits not yet a byte */
};

static void
put(struct bits *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		if ((b->out = realloc(b->out, b->cap)) == NULL)
			abort();
	}
	memcpy(b->out + b->len, p, n);
	b->len += n;
}

static void
flush_block(struct bits *b)
{
	unsigned char n = (unsigned char)b->blen;

	if (b->blen == 0)
		return;
	put(b, &n, 1);
	put(b, b->block, b->blen);
	b->blen = 0;
}

static void
code(struct bits *b, unsigned c)
{
	b->acc |= c << b->nacc;
	b->nacc += 3;
	while (b->nacc >= 8) {
		b->block[b->blen++] = b->acc & 0xff;
		b->acc >>= 8;
		b->nacc -= 8;
		if (b->blen == sizeof(b->block))
			flush_block(b);
	}
}

/* One w x h frame of colour index 0..3 by position and frame number. */
static void
frame(struct bits *b, unsigned w, unsigned h, unsigned k, unsigned delay_cs)
{
	const unsigned char gce[8] = { 0x21, 0xf9, 4, 0, delay_cs & 0xff,
	    delay_cs >> 8, 0, 0 };
	const unsigned char desc[11] = { 0x2c, 0, 0, 0, 0, w & 0xff, w >> 8,
	    h & 0xff, h >> 8, 0, 2 };
	unsigned x, y, n = 0;

	put(b, gce, sizeof(gce));
	put(b, desc, sizeof(desc));
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			if (n++ % 2 == 0)
				code(b, 4);	/* clear: the width stays 3 */
			code(b, ((x / 8 + y / 8 + k) & 3));
		}
	code(b, 5);	/* end of information */
	if (b->nacc > 0) {
		b->block[b->blen++] = b->acc & 0xff;
		b->acc = b->nacc = 0;
	}
	flush_block(b);
	put(b, "", 1);	/* the sub-blocks' terminator */
}

int
gif_make(unsigned w, unsigned h, unsigned frames, unsigned delay_ms,
    unsigned char **out, size_t *outlen)
{
	static const unsigned char palette[12] = { 0, 0, 0, 255, 0, 0, 0, 255,
	    0, 0, 0, 255 };
	struct bits b;
	unsigned char screen[7] = { w & 0xff, w >> 8, h & 0xff, h >> 8, 0x81,
	    0, 0 };
	unsigned k;

	if (w == 0 || h == 0 || w > 0xffff || h > 0xffff || frames == 0)
		return -1;
	memset(&b, 0, sizeof(b));
	put(&b, "GIF89a", 6);
	put(&b, screen, sizeof(screen));
	put(&b, palette, sizeof(palette));
	for (k = 0; k < frames; k++)
		frame(&b, w, h, k, (delay_ms + 5) / 10);
	put(&b, ";", 1);
	*out = b.out;
	*outlen = b.len;
	return 0;
}
