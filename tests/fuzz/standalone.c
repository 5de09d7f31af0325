/* standalone.c: replays fuzz inputs without libFuzzer, for ctest: runs
 * LLVMFuzzerTestOneInput over every file named or inside a directory named. */
#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "util.h"

static int nrun;

/* Each input in a buffer of its exact size, so ASan sees any overread. */
static int
run_file(const char *path)
{
	unsigned char *data, *exact;
	size_t len;

	if (read_file(path, 16 << 20, &data, &len) == -1) {
		fprintf(stderr, "%s: cannot read\n", path);
		return -1;
	}
	if ((exact = malloc(len ? len : 1)) == NULL)
		abort();
	memcpy(exact, data, len);
	free(data);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	nrun++;
	return 0;
}

static int
run_dir(const char *dir)
{
	struct dirent *de;
	struct stat st;
	char path[4096];
	DIR *d;
	int rc = 0;

	if ((d = opendir(dir)) == NULL)
		return run_file(dir);
	while ((de = readdir(d)) != NULL) {
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (de->d_name[0] != '.' && stat(path, &st) == 0 &&
		    S_ISREG(st.st_mode) && run_file(path) == -1)
			rc = -1;
	}
	closedir(d);
	return rc;
}

int
main(int argc, char **argv)
{
	int i, rc = 0;

	for (i = 1; i < argc; i++)
		if (run_dir(argv[i]) == -1)
			rc = 1;
	printf("%s: %d inputs\n", argv[0], nrun);
	return rc != 0 || nrun == 0;
}
