/* fake_upstream.h: the types shared by the fake upstream's files: the server,
 * one request's reply (a list of byte pieces), the images, faults, multipart. */
#ifndef FAKE_UPSTREAM_H
#define FAKE_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <openssl/evp.h>

struct event;
struct event_base;
struct evhttp;
struct evhttp_connection;
struct evhttp_request;

/* ---- pngmaker.c: one base PNG, and per-image tails that make each unique */

#define IMG_TAG_MAX	48	/* "<seq>-<kind>-<index>" */
#define IMG_TAIL_MAX	96	/* tEXt chunk + IEND */

struct pngbase {
	unsigned char	*data;		/* the base PNG, IEND last */
	size_t		 len;
	size_t		 body_len;	/* bytes shared by every image: all but IEND */
	size_t		 b64_head;	/* raw bytes of body covered by b64 (3k) */
	char		*b64;		/* base64 of data[0, b64_head) */
	size_t		 b64_len;
	EVP_MD_CTX	*md;		/* SHA-256 state after data[0, body_len) */
};

/* One image sent (or to be sent): the shared body, then its own tail. */
struct image {
	const char	*kind;		/* "partial" or "final" */
	int		 index;
	size_t		 size;		/* PNG bytes */
	char		 sha256[65];
	unsigned char	 tail[IMG_TAIL_MAX];	/* tEXt imgedit-fake=tag, IEND */
	size_t		 tail_len;
	char		 b64tail[4 * ((IMG_TAIL_MAX + 2) / 3 + 1)];
	size_t		 b64tail_len;
	/* --derive: the image's own bytes (and their base64), or NULL */
	unsigned char	*own;
	size_t		 own_len;
	char		*own_b64;
	size_t		 own_b64_len;
};

int	 pngbase_init(struct pngbase *, size_t, char *, size_t);
void	 pngbase_free(struct pngbase *);
int	 image_make(const struct pngbase *, const char *, const char *, int,
	    struct image *);
void	 image_own(struct image *, unsigned char *, size_t);
void	 image_free(struct image *);

/* ---- bill.c: --bill-table, usage from the published token table */
long	 bill_output_tokens(const char *, const char *);
long	 bill_image_tokens(const unsigned char *, size_t);
long	 bill_text_tokens(const char *);

/* ---- derive.c: --derive, images made from the request's first input */

int	 derive_image(const unsigned char *, size_t, const char *,
	    const char *, int, int, unsigned char **, size_t *);
size_t	 b64_encode(const unsigned char *, size_t, char *);
void	 sha256_hex(const void *, size_t, char [65]);

/* ---- gifmaker.c: output_format=gif, frames of w x h (caller frees *out) */

int	 gif_make(unsigned, unsigned, unsigned, unsigned, unsigned char **,
	    size_t *);

/* ---- multipart.c: a multipart/form-data parser over a contiguous body */

struct mp_part {
	const char		*name;
	const char		*filename;	/* NULL when absent */
	const char		*ctype;		/* NULL when absent */
	const unsigned char	*data;
	size_t			 len;
};

typedef void (*mp_cb)(const struct mp_part *, void *);

int	 mp_boundary(const char *, char *, size_t);
int	 mp_parse(const unsigned char *, size_t, const char *, mp_cb, void *,
	    char *, size_t);

/* ---- rules.c: the model table's rules on a request; -1 with the param */

int	 rules_check(json_t *, const struct mp_part *, size_t, char *, size_t,
	    char *, size_t);

/* ---- faults.c: [[fault:F1;F2]] tokens in the prompt */

struct fault {
	int		 status;	/* an error reply, 0 = none */
	char		 type[64];	/* "" = null */
	char		 code[64];
	char		 param[64];
	char		 message[256];
	long		 retry_after_ms;	/* -1 = no header */
	long		 retry_after;
	long		 retry_after_date;
	int		 should_retry;	/* -1 = no header */
	int		 cut;
	long		 cut_after;	/* -1 = none */
	int		 error_event;
	int		 garbage;
	int		 hang;
	long		 finals;	/* completed events or data items, -1 = n */
	int		 usage_total_set; /* usage.total_tokens is usage_total */
	long		 usage_total;
	int		 usage_nodetails; /* usage without input_tokens_details */
	int		 trailing_event, trailing_garbage, trailing_error;
	int		 unknown_event;
	long		 slow_bytes;	/* 0 = not slow */
	long		 slow_ms;
	long		 delay_ms;
	int		 crlf, cr, noevent, comments, done, split;
	char		 url_host[64];	/* url results: this host, "" = ours */
	long		 url_port;	/* url results: this port, 0 = ours */
	char		 url_ctype[64];	/* their content type, "" = image/png */
	int		 url_redirect;	/* their GET answers 302 elsewhere */
	int		 html;		/* a 200 with an HTML page */
	int		 gzip;		/* a 200 JSON answer gzip-encoded */
};

