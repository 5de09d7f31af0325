/* ref_b64.h: a plain, one-pass base64 decoder with b64.c's documented rules,
 * the reference the b64 and payload fuzz targets compare against. */
#ifndef IMGEDIT_REF_B64_H
#define IMGEDIT_REF_B64_H

#include <stddef.h>

/* Decodes s[0..len) into out (room for len * 3 / 4 + 3 bytes). Whitespace
 * is skipped, '=' padding is optional but must complete its quantum and end
 * the text, one leftover sextet is an error; with json, \/ is '/' and \n \r
 * \t are whitespace. Returns the bytes written, or -1 and in *bad the offset
 * of the byte that cannot be accepted (len when the text ends too soon). */
long ref_b64_decode(const unsigned char *s, size_t len, int json,
    unsigned char *out, size_t *bad);

#endif
