/* fuzz_b64.c: the streaming base64 decoder, scalar and AVX2, in random
 * chunkings, byte for byte against ref_b64.c, error offsets included. */
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "fuzz.h"
#include "ref_b64.h"
#include "util.h"

/* In "map" mode input bytes become mostly alphabet characters, so long
 * valid runs (what the AVX2 path takes) are cheap to find. */
static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char specials[16] = " \t\r\n=\\/n=x\"\0\x80=A ";

struct outcome {
	struct buf	 out;
	long		 rc;		/* 0, or -1 */
	size_t		 bad;		/* d.consumed at a failed update */
	int		 final_failed;
};

/* Decodes s in chunks, each into a buffer of exactly b64_decoded_max bytes. */
static void
decode_chunked(const char *s, size_t len, int flags, unsigned seed,
    struct outcome *r)
{
	struct b64_decoder d;
	struct fz_chunks ch;
	unsigned char *out;
	size_t off = 0, k, max;
	long got;

	memset(r, 0, sizeof(*r));
	b64_init(&d, flags);
	fz_chunks_init(&ch, seed);
	while (off < len) {
		k = fz_chunk(&ch, len - off);
		max = b64_decoded_max(k);
		if ((out = malloc(max ? max : 1)) == NULL)
			abort();
		got = b64_decode_update(&d, s + off, k, out);
		FZ_ASSERT(got <= (long)max);
		if (got >= 0 && buf_append(&r->out, out, (size_t)got) == -1)
			abort();
		free(out);
		if (got < 0) {
			r->rc = -1;
			r->bad = d.consumed;
			return;
		}
		off += k;
	}
	FZ_ASSERT(d.consumed == len);
	r->final_failed = b64_decode_final(&d) != 0;
}

static void
check_against(const struct outcome *r, long want, const unsigned char *ref,
    size_t bad, size_t len)
{
	if (want >= 0) {
		FZ_ASSERT(r->rc == 0 && !r->final_failed);
		FZ_ASSERT(r->out.len == (size_t)want);
		FZ_ASSERT(want == 0 || memcmp(r->out.data, ref, (size_t)want) == 0);
	} else if (bad < len) {
		FZ_ASSERT(r->rc == -1);
		FZ_ASSERT(r->bad == bad);
	} else
		FZ_ASSERT(r->rc == 0 && r->final_failed);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	struct outcome r;
	unsigned flags = fz_byte(&f), seed = fz_byte(&f);
	int json = flags & 1 ? B64_JSON_ESCAPES : 0;
	unsigned char *ref;
	char *s;
	size_t i, bad = 0;
	long want;

	if ((s = malloc(f.n ? f.n : 1)) == NULL ||
	    (ref = malloc(f.n / 4 * 3 + 3)) == NULL)
		abort();
	for (i = 0; i < f.n; i++)
		s[i] = !(flags & 2) ? (char)f.p[i] : f.p[i] < 0xf0 ?
		    alphabet[f.p[i] % 64] : specials[f.p[i] - 0xf0];
	want = ref_b64_decode((unsigned char *)s, f.n, json, ref, &bad);

	decode_chunked(s, f.n, json | B64_SCALAR, seed, &r);
	check_against(&r, want, ref, bad, f.n);
	buf_free(&r.out);
	/* the default path: AVX2 where the CPU has it */
	decode_chunked(s, f.n, json, seed, &r);
	check_against(&r, want, ref, bad, f.n);
	buf_free(&r.out);
	free(ref);
	free(s);
	return 0;
}
