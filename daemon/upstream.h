/* upstream.h: one edit attempt over HTTP: builds the multipart request from a
 * claimed job, parses the SSE or JSON answer, downloads URL results. */
#ifndef IMGEDIT_UPSTREAM_H
#define IMGEDIT_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "evcurl.h"
#include "ratelimit.h"
#include "store.h"

struct payload_pool;

struct upstream_config {
	const char *base_url;      /* e.g. https://api.openai.com/v1 */
	const char *api_key;       /* never logged */
	const char *organization;  /* OpenAI-Organization, or NULL */
	const char *project;       /* OpenAI-Project, or NULL */
	long connect_timeout_ms;
	long stall_timeout_s;      /* no byte received for this long: abort */
	long total_timeout_ms;     /* 0: none */
	size_t max_event_bytes;    /* one SSE event, or one JSON body */
	struct payload_pool *pool; /* image buffers shared by calls, or NULL */
};

/* One complete image, valid only during the on_image callback. */
struct upstream_image {
	enum image_kind kind;
	int idx;                   /* final: output index; partial: arrival order */
	int partial_index;         /* as reported, -1 if none */
	const char *format;        /* from the bytes: png, jpeg, webp, else reported */
	int width, height;         /* 0 if the bytes could not be read */
	const char *quality, *background, *reported_size; /* may be NULL */
	const unsigned char *data;
	size_t size;
};

enum edit_status {
	EDIT_OK,
	EDIT_HTTP_ERROR,   /* non-2xx answer */
	EDIT_TRANSPORT,    /* connect/read error or timeout (curl) */
	EDIT_TRUNCATED,    /* stream ended without image_edit.completed */
	EDIT_ERROR_EVENT,  /* an error frame inside the stream */
	EDIT_BAD_RESPONSE, /* bytes we cannot understand */
	EDIT_ABORTED,      /* on_image asked to stop */
};

struct edit_outcome {
	enum edit_status status;
	long http_status;          /* 0 when no answer */
	int curl_code;             /* CURLcode for EDIT_TRANSPORT */
	const char *request_id;    /* x-request-id, or NULL */
	const char *error_type, *error_code, *error_message; /* or NULL */
	int finals;                /* final images delivered */
	int64_t input_tokens, output_tokens, total_tokens;
	const char *usage_json;    /* usage object(s), or NULL */
	int64_t retry_after_ms;    /* from retry-after-ms / retry-after, -1 if none */
	int should_retry;          /* x-should-retry: 1, 0, or -1 if absent */
	struct ratelimit_headers ratelimit; /* x-ratelimit-*, -1 if absent */
};

struct edit_callbacks {
	/* Upstream answered: status and headers are in. request_id may be
	 * NULL. The callback may be NULL. */
	void (*on_response)(void *arg, long http_status, const char *request_id);
	/* The request body went out in full and upstream is answering: from
	 * now on the call never reads the job's input bytes, which may be
	 * freed (they are most of an in-flight job's memory). Called at most
	 * once, after on_response; may be NULL. */
	void (*on_inputs_sent)(void *arg);
	/* An image is complete. Return 0 to go on, -1 to abort the attempt. */
	int (*on_image)(void *arg, const struct upstream_image *img);
	/* The attempt ended. Called once (never after edit_call_cancel); the
	 * outcome's strings live until the callback returns, then the call is
	 * freed. */
	void (*on_done)(void *arg, const struct edit_outcome *out);
};

struct edit_call;

/* Starts the attempt for job (which must outlive the call). Returns the
 * call (freed after on_done, or by edit_call_cancel) or NULL with a reason
 * in err (e.g. params are not a JSON object). */
struct edit_call *edit_call_start(struct evcurl *ec,
    const struct upstream_config *cfg, const struct claimed_job *job,
    const struct edit_callbacks *cb, void *arg, char *err, size_t errlen);

/* Stops the attempt at once: no more callbacks; frees the call. Must not be
 * called from inside this call's own on_image callback (return -1 there). */
void edit_call_cancel(struct edit_call *call);

/* evcurl's completion callback for every transfer this module starts. */
void upstream_transfer_done(void *arg, CURL *easy, CURLcode result);

#endif
