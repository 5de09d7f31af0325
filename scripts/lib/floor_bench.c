/* floor_bench.c: the per-image CPU floor of imgeditd's design, measured on
 * this machine (SPEC §8's "bare C loop"): base64-decode one image with the
 * daemon's decoder, hash it with the daemon's sha256_hex, and insert it as a
 * blob in its own transaction into a bare table of a fresh database with the
 * daemon's pragmas (WAL, 64 KiB pages, synchronous=NORMAL, SQLite's own
 * checkpoints). Nothing else: no network, no parsing, no job bookkeeping.
 * Built ad hoc by scripts/bench against the core library, like claim_bench:
 *
 *   floor_bench DB IMAGE_BYTES [IMAGES]   (default 200 images)
 *
 * DB must not exist (it is created, and left for the caller to delete).
 * Prints one JSON line: {"image_bytes":S,"images":N,"decode_ms":..,
 * "sha256_ms":..,"store_ms":..,"sum_ms":..}, each CPU ms per image (user +
 * sys of this process). Exit 1 on any error. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "b64.h"
#include "util.h"

static double
cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Standard base64 with padding; returns a malloc'd string or NULL. */
static char *
encode(const unsigned char *in, size_t n, size_t *outlen)
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
	size_t i;
	uint32_t v;

	if (out == NULL)
		return NULL;
	for (i = 0; i + 3 <= n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*o++ = abc[v >> 18], *o++ = abc[(v >> 12) & 63];
		*o++ = abc[(v >> 6) & 63], *o++ = abc[v & 63];
	}
	if (i < n) {
		v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
		*o++ = abc[v >> 18], *o++ = abc[(v >> 12) & 63];
		*o++ = i + 1 < n ? abc[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	*outlen = (size_t)(o - out);
	return out;
}

static int
exec(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	fprintf(stderr, "floor_bench: %s: %s\n", sql, sqlite3_errmsg(db));
	return -1;
}

/* The daemon's pragmas, and a table with just what an image row needs. */
static sqlite3 *
open_db(const char *path)
{
	sqlite3 *db = NULL;

	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    exec(db, "PRAGMA page_size=65536") == -1 ||
	    exec(db, "PRAGMA journal_mode=WAL") == -1 ||
	    exec(db, "PRAGMA synchronous=NORMAL") == -1 ||
	    exec(db, "PRAGMA temp_store=MEMORY") == -1 ||
	    exec(db, "CREATE TABLE images (id INTEGER PRIMARY KEY, "
	    "sha256 TEXT NOT NULL, data BLOB NOT NULL)") == -1) {
		fprintf(stderr, "floor_bench: cannot set up %s: %s\n", path,
		    db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

static int
insert(sqlite3 *db, sqlite3_stmt *s, const char *hex,
    const unsigned char *data, size_t n)
{
	if (exec(db, "BEGIN IMMEDIATE") == -1)
		return -1;
	sqlite3_bind_text(s, 1, hex, -1, SQLITE_STATIC);
	sqlite3_bind_blob64(s, 2, data, n, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE) {
		fprintf(stderr, "floor_bench: insert: %s\n", sqlite3_errmsg(db));
		sqlite3_reset(s);
		exec(db, "ROLLBACK");
		return -1;
	}
	sqlite3_reset(s);
	return exec(db, "COMMIT");
}

int
main(int argc, char **argv)
{
	struct b64_decoder dec;
	struct stat sb;
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	unsigned char *img = NULL, *out = NULL;
	char *text = NULL, hex[SHA256_HEX_LEN + 1];
	size_t size, tlen = 0, i;
	long images = argc > 3 ? atol(argv[3]) : 200, k;
	double t0, t_dec, t_sha, t_store;
	int rc = 1;

	if (argc < 3 || (size = strtoul(argv[2], NULL, 10)) == 0 || images < 1) {
		fprintf(stderr, "usage: floor_bench DB IMAGE_BYTES [IMAGES]\n");
		return 2;
	}
	if (stat(argv[1], &sb) == 0) {
		fprintf(stderr, "floor_bench: %s exists; give a new path\n", argv[1]);
		return 2;
	}
	srandom(1);
	if ((img = malloc(size)) == NULL ||
	    (out = malloc(b64_decoded_max(size / 3 * 4 + 4))) == NULL)
		goto nomem;
	for (i = 0; i < size; i++)
		img[i] = (unsigned char)random();
	if ((text = encode(img, size, &tlen)) == NULL)
		goto nomem;
	memset(out, 0, b64_decoded_max(tlen)); /* fault it in before timing */

	t0 = cpu_ms();
	for (k = 0; k < images; k++) {
		b64_init(&dec, B64_JSON_ESCAPES);
		if (b64_decode_update(&dec, text, tlen, out) != (long)size ||
		    b64_decode_final(&dec) != 0) {
			fprintf(stderr, "floor_bench: decode failed\n");
			goto done;
		}
	}
	t_dec = cpu_ms() - t0;

	t0 = cpu_ms();
	for (k = 0; k < images; k++)
		sha256_hex(out, size, hex);
	t_sha = cpu_ms() - t0;

	if ((db = open_db(argv[1])) == NULL ||
	    sqlite3_prepare_v2(db, "INSERT INTO images (sha256, data) "
	    "VALUES (?, ?)", -1, &s, NULL) != SQLITE_OK)
		goto done;
	t0 = cpu_ms();
	for (k = 0; k < images; k++) {
		memcpy(out, &k, sizeof(k)); /* every row a different image */
		if (insert(db, s, hex, out, size) == -1)
			goto done;
	}
	t_store = cpu_ms() - t0;

	printf("{\"image_bytes\":%zu,\"images\":%ld,\"decode_ms\":%.3f,"
	    "\"sha256_ms\":%.3f,\"store_ms\":%.3f,\"sum_ms\":%.3f}\n", size,
	    images, t_dec / images, t_sha / images, t_store / images,
	    (t_dec + t_sha + t_store) / images);
	rc = 0;
	goto done;
nomem:
	fprintf(stderr, "floor_bench: out of memory\n");
done:
	sqlite3_finalize(s);
	sqlite3_close(db);
	free(text);
	free(out);
	free(img);
	return rc;
}
