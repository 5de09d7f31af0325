/* b64.h: streaming base64 decoder (standard alphabet), fed in chunks.
 * Pure logic, no I/O. Optionally understands JSON string escapes (\/, \n). */
#ifndef IMGEDIT_B64_H
#define IMGEDIT_B64_H

#include <stddef.h>
#include <stdint.h>

#define B64_JSON_ESCAPES 0x1 /* input is the raw text of a JSON string */
#define B64_SCALAR	 0x2 /* never the AVX2 path (tests compare the two) */

struct b64_decoder {
	uint32_t acc;    /* pending bits */
	int nbits;       /* number of pending sextets (0..3) */
	int pad;         /* '=' seen: only padding/whitespace may follow */
	int escape;      /* inside a JSON backslash escape */
	int flags;
	int avx2;        /* decode 32 characters at a time (CPU has AVX2) */
	size_t consumed; /* input bytes seen, for error positions */
};

/* Resets d. Picks the AVX2 path when the CPU has it, unless B64_SCALAR. */
void b64_init(struct b64_decoder *d, int flags);

/* Upper bound of output bytes for len input bytes. */
size_t b64_decoded_max(size_t len);

/* Decodes in[0..len) into out (room for b64_decoded_max(len) bytes).
 * Whitespace (space, \t, \r, \n) is skipped. Returns bytes written, or -1
 * on an invalid byte; then d->consumed is that byte's offset in the stream. */
long b64_decode_update(struct b64_decoder *d, const char *in, size_t len,
    unsigned char *out);

/* End of input. Returns 0 if the stream ended on a valid boundary
 * (with or without '=' padding), -1 if it was truncated mid-quantum
 * (a single leftover sextet) or inside an escape. */
int b64_decode_final(struct b64_decoder *d);

#endif
