/* upstream.h: one edit attempt over HTTP: builds the multipart request from a
 * claimed job, parses the SSE or JSON answer, downloads URL results. */
#ifndef IMGEDIT_UPSTREAM_H
#define IMGEDIT_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "evcurl.h"
#include "ratelimit.h"
#include "job.h"

struct payload_pool;

struct upstream_config {
	const char *base_url;      /* e.g. https://api.openai.com/v1 */
	const char *api_key;       /* never logged */
	const char *organization;  /* OpenAI-Organization, or NULL */
	const char *project;       /* OpenAI-Project, or NULL */
	const char *download_proxy; /* url results through it (tunnelled to
	                            * the address checked), or NULL: direct */
	long connect_timeout_ms;
	long stall_timeout_s;      /* no byte received for this long: abort */
	long total_timeout_ms;     /* 0: none */
	size_t max_event_bytes;    /* one SSE event, or one JSON body */
	struct payload_pool *pool; /* image buffers shared by calls, or NULL */
};

/* One complete image, valid only during the on_image callback (keep its
 * bytes past it with upstream_image_keep). */
struct upstream_image {
	enum image_kind kind;
	int idx;                   /* final: output index; partial: arrival order */
	int partial_index;         /* as reported, -1 if none */
	const char *format;        /* from the bytes: png, jpeg, webp, else reported */
	int width, height;         /* 0 if the bytes could not be read */
	const char *quality, *background, *reported_size; /* may be NULL */
	const unsigned char *data;
	size_t size;
	/* upstream.c's: where the bytes live */
	struct edit_call *call;
	int slot;                  /* index in the event's images, or -1 */
	struct payload_image *buf; /* the buffer if not a slot, or NULL */
};

/* Moves (or, for a download, copies) the image's bytes into *out, which
 * owns them from now on: give them back with payload_pool_put on the
 * config's pool. Only during on_image. Returns 0, or -1 out of memory. */
int upstream_image_keep(const struct upstream_image *img,
    struct payload_image *out);

enum edit_status {
	EDIT_OK,
	EDIT_HTTP_ERROR,   /* non-2xx answer */
	EDIT_TRANSPORT,    /* connect/read error or timeout (curl) */
	EDIT_TRUNCATED,    /* stream ended without image_edit.completed */
	EDIT_ERROR_EVENT,  /* an error frame inside the stream */
	EDIT_BAD_RESPONSE, /* bytes we cannot understand */
	EDIT_ABORTED,      /* on_image asked to stop */
	EDIT_TOO_LARGE,    /* an event or body over max_event_bytes */
	EDIT_REFUSED,      /* a url result that points where it must not */
};

struct edit_outcome {
	enum edit_status status;
	long http_status;          /* 0 when no answer */
	int curl_code;             /* CURLcode for EDIT_TRANSPORT */
	const char *request_id;    /* x-request-id, or NULL */
	const char *error_type, *error_code, *error_message; /* or NULL */
	int finals;                /* final images delivered */
	int complete;              /* all expected finals came: the rest of
	                            * the answer, whatever it was, is moot */
	int was_paused;            /* the daemon held the transfer back (its
	                            * memory budget) at some time */
	int local_fault;           /* the daemon's own trouble (no descriptor
	                            * for a socket): not upstream's */
	int64_t input_tokens, output_tokens, total_tokens;
	const char *usage_json;    /* usage object(s), or NULL */
	int64_t ttfb_ms;           /* to the answer's first byte, -1 if none */
	int64_t bytes_in;          /* of the edit's answer (not url results) */
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
	/* Asked before more of a stream is parsed: nonzero pauses the
	 * transfer (the bytes stay in the socket) until edit_call_resume.
	 * May be NULL. */
	int (*should_pause)(void *arg);
	/* The attempt ended. Called once (never after edit_call_cancel); the
	 * outcome's strings live until the callback returns, then the call is
	 * freed. */
	void (*on_done)(void *arg, const struct edit_outcome *out);
};

struct edit_call;

/* Starts the attempt for job (which must outlive the call), which asks for
 * expect_finals images: once they all came, nothing upstream sends after
 * them changes the outcome. Returns the call (freed after on_done, or by
 * edit_call_cancel) or NULL with a reason in err (e.g. params are not a
 * JSON object). */
struct edit_call *edit_call_start(struct evcurl *ec,
    const struct upstream_config *cfg, const struct claimed_job *job,
    int expect_finals, const struct edit_callbacks *cb, void *arg, char *err,
    size_t errlen);

/* Resumes a transfer that should_pause paused; no-op otherwise. May call
 * the callbacks before it returns. */
void edit_call_resume(struct edit_call *call);

/* Stops the attempt at once: no more callbacks; frees the call. Must not be
 * called from inside this call's own on_image callback (return -1 there). */
void edit_call_cancel(struct edit_call *call);

/* evcurl's completion callback for every transfer this module starts. */
void upstream_transfer_done(void *arg, CURL *easy, CURLcode result);

#endif
