/* log.c: the daemon's and ctl's log lines, one write per line to stderr,
 * or one structured record when stderr is the journal (journal.c). */
#include "log.h"
#include "journal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Set once before the event loop starts; read-only afterwards. */
static struct {
	const char *progname;
	enum log_level min;
	int journal;
} log_cfg = { "imgedit", LOG_LVL_INFO, 0 };

void
log_init(const char *progname, enum log_level min, int journal)
{
	log_cfg.progname = progname;
	log_cfg.min = min;
	log_cfg.journal = journal;
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };
	static const int prio[] = { 7, 6, 4, 3 };   /* syslog's */
	char line[2048];
	int n, m, pl, body;
	va_list ap;

	if (lvl < log_cfg.min)
		return;
	/* "<N>" then "prog: level " then the text; the <N> is written only
	 * to the journal's stream (it reads it as the priority) */
	pl = snprintf(line, sizeof(line), "<%d>", prio[lvl]);
	n = snprintf(line + pl, sizeof(line) - (size_t)pl, "%s: %s ",
	    log_cfg.progname, names[lvl]);
	if (n < 0 || (size_t)(pl + n) >= sizeof(line))
		return;
	n = body = pl + n;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n] = '\0';
	if (log_cfg.journal &&
	    journal_send(log_cfg.progname, prio[lvl], line + body) == 0)
		return;
	line[n++] = '\n';
	if (!log_cfg.journal)
		(void)!write(STDERR_FILENO, line + pl, (size_t)(n - pl));
	else
		(void)!write(STDERR_FILENO, line, (size_t)n);
}

char *
log_quote(const char *s, char *out, size_t n)
{
	size_t o = 0;

	if (n < 8) {
		if (n)
			out[0] = '\0';
		return out;
	}
	out[o++] = '"';
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		/* room for this byte's longest form (\xNN, 4) and then for
		 * the cut, the closing quote and the NUL (5) */
		if (o + 4 + 5 > n) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(out + o, n - o, "\\x%02x", c);
		} else
			out[o++] = (char)c;
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}
