/* fuzz_jobspec.c: jobspec_validate on any params JSON with 0..3 inputs cut
 * from the fuzz input: a verdict, a message that fits, nothing leaked. */
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "jobspec.h"

#define MAXIN	3

static const char *const types[8] = { NULL, "", "image/png", "image/jpeg",
    "image/webp", "text/plain", "IMAGE/JPG; q=1", "jpg" };
static const char *const names[4] = { NULL, "", "a.png", "mask.png" };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	struct jobspec_input in[MAXIN];
	unsigned char *copy[MAXIN] = { NULL };
	unsigned head = fz_byte(&f), errlen = fz_byte(&f), b;
	size_t i, n = head % (MAXIN + 1), len;
	char err[256 + 8];
	const char *model;
	json_t *params;
	int rc;

	memset(in, 0, sizeof(in));
	for (i = 0; i < n; i++) {
		b = fz_byte(&f);
		in[i].role = !(b & 1) ? INPUT_IMAGE : b >> 6 & 1 ? INPUT_MARKUP :
		    INPUT_MASK;
		in[i].content_type = types[b >> 1 & 7];
		in[i].filename = names[b >> 4 & 3];
		len = fz_u16(&f) % 1024;
		len = len < f.n ? len : f.n;
		/* a buffer of its own, so ASan sees reads past its end */
		if (len > 0 && (copy[i] = malloc(len)) == NULL)
			abort();
		if (len > 0)
			memcpy(copy[i], f.p, len);
		in[i].data = copy[i];
		in[i].size = len;
		f.p += len;
		f.n -= len;
	}
	params = json_loadb((const char *)f.p, f.n,
	    JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	memset(err, 'Z', sizeof(err));
	rc = jobspec_validate(params, head >> 2 & 1, in, n, err, errlen);
	FZ_ASSERT(rc == 0 || rc == -1);
	for (i = errlen; i < sizeof(err); i++)
		FZ_ASSERT(err[i] == 'Z');
	if (errlen > 0) {
		FZ_ASSERT(memchr(err, '\0', errlen) != NULL);
		FZ_ASSERT(rc == 0 ? err[0] == '\0' : err[0] != '\0' || errlen == 1);
	}
	FZ_ASSERT(jobspec_validate(params, head >> 2 & 1, in, n, NULL, 0) == rc);
	/* the model as sent, or NULL: none given (then upstream picks) */
	model = jobspec_model(params);
	FZ_ASSERT(model == NULL || (*model != '\0' && model ==
	    json_string_value(json_object_get(params, "model"))));
	b = (unsigned)jobspec_n(params);
	FZ_ASSERT(b >= 1 && b <= 10);
	json_decref(params);
	for (i = 0; i < n; i++)
		free(copy[i]);
	return 0;
}
