/* estimate.h: what a job will cost before it runs: a range of tokens from
 * the published output-token table by quality and size, and its price. */
#ifndef IMGEDIT_ESTIMATE_H
#define IMGEDIT_ESTIMATE_H

#include <stddef.h>
#include <stdint.h>

#include "cost.h"
#include "prices.h"

/* Output tokens per partial image (OpenAI's image generation guide). */
#define ESTIMATE_PARTIAL_TOKENS	100
/* Input image tokens: 32 px patches within a 1,536-patch budget. */
#define ESTIMATE_PATCH_PX	32
#define ESTIMATE_PATCH_BUDGET	1536
/* Text tokens that are not the prompt's, at most: per request and per
 * input image. */
#define ESTIMATE_TEXT_OVERHEAD	32

struct estimate_image {
	uint32_t	width, height;
};

/* A job as the estimate sees it: its params and its inputs' sizes. */
struct estimate_job {
	const char	*model;		/* NULL: upstream chooses: unknown */
	long		 n;		/* images asked for (< 1: 1) */
	const char	*size;		/* NULL or "auto": any listed size */
	const char	*quality;	/* NULL or "auto": low to high */
	long		 partial_images; /* when streamed, else 0 */
	size_t		 prompt_bytes;
	const struct estimate_image *images;
	size_t		 nimages;
	size_t		 nmasks;	/* mask or markup (maybe billed) */
};

struct estimate {
	int			known;	/* the model's tokens can be told */
	struct usage_tokens	lo, hi;	/* per kind; hi.output < 0: no
					 * upper bound (xhigh, max) */
	int			priced;	/* the model has a price */
	int64_t			cost_lo, cost_hi; /* micro-dollars; cost_hi
					 * < 0: no upper bound */
};

/* Output tokens of one image of w x h at quality "low", "medium" or "high"
 * by gpt-image-2's published table (the formula OpenAI's calculator uses).
 * Returns the count, or -1 for another quality or a size of 0. */
int64_t estimate_output_tokens(const char *quality, uint32_t w, uint32_t h);

/* Input image tokens of one w x h image: lo and hi bounds. */
void estimate_image_tokens(uint32_t w, uint32_t h, int64_t *lo, int64_t *hi);

/* The estimate of j at t's prices (t may be NULL: the built-in ones). A
 * model without a published token table (the retired and unknown ones) is
 * not known; a known one without a price is not priced. One attempt per
 * job: retries cost more. */
void estimate_job(const struct price_table *t, const struct estimate_job *j,
    struct estimate *e);

/* The sum of many jobs' estimates. Zeroed is empty. */
struct estimate_total {
	size_t			jobs;		/* added */
	size_t			unknown;	/* of them, no token estimate */
	size_t			unpriced;	/* known, but no price */
	struct usage_tokens	lo, hi;		/* over the known ones; hi.output
						 * < 0: no upper bound */
	int64_t			cost_lo, cost_hi; /* over the priced ones;
						 * cost_hi < 0: no bound */
};

void estimate_total_add(struct estimate_total *t, const struct estimate *e);

#endif
