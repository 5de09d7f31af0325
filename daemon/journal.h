/* journal.h: structured records for systemd's journal: whether stderr is
 * the journal stream, and a log record's fields sent natively. */
#ifndef IMGEDIT_JOURNAL_H
#define IMGEDIT_JOURNAL_H

#include <stddef.h>

/* The log keys that become journal fields, in this order:
 * job JOB_ID, attempt ATTEMPT, outcome OUTCOME, http HTTP_STATUS,
 * request_id REQUEST_ID. */
#define JOURNAL_NKEYS 5
#define JOURNAL_VMAX 160

/* What journal_fields finds in one record; "" when absent. */
struct journal_rec {
	char event[64];
	char value[JOURNAL_NKEYS][JOURNAL_VMAX];
};

/* Parses JOURNAL_STREAM's "DEV:INODE" (two decimal numbers, nothing else).
 * Returns 0, or -1 for anything else (NULL included). */
int journal_stream_parse(const char *s, unsigned long long *dev,
    unsigned long long *ino);

/* 1 when s (JOURNAL_STREAM) names fd's device and inode, else 0. */
int journal_stream_is(const char *s, int fd);

/* Fills rec from msg, "event key=value key=\"quoted\" ...": the event and
 * the first value of each known key, unquoted (\" and \\ undone, other
 * escapes kept as written), cut to fit; control bytes become '?'. */
void journal_fields(const char *msg, struct journal_rec *rec);

/* Sends msg as one journal record (MESSAGE=msg, PRIORITY=priority,
 * SYSLOG_IDENTIFIER=ident, IMGEDIT_EVENT and the known fields). Returns 0,
 * or -1 when it could not (no journal socket, no libsystemd): then the caller
 * writes the line to stderr. Never pass the key or image bytes. */
int journal_send(const char *ident, int priority, const char *msg);

#endif
