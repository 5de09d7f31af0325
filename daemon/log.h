/* log.h: one line per event on stderr, "prog: level event key=value ...",
 * or a journal record with fields. Never pass image bytes or the API key. */
#ifndef IMGEDIT_LOG_H
#define IMGEDIT_LOG_H

#include <stddef.h>

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERR };

/* Lines below min are dropped. journal: stderr is the journal's stream
 * (journal_stream_is): each event goes to the journal as a record with
 * fields (journal.h), or, if that fails, to stderr with a <N> priority
 * prefix. Called at start-up, and on SIGHUP for a new level. */
void log_init(const char *progname, enum log_level min, int journal);

/* fmt is printf-style; by convention "event key=value key=value". Values that
 * may contain spaces should go through log_quote. */
void log_msg(enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_err(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)

/* Quotes s for a key=value line into out (at most n bytes, truncated with
 * "..."): double quotes, escapes \ " and control bytes. Returns out. */
char *log_quote(const char *s, char *out, size_t n);

/* log_quote into a buffer that lives as long as the enclosing statement:
 * log_err("config_error error=%s", LOG_Q(err)). NULL quotes as "". */
#define LOG_QMAX 300
#define LOG_Q(s) log_quote((s), (char[LOG_QMAX]){ 0 }, LOG_QMAX)

#endif
