/* mkprogjpeg: writes a progressive JPEG for the integration tests:
 *   mkprogjpeg OUT W H camera|many   (10 scans, or 758: testjpeg.h) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testjpeg.h"

int
main(int argc, char **argv)
{
	unsigned char *jpg;
	size_t len;
	int scans;
	FILE *f;

	if (argc != 5 || (strcmp(argv[4], "camera") != 0 &&
	    strcmp(argv[4], "many") != 0)) {
		fprintf(stderr, "usage: mkprogjpeg OUT W H camera|many\n");
		return 2;
	}
	jpg = testjpeg_progressive((uint32_t)atoi(argv[2]),
	    (uint32_t)atoi(argv[3]), strcmp(argv[4], "many") == 0, &len, &scans);
	if (jpg == NULL || (f = fopen(argv[1], "wb")) == NULL ||
	    fwrite(jpg, 1, len, f) != len || fclose(f) != 0) {
		perror("mkprogjpeg");
		return 1;
	}
	printf("%d scans, %zu bytes\n", scans, len);
	free(jpg);
	return 0;
}
