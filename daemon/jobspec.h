/* jobspec.h: validates an edit job (params JSON + input images) against the
 * Images API rules of its model family (models.h). Pure logic, no I/O. */
#ifndef IMGEDIT_JOBSPEC_H
#define IMGEDIT_JOBSPEC_H

#include <stddef.h>
#include <jansson.h>

#include "job.h"        /* enum input_role */

struct jobspec_input {
	enum input_role role;
	const char *filename;        /* as it will be sent; names the item in errors */
	const unsigned char *data;
	size_t size;
	const char *content_type;    /* declared type, or NULL to sniff */
};

/* Validates params (a JSON object holding every API field except the files
 * and `stream`), the stream flag, and the inputs (images in order, then an
 * optional mask or markup). Returns 0 if the job may be sent; otherwise -1 with
 * "param: message" in err (param as the API names it: "image", "mask",
 * "prompt", "n", "size", ...; an input error names its filename too).
 * Unknown models get only the generic checks; unknown keys pass through.
 * A JSON null counts as absent (upstream skips it); integer fields take a
 * JSON integer or a string of decimal digits ("3"), nothing else. */
int jobspec_validate(const json_t *params, int stream,
    const struct jobspec_input *inputs, size_t ninputs, char *err, size_t errlen);

/* The model the request names: params.model when it is a non-empty string
 * without a NUL, else NULL (upstream picks; the generic rules apply). Borrowed from params.
 * Shut-down models are not refused here (models_is_shut_down). */
const char *jobspec_model(const json_t *params);

/* Whether the request streams when not told: its model can (dall-e-2
 * cannot; unknown models are taken to) and its output_format is not gif. */
int jobspec_can_stream(const json_t *params);

/* Expected number of final images: params.n (integer or digit string) if it
 * is valid, else 1. */
int jobspec_n(const json_t *params);
/* params.partial_images (integer or digit string) if it is valid, else 0. */
int jobspec_partial_images(const json_t *params);

#endif
