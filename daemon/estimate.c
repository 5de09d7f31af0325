/* estimate.c: a job's token and cost range before it runs, from the output
 * token table by quality and size, the inputs' sizes and the prompt.
 *
 * Sources (read 2026-12-07):
 *  - output tokens: gpt-image-2's, as OpenAI's calculator computes them and
 *    a post on OpenAI's community forum reproduces it (2026-06-05, "Gpt-
 *    image-2 output pricing calculator"): quality factor q (low 16, medium
 *    48, high 96), s = (2 q short + long) / (2 long), tokens = ceil(q s
 *    (2000000 + w h) / 4000000), integer division; it gives 7024 for a
 *    1024x1024 high image and 5488 for 1536x1024, OpenAI's own figures.
 *    The 2.5 and 2.6 families bill "the same token rates" (a guide of
 *    2026-09-09 citing OpenAI); their table is taken to be gpt-image-2's.
 *  - partial images: 100 output tokens each (OpenAI's guide).
 *  - input images: 32 px patches within a budget of 1,536, small inputs
 *    magnified toward a 1024 px long side (forum post, 2026-06-12, "gpt-
 *    image-2 edits - Image Input Pricing"; one token per patch assumed).
 * Where nothing is published, chosen here:
 *  - quality auto: low to high; xhigh and max: at least high, no upper
 *    bound (the range says so, and so does its cost);
 *  - size auto: any of 1024x1024, 1536x1024, 1024x1536;
 *  - input image: at least its patches at its own size (at most 1024 of
 *    them: a large image is scaled down to the budget), at most the
 *    budget; a mask or markup: 0 to the budget; with n > 1 the inputs
 *    may be billed once or n times (both ends are in the range);
 *  - text: the prompt's bytes / 8 to its bytes (a token is at least a
 *    byte), plus up to 32 tokens per request and per input image. */
#include "estimate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models.h"

/* The families billed by gpt-image-2's table (models.c names). */
static const char *const table_families[] = { "gpt-image-2",
	"gpt-image-2.5-sunburst", "gpt-image-2.5-flare",
	"gpt-image-2.6-sunburst", "gpt-image-2.6-flare", NULL };

/* What size "auto" may come out as. */
static const struct estimate_image auto_sizes[] = {
	{ 1024, 1024 }, { 1536, 1024 }, { 1024, 1536 } };

int64_t
estimate_output_tokens(const char *quality, uint32_t w, uint32_t h)
{
	int64_t q, s, lo, hi;

	if (quality == NULL || w == 0 || h == 0)
		return -1;
	if (strcmp(quality, "low") == 0)
		q = 16;
	else if (strcmp(quality, "medium") == 0)
		q = 48;
	else if (strcmp(quality, "high") == 0)
		q = 96;
	else
		return -1;
	lo = w < h ? w : h;
	hi = w < h ? h : w;
	s = (2 * q * lo + hi) / (2 * hi);
	return (q * s * (2000000 + (int64_t)w * h) + 3999999) / 4000000;
}

void
estimate_image_tokens(uint32_t w, uint32_t h, int64_t *lo, int64_t *hi)
{
	int64_t patches = (int64_t)((w + ESTIMATE_PATCH_PX - 1) /
	    ESTIMATE_PATCH_PX) * ((h + ESTIMATE_PATCH_PX - 1) /
	    ESTIMATE_PATCH_PX);

	*lo = patches > ESTIMATE_PATCH_BUDGET ? 1024 : patches;
	*hi = ESTIMATE_PATCH_BUDGET;
}

/* One image's output tokens over the sizes and qualities j allows:
 * *hi < 0 when there is no upper bound. Returns -1 for a size that is
 * not one. */
