/* models.h: the Images API's edit models as data, one row per family
 * (snapshots matched to their family), with their rules and shutdown dates. */
#ifndef IMGEDIT_MODELS_H
#define IMGEDIT_MODELS_H

#include <stddef.h>
#include <stdint.h>

/* When the table was last checked against its sources (models.c says which). */
#define MODELS_CHECKED	"2026-12-07"

/* One bit per parameter a family accepts (jobspec.c's `params` rows). */
enum {
	MP_N = 1 << 0, MP_SIZE = 1 << 1, MP_QUALITY = 1 << 2,
	MP_BACKGROUND = 1 << 3, MP_OUTPUT_FORMAT = 1 << 4,
	MP_OUTPUT_COMPRESSION = 1 << 5, MP_INPUT_FIDELITY = 1 << 6,
	MP_PARTIAL_IMAGES = 1 << 7, MP_RESPONSE_FORMAT = 1 << 8, MP_USER = 1 << 9,
	MP_SAFETY_IDENTIFIER = 1 << 10, MP_COMPLEXITY = 1 << 11,
	MP_FRAME_COUNT = 1 << 12, MP_FRAME_DURATION_MS = 1 << 13,
	MP_ALL = (1 << 14) - 1
};

/* Input formats, as bits of enum img_format (image.h). */
#define MODEL_FMT(f)	(1U << (f))

/* How a family's sizes are told. */
enum size_rule {
	SIZE_LISTED,	/* only the values in `sizes` */
	SIZE_FLEXIBLE	/* `sizes`, or WxH: edges divisible by 16, aspect 1:3..3:1,
			 * at most 3840 on the long edge and 2160 on the short */
};

struct model_family {
	const char		*name;		/* NULL: the generic row */
	const char		*shutdown;	/* YYYY-MM-DD, or NULL: current */
	const char		*replacement;	/* what to use instead, or NULL */
	size_t			 max_images;	/* 0: no limit */
	unsigned		 image_formats;	/* MODEL_FMT(IMG_*) */
	size_t			 max_image_bytes; /* each image must be smaller */
	int			 square;	/* images must be square */
	int			 mask;		/* accepts a mask */
	size_t			 mask_max_bytes;
	int			 markup;	/* accepts a markup PNG */
	size_t			 prompt_max;	/* code points; 0: no limit */
	enum size_rule		 size_rule;
	const char *const	*sizes, *const *qualities, *const *fidelities;
	const char *const	*output_formats;
	unsigned		 params;	/* MP_* accepted */
	int			 streaming;
	int			 generic;	/* unknown model: types only */
};

/* Largest flexible size: 3840x2160 either way round. */
#define MODELS_LONG_EDGE_MAX	3840
#define MODELS_SHORT_EDGE_MAX	2160
/* GIF frames and their delay (frame_count, frame_duration_ms). */
#define MODELS_FRAMES_MIN	2
#define MODELS_FRAMES_MAX	16

/* The family of a model name: its row when name is the family's or one of
 * its dated snapshots (family-YYYY-MM-DD), else the generic row (name NULL).
 * Never NULL; the result is static. */
const struct model_family *models_find(const char *name);

/* The row at index i (0..), the generic row last; NULL past it. */
const struct model_family *models_row(size_t i);

/* Whether family f is shut down on day today ("YYYY-MM-DD", UTC). */
int models_is_shut_down(const struct model_family *f, const char *today);

/* Checks size against f's rule. Returns 0, or -1 with the reason (no
 * "size: " prefix) in why. */
int models_check_size(const struct model_family *f, const char *size,
    char *why, size_t whylen);

/* size as WIDTHxHEIGHT, each 1 to 5 decimal digits, into *w and *h.
 * Returns 1, 0 when an edge is 0, or -1 when size is not of that form. */
int models_parse_size(const char *size, uint32_t *w, uint32_t *h);

/* Whether s is in the NULL-ended list. */
int models_in_list(const char *const *list, const char *s);

#endif
