/* journal.c: whether stderr is systemd's journal stream (JOURNAL_STREAM),
 * and one log record sent to the journal with its fields (libsystemd). */
#include "journal.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#ifdef HAVE_SYSTEMD
/* CODE_FILE/LINE/FUNC would always name this file: left out. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>
#endif

/* journald's native socket: libsystemd's fixed path. */
#define JOURNAL_SOCKET "/run/systemd/journal/socket"

/* A record's MESSAGE at most (log.c's lines are shorter). */
#define JOURNAL_MSGMAX 4096

static const char *const log_keys[JOURNAL_NKEYS] = {
	"job", "attempt", "outcome", "http", "request_id"
};

/* Reads digits at *p into *v; 0, or -1 if none or past 64 bits. */
static int
parse_number(const char **p, unsigned long long *v)
{
	const char *s = *p;

	*v = 0;
	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (*v > (~0ULL - (unsigned)(*s - '0')) / 10)
			return -1;
		*v = *v * 10 + (unsigned)(*s - '0');
	}
	*p = s;
	return 0;
}

int
journal_stream_parse(const char *s, unsigned long long *dev,
    unsigned long long *ino)
{
	if (s == NULL || parse_number(&s, dev) == -1 || *s++ != ':' ||
	    parse_number(&s, ino) == -1 || *s != '\0')
		return -1;
	return 0;
}

int
journal_stream_is(const char *s, int fd)
{
	unsigned long long dev, ino;
	struct stat sb;

	if (journal_stream_parse(s, &dev, &ino) == -1 || fstat(fd, &sb) == -1)
		return 0;
	return (unsigned long long)sb.st_dev == dev &&
	    (unsigned long long)sb.st_ino == ino;
}

/* One byte of a field's value: control bytes would end it. */
static char
field_byte(unsigned char c)
{
	return c < 0x20 || c == 0x7f ? '?' : (char)c;
}

/* Reads the value at p, bare (to a space) or quoted, into out (n bytes;
 * NULL skips it). Returns where the value ends. */
static const char *
take_value(const char *p, char *out, size_t n)
{
	size_t o = 0;
	int quoted = *p == '"';

	for (p += quoted; *p != '\0'; p++) {
		if (quoted && p[0] == '\\' && (p[1] == '"' || p[1] == '\\'))
			p++;
		else if (quoted ? *p == '"' : *p == ' ') {
			p += quoted;
			break;
		}
		if (out != NULL && o + 1 < n)
			out[o++] = field_byte((unsigned char)*p);
	}
	if (out != NULL && n > 0)
		out[o] = '\0';
	return p;
}

/* The index of the key at p (klen bytes) in log_keys, or -1. */
static int
key_index(const char *p, size_t klen)
{
	int i;

	for (i = 0; i < JOURNAL_NKEYS; i++)
		if (strlen(log_keys[i]) == klen &&
		    memcmp(p, log_keys[i], klen) == 0)
			return i;
	return -1;
}

void
journal_fields(const char *msg, struct journal_rec *rec)
{
	const char *p = msg;
	unsigned seen = 0;
	size_t klen;
	int i;

	memset(rec, 0, sizeof(*rec));
	klen = strcspn(p, " ");
	take_value(p, rec->event, klen + 1 < sizeof(rec->event) ?
	    klen + 1 : sizeof(rec->event));
	for (p += klen; *p == ' '; ) {
		p++;
		klen = strcspn(p, " =");
		if (p[klen] != '=') {
			p += klen;
			continue;
		}
		i = key_index(p, klen);
		p = take_value(p + klen + 1, i >= 0 && !(seen & (1u << i)) ?
		    rec->value[i] : NULL, JOURNAL_VMAX);
		if (i >= 0)
			seen |= 1u << i;
		p += strcspn(p, " ");
	}
}

#ifdef HAVE_SYSTEMD
/* Adds "NAME=value" in buf (n bytes) to iov at *k, if value is not "". */
static void
add_field(struct iovec *iov, int *k, char *buf, size_t n, const char *name,
    const char *value)
{
	int len;

	if (value[0] == '\0')
		return;
	len = snprintf(buf, n, "%s=%s", name, value);
	if (len < 0)
		return;
	iov[*k].iov_base = buf;
	iov[*k].iov_len = (size_t)len < n ? (size_t)len : n - 1;
	(*k)++;
}

int
journal_send(const char *ident, int priority, const char *msg)
{
	static const char *const names[JOURNAL_NKEYS] = {
		"JOB_ID", "ATTEMPT", "OUTCOME", "HTTP_STATUS", "REQUEST_ID"
	};
	struct journal_rec rec;
	struct iovec iov[4 + JOURNAL_NKEYS];
	char m[JOURNAL_MSGMAX], num[12], pr[24], id[64], ev[96];
	char f[JOURNAL_NKEYS][JOURNAL_VMAX + 16];
	int i, k = 0;

	/* with no socket file libsystemd reports success and drops the
	 * record: then the line goes to stderr (journald gone or never run) */
	if (access(JOURNAL_SOCKET, F_OK) == -1)
		return -1;
	journal_fields(msg, &rec);
	/* MESSAGE may hold any byte: sd_journal_sendv sends a value with a
	 * newline length-prefixed, so no byte of it can start a field */
	add_field(iov, &k, m, sizeof(m), "MESSAGE", msg);
	snprintf(num, sizeof(num), "%d", priority);
	add_field(iov, &k, pr, sizeof(pr), "PRIORITY", num);
	add_field(iov, &k, id, sizeof(id), "SYSLOG_IDENTIFIER", ident);
	add_field(iov, &k, ev, sizeof(ev), "IMGEDIT_EVENT", rec.event);
	for (i = 0; i < JOURNAL_NKEYS; i++)
		add_field(iov, &k, f[i], sizeof(f[i]), names[i], rec.value[i]);
	return sd_journal_sendv(iov, k) < 0 ? -1 : 0;
}
#else
int
journal_send(const char *ident, int priority, const char *msg)
{
	(void)ident;
	(void)priority;
	(void)msg;
	return -1;
}
#endif
