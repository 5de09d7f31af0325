/* rules.c: the model table's rules (daemon/models.c, applied by jobspec.c)
 * checked on a request as upstream checks it: what fails names its param. */
#include "fake_upstream.h"

#include <stdarg.h>
#include <string.h>

#include "jobspec.h"

/* The one helper of daemon/util.c that jobspec.c and image.c use. */
int errorf(char *, size_t, const char *, ...);

int
errorf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int
rules_check(json_t *fields, const struct mp_part *parts, size_t nparts,
    char *param, size_t paramlen, char *msg, size_t msglen)
{
	struct jobspec_input in[64];
	const char *stream = json_string_value(json_object_get(fields, "stream"));
	char err[512], *colon;
	json_t *params;
	size_t i, n = 0;
	int rc;

	/* images in order, then the mask or markup, as jobspec wants them */
	for (i = 0; i < nparts && n < 64; i++)
		if (input_role_of(parts[i].name) == INPUT_IMAGE)
			in[n++] = (struct jobspec_input){ INPUT_IMAGE,
			    parts[i].filename, parts[i].data, parts[i].len,
			    parts[i].ctype };
	for (i = 0; i < nparts && n < 64; i++)
		if (input_role_of(parts[i].name) != INPUT_IMAGE)
			in[n++] = (struct jobspec_input){
			    input_role_of(parts[i].name),
			    parts[i].filename, parts[i].data, parts[i].len,
			    parts[i].ctype };
	if ((params = json_deep_copy(fields)) == NULL)
		return -1;
	json_object_del(params, "stream");
	rc = jobspec_validate(params, stream != NULL && strcmp(stream, "true") == 0,
	    in, n, err, sizeof(err));
	json_decref(params);
	if (rc == 0)
		return 0;
	colon = strchr(err, ':');
	snprintf(param, paramlen, "%.*s", colon ? (int)(colon - err) : 0, err);
	snprintf(msg, msglen, "Invalid request: %s", err);
	return -1;
}
