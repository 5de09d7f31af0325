/* job.c: freeing what a claim hands the daemon, and the words for a job
 * over a limit (job.h); the same on every backend. */
#define _GNU_SOURCE
#include "job.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void
claimed_job_free(struct claimed_job *job)
{
	size_t i;

	if (job == NULL)
		return;
	for (i = 0; i < job->ninputs; i++) {
		free(job->inputs[i].filename);
		free(job->inputs[i].content_type);
		free(job->inputs[i].data);
	}
	free(job->inputs);
	free(job->params);
	free(job->load_error);
	free(job);
}

void
claimed_job_drop_input_bytes(struct claimed_job *job)
{
	size_t i;

	for (i = 0; i < job->ninputs; i++) {
		free(job->inputs[i].data);
		job->inputs[i].data = NULL;
	}
}

static void
refuse(struct claimed_job *job, const char *fmt, ...)
{
	va_list ap;

	if (job->load_error != NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&job->load_error, fmt, ap) == -1)
		job->load_error = NULL;
	va_end(ap);
}

void
job_params_refusal(char *buf, size_t len, int64_t bytes)
{
	snprintf(buf, len, "params: %lld bytes, over the %d-byte limit",
	    (long long)bytes, STORE_PARAMS_MAX);
}

void
job_refuse_params(struct claimed_job *job, int64_t bytes)
{
	char why[96];

	job_params_refusal(why, sizeof(why), bytes);
	refuse(job, "%s", why);
}

void
job_refuse_inputs(struct claimed_job *job)
{
	refuse(job, "inputs: more than %d (16 images and a mask at most)",
	    STORE_INPUTS_MAX);
}

void
job_refuse_input(struct claimed_job *job, const char *role, int64_t ordinal,
    const char *filename, int64_t bytes)
{
	refuse(job, "%s %lld (%s): %lld bytes, over the %u MB limit",
	    role ? role : "?", (long long)ordinal, filename ? filename : "?",
	    (long long)bytes, STORE_INPUT_MAX >> 20);
}

void
job_refuse_missing(struct claimed_job *job, const char *role, int64_t ordinal,
    const char *filename)
{
	refuse(job, "%s %lld (%s): its bytes are missing (blob_id points to "
	    "no blob)", role ? role : "?", (long long)ordinal, filename ?
	    filename : "?");
}
