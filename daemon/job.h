/* job.h: what the daemon and its store say to each other about a job, the
 * same on every backend: a claimed job, an image to keep, an attempt's end. */
#ifndef IMGEDIT_JOB_H
#define IMGEDIT_JOB_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The store's results (storeq.h's sq_req.rc, the backends' functions). */
#define STORE_OK 0
#define STORE_ERR (-1)   /* database error: its class and text with it */
#define STORE_LOST (-2)  /* the job is no longer ours (canceled, lease taken) */
#define STORE_BUSY (-3)  /* still locked after the busy timeout: try again later */

enum input_role { INPUT_IMAGE, INPUT_MASK, INPUT_MARKUP };

/* The inputs.role column's spelling of a role, and back (anything else is
 * an image, as the CHECK constraint allows nothing else). */
static inline const char *
input_role_name(enum input_role r)
{
	return r == INPUT_MASK ? "mask" : r == INPUT_MARKUP ? "markup" : "image";
}

static inline enum input_role
input_role_of(const char *s)
{
	if (s != NULL && strcmp(s, "mask") == 0)
		return INPUT_MASK;
	return s != NULL && strcmp(s, "markup") == 0 ? INPUT_MARKUP : INPUT_IMAGE;
}

struct job_input {
	enum input_role role;
	int ordinal;
	char *filename;
	char *content_type; /* NULL when the writer left it to sniffing */
	unsigned char *data;
	size_t size;
};

struct claimed_job {
	int64_t id;
	int64_t attempt_id;
	int attempt;        /* number of this attempt's row, 1-based */
	int counted;        /* attempts that count, this one included */
	int max_attempts;
	int stream;
	char *params;       /* JSON text as stored (may be invalid: validate!) */
	struct job_input *inputs; /* images by ordinal, then the mask */
	size_t ninputs;
	char *load_error;   /* non-NULL: inputs could not be read (reason) */
	int load_transient; /* ... because of the database, not the job */
};

/* Frees job and all it holds; NULL is nothing. */
void claimed_job_free(struct claimed_job *job);

/* Frees the input bytes (data = NULL; names, types and sizes stay). */
void claimed_job_drop_input_bytes(struct claimed_job *job);

/* Largest input the daemon loads, in bytes: sizes are read from the
 * database first, so a hostile row cannot make it allocate more. */
#define STORE_INPUT_MAX (50u << 20)
#define STORE_INPUTS_MAX 17 /* 16 images and a mask */
/* Longest params text in bytes (UTF-8, as stored; never characters): a
 * 32,000-character prompt and the rest, with room. */
#define STORE_PARAMS_MAX (256 * 1024)

/* Why a claimed job cannot run, in the same words on every backend: each
 * sets job->load_error unless a reason is there already (the first found
 * is kept). role is "image" or "mask", filename may be NULL. */
void job_refuse_params(struct claimed_job *job, int64_t bytes);
/* The same words into buf, for readers of a row the daemon would refuse
 * (imgeditctl's catalog). */
void job_params_refusal(char *buf, size_t len, int64_t bytes);
void job_refuse_inputs(struct claimed_job *job);
void job_refuse_input(struct claimed_job *job, const char *role,
    int64_t ordinal, const char *filename, int64_t bytes);
void job_refuse_missing(struct claimed_job *job, const char *role,
    int64_t ordinal, const char *filename);

/* A job this daemon runs, and the attempt it runs it under. */
struct store_run_ref {
	int64_t job_id, attempt_id;
};

enum image_kind { IMAGE_PARTIAL, IMAGE_FINAL };

struct store_image {
	int64_t job_id, attempt_id;
	enum image_kind kind;
	int idx;            /* final: output index; partial: arrival order */
	int partial_index;  /* as reported, -1 if none */
	const char *format; /* png, jpeg, webp */
	int width, height;  /* 0 if unknown */
	const char *sha256; /* hex */
	const char *quality, *background, *reported_size; /* may be NULL */
	const unsigned char *data;
	size_t size;
};

struct attempt_result {
	const char *outcome;     /* attempts.outcome */
	int http_status;         /* 0 if none */
	const char *request_id;
	const char *error_type, *error_code, *error_message;
	int64_t input_tokens, output_tokens, total_tokens;
	const char *usage_json;  /* may be NULL */
	const char *model;       /* params.model as sent, NULL if none */
	const char *cost_status; /* attempts.cost_status (cost.h's names) */
	int64_t cost_usd_micro;  /* what it cost; -1: not known (NULL) */
	/* when what it cost is not known: the hold it counts at, kept where
	 * the claim wrote one (budgets) and written where it did not, so it
	 * never counts as zero; 0 or less: none (NULL) */
	int64_t hold_usd_micro, hold_tokens;
};

#endif
