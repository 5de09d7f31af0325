/* payload.h: pulls the base64 images out of an upstream JSON text (an SSE
 * event or a whole response) without copying megabytes through a JSON parser. */
#ifndef IMGEDIT_PAYLOAD_H
#define IMGEDIT_PAYLOAD_H

#include <stddef.h>

struct payload_image {
	unsigned char *data; /* decoded bytes, malloc'd */
	size_t size;
};

/* Scans the JSON text buf[0..*len) for every member named "b64_json" whose
 * value is a string, at any depth, in document order. Each value is base64-
 * decoded into a new buffer and blanked in buf (the text is compacted to
 * `"b64_json":""`, *len updated, NUL-terminated), so the small remainder can
 * be parsed with jansson. Returns the number of images (>= 0; *imgs, caller
 * owns: payload_free), or -1 with a reason in err (bad base64, unterminated
 * string, out of memory). */
int payload_extract(char *buf, size_t *len, struct payload_image **imgs,
    char *err, size_t errlen);

void payload_free(struct payload_image *imgs, int n);

#endif