static int
output_range(const struct estimate_job *j, int64_t *lo, int64_t *hi)
{
	const char *q = j->quality;
	const char *qlo = "low", *qhi = "high";
	struct estimate_image one;
	const struct estimate_image *sizes = auto_sizes;
	size_t i, nsizes = 3;
	int64_t t;

	if (j->size != NULL && strcmp(j->size, "auto") != 0) {
		if (models_parse_size(j->size, &one.width, &one.height) != 1)
			return -1;
		sizes = &one;
		nsizes = 1;
	}
	if (q != NULL && (strcmp(q, "low") == 0 || strcmp(q, "medium") == 0 ||
	    strcmp(q, "high") == 0))
		qlo = qhi = q;
	else if (q != NULL && (strcmp(q, "xhigh") == 0 || strcmp(q, "max") == 0))
		qlo = qhi = "high";
	else if (q != NULL && strcmp(q, "auto") != 0)
		return -1;
	*lo = INT64_MAX;
	*hi = 0;
	for (i = 0; i < nsizes; i++) {
		if ((t = estimate_output_tokens(qlo, sizes[i].width,
		    sizes[i].height)) < *lo)
			*lo = t;
		if ((t = estimate_output_tokens(qhi, sizes[i].width,
		    sizes[i].height)) > *hi)
			*hi = t;
	}
	if (q != NULL && (strcmp(q, "xhigh") == 0 || strcmp(q, "max") == 0))
		*hi = -1;
	return 0;
}

static int
has_table(const char *model)
{
	const struct model_family *f = models_find(model);
	size_t i;

	for (i = 0; f->name != NULL && table_families[i] != NULL; i++)
		if (strcmp(f->name, table_families[i]) == 0)
			return 1;
	return 0;
}

void
estimate_job(const struct price_table *t, const struct estimate_job *j,
    struct estimate *e)
{
	int64_t n = j->n < 1 ? 1 : j->n, out_lo, out_hi, ilo, ihi;
	int64_t partials = j->partial_images > 0 ? j->partial_images : 0;
	struct price p;
	size_t i;

	memset(e, 0, sizeof(*e));
	if (j->model == NULL || !has_table(j->model) ||
	    output_range(j, &out_lo, &out_hi) == -1)
		return;
	e->known = 1;
	e->lo.text_in = (int64_t)(j->prompt_bytes / 8);
	e->hi.text_in = (int64_t)j->prompt_bytes + ESTIMATE_TEXT_OVERHEAD *
	    (int64_t)(1 + j->nimages + j->nmasks);
	for (i = 0; i < j->nimages; i++) {
		estimate_image_tokens(j->images[i].width, j->images[i].height,
		    &ilo, &ihi);
		e->lo.image_in += ilo;
		e->hi.image_in += ihi;
	}
	e->hi.image_in += (int64_t)j->nmasks * ESTIMATE_PATCH_BUDGET;
	e->hi.text_in *= n;		/* inputs billed once per image, */
	e->hi.image_in *= n;		/* perhaps */
	e->lo.output = n * (out_lo + partials * ESTIMATE_PARTIAL_TOKENS);
	e->hi.output = out_hi < 0 ? -1 : n * (out_hi + partials *
	    ESTIMATE_PARTIAL_TOKENS);
	if (prices_lookup(t, j->model, &p) == -1)
		return;
	e->priced = 1;
	e->cost_lo = cost_of(&p, &e->lo);
	e->cost_hi = e->hi.output < 0 ? -1 : cost_of(&p, &e->hi);
}

void
estimate_total_add(struct estimate_total *t, const struct estimate *e)
{
	t->jobs++;
	if (!e->known) {
		t->unknown++;
		return;
	}
	t->lo.text_in += e->lo.text_in;
	t->lo.image_in += e->lo.image_in;
	t->lo.output += e->lo.output;
	t->hi.text_in += e->hi.text_in;
	t->hi.image_in += e->hi.image_in;
	if (t->hi.output >= 0)
		t->hi.output = e->hi.output < 0 ? -1 : t->hi.output +
		    e->hi.output;
	if (!e->priced) {
		t->unpriced++;
		return;
	}
	t->cost_lo += e->cost_lo;
	if (t->cost_hi >= 0)
		t->cost_hi = e->cost_hi < 0 ? -1 : t->cost_hi + e->cost_hi;
}
