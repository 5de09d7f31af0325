/* testjpeg.h: progressive JPEGs for the tests, written by libjpeg into
 * memory: a camera's ordinary 10 scans, or hundreds of tiny scans. */
#ifndef IMGEDIT_TESTJPEG_H
#define IMGEDIT_TESTJPEG_H

#include <stddef.h>
#include <stdint.h>

/* A w x h progressive RGB JPEG of noisy pixels: with many == 0 libjpeg's
 * standard script (10 scans), else one scan per AC coefficient, component
 * and bit of successive approximation (2 + 3 * 63 * 4 = 758 scans). Sets
 * *scans to the count. Returns the bytes (caller frees), or NULL. */
unsigned char *testjpeg_progressive(uint32_t w, uint32_t h, int many,
    size_t *len, int *scans);

#endif