struct fault_counts;

struct fault_counts	*fc_new(void);
void			 fc_free(struct fault_counts *);
unsigned long		 fc_next(struct fault_counts *, const char *);
int	 fault_pick(const char *, unsigned long, char *, size_t);
int	 fault_parse(const char *, struct fault *, char *, size_t);
void	 fault_clear(struct fault *);

/* ---- fake_upstream.c: the server and the request life cycle */

/* --framing: how every SSE reply is cut into lines and writes. */
enum framing {
	FRAMING_WHOLE,		/* events as they are, written in large chunks */
	FRAMING_PIECES,		/* written in random 1..PIECE_MAX-byte chunks */
	FRAMING_CRLF,		/* lines end with \r\n */
	FRAMING_COMMENTS,	/* ": keep-alive" lines between and in events */
	FRAMING_MULTILINE	/* each event's JSON over several data: lines */
};

#define PIECE_MAX	7000

struct file_entry;
struct fake_server {
	struct event_base	*base;
	struct evhttp		*http;
	const char		*key;
	FILE			*log;
	long			 rpm;
	long			 rpm_window_ms;
	long			 latency_ms;
	unsigned long		 seq;
	struct pngbase		 png;
	struct fault_counts	*counts;
	struct file_entry	*files;		/* url-mode images not yet fetched */
	char			 origin[80];	/* http://host:port */
	int64_t			 rate_start;	/* start of the --rpm window */
	int			 derive;	/* --derive */
	int			 bill_table;	/* --bill-table */
	long			 rate_used;
	enum framing		 framing;	/* --framing */
	uint64_t		 seed;		/* --seed: of the pieces' sizes */
	unsigned long		 log_lie;	/* --log-lie: the Nth image logged */
	unsigned long		 logged;	/* images logged so far */
};

/* A reply body is a list of pieces; an SSE event or image ends at a piece. */
struct piece {
	const char	*data;
	size_t		 len;
	unsigned char	 shared;	/* the server's bytes: add by reference */
	unsigned char	 owned;		/* free(data) with the request */
	unsigned char	 event_end;	/* an SSE event is complete after it */
	short		 image;		/* ctx->images[] complete after it, or -1 */
};

struct reqctx {
	struct fake_server		*srv;
	struct evhttp_request		*req;
	struct evhttp_connection	*evcon;
	unsigned long			 seq;
	json_t				*log;		/* the log line, being filled */
	json_t				*sent;		/* images that went out whole */
	int				 status;
	int				 chunked;	/* SSE: no Content-Length */
	int				 hang;
	int				 started;	/* headers sent */
	long				 delay_ms;
	long				 slow_bytes, slow_ms;
	long				 gap_ms;	/* pause after each SSE event */
	long				 wait_ms;	/* pause before the next chunk */
	struct image			*images;
	size_t				 nimages;
	struct piece			*pieces;
	size_t				 npieces, piececap;
	size_t				 cur, cur_off;	/* next byte to queue */
	size_t				 confirmed;	/* pieces known drained */
	uint64_t			 rng;		/* --framing pieces: sizes */
	unsigned long			 writes;	/* chunks queued */
	uint64_t			 off, total;
	uint64_t			 cut_at;	/* close here; UINT64_MAX = no */
	struct event			*timer;
	char				*file_token;	/* GET: forget it when sent */
	unsigned char			*first_input;	/* --derive: the first image */
	size_t				 first_len;
};

#define NO_CUT	UINT64_MAX

enum done_how { DONE_SENT, DONE_CLOSED, DONE_CUT };

/* reply.c */
void	 reply_add(struct reqctx *, const char *, size_t, int);
void	 reply_add_owned(struct reqctx *, char *, size_t);
void	 reply_add_image(struct reqctx *, int, int);
void	 reply_end_event(struct reqctx *);
void	 reply_header(struct reqctx *, const char *, const char *);
void	 reply_confirm(struct reqctx *);
void	 reply_cut(struct reqctx *, long, int);
void	 reply_go(struct reqctx *);
int	 framing_parse(const char *, enum framing *);
const char *framing_name(enum framing);
void	 reply_error(struct reqctx *, int, const char *, const char *,
	    const char *, const char *);

/* edits.c */
void	 edits_handle(struct reqctx *);

/* fake_upstream.c */
int64_t	 now_ms(void);
json_t	*jtext(const void *, size_t);
json_t	*jtext_or_null(const char *);
void	 ctx_done(struct reqctx *, enum done_how);
void	 files_add(struct fake_server *, const char *, int, const struct fault *,
	    const struct image *, char *, size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);

#endif
