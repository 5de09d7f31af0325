/* job.c: freeing what a claim hands the daemon (job.h); the same on every
 * backend. */
#include "job.h"

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
