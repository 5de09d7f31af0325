/* testjpeg.c: progressive JPEGs written by libjpeg into memory, with
 * libjpeg's own scan script or a many-scan one of our own. */
#include "testjpeg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#define MANY_AL 3   /* bits of successive approximation per AC band */

/* One scan per component and AC coefficient, each refined bit by bit. */
static jpeg_scan_info *
many_scans(int *count)
{
	jpeg_scan_info *s;
	int n = 0, c, k, a;

	if ((s = calloc(2 + 3 * 63 * (MANY_AL + 1), sizeof(*s))) == NULL)
		return NULL;
	s[n].comps_in_scan = 3;
	s[n].component_index[0] = 0, s[n].component_index[1] = 1;
	s[n].component_index[2] = 2;
	s[n].Ss = 0, s[n].Se = 0, s[n].Ah = 0, s[n].Al = 1;
	n++;
	s[n] = s[0];
	s[n].Ah = 1, s[n].Al = 0;
	n++;
	for (c = 0; c < 3; c++)
		for (k = 1; k <= 63; k++)
			for (a = MANY_AL; a >= 0; a--) {
				s[n].comps_in_scan = 1;
				s[n].component_index[0] = c;
				s[n].Ss = k, s[n].Se = k;
				s[n].Ah = a == MANY_AL ? 0 : a + 1;
				s[n].Al = a;
				n++;
			}
	*count = n;
	return s;
}

unsigned char *
testjpeg_progressive(uint32_t w, uint32_t h, int many, size_t *len,
    int *scans)
{
	struct jpeg_compress_struct ci;
	struct jpeg_error_mgr jerr;
	unsigned char *out = NULL, *row;
	unsigned long outlen = 0;
	jpeg_scan_info *script = NULL;
	uint32_t x, y, seed = 12345;
	JSAMPROW rows[1];

	if ((row = malloc((size_t)w * 3)) == NULL)
		return NULL;
	ci.err = jpeg_std_error(&jerr);
	jpeg_create_compress(&ci);
	jpeg_mem_dest(&ci, &out, &outlen);
	ci.image_width = w;
	ci.image_height = h;
	ci.input_components = 3;
	ci.in_color_space = JCS_RGB;
	jpeg_set_defaults(&ci);
	jpeg_set_quality(&ci, 95, TRUE);
	if (many) {
		if ((script = many_scans(scans)) == NULL)
			abort();
		ci.scan_info = script;
		ci.num_scans = *scans;
	} else {
		jpeg_simple_progression(&ci);
		*scans = ci.num_scans;
	}
	jpeg_start_compress(&ci, TRUE);
	rows[0] = row;
	for (y = 0; y < h; y++) {
		for (x = 0; x < w * 3; x++) {
			seed = seed * 1103515245u + 12345u;
			row[x] = (unsigned char)((x + y) / 4 + (seed >> 27));
		}
		jpeg_write_scanlines(&ci, rows, 1);
	}
	jpeg_finish_compress(&ci);
	jpeg_destroy_compress(&ci);
	free(script);
	free(row);
	*len = outlen;
	return out;
}
