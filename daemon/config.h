/* config.h: imgeditd's settings: defaults, the key = value config file and
 * the command-line flags, which share one table of names. No I/O but reading. */
#ifndef IMGEDIT_CONFIG_H
#define IMGEDIT_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "prices.h"

#ifdef IMGEDIT_CONFIG_PATH
#define CONFIG_DEFAULT_PATH IMGEDIT_CONFIG_PATH
#else
#define CONFIG_DEFAULT_PATH "/etc/imgedit/imgeditd.conf"
#endif

struct config {
	char *db;
	char *base_url;
	char *api_key_file;
	char *organization, *project;
	int concurrency;
	double rpm, ipm;           /* 0 = no limit */
	int64_t retry_base_ms, retry_max_ms, retry_after_max_ms;
	int64_t probe_min_ms, probe_max_ms;
	int64_t connect_timeout_ms, stall_timeout_ms, total_timeout_ms;
	int64_t db_connect_timeout_ms; /* PostgreSQL connection attempts */
	int64_t lease_ms, grace_ms, poll_ms, heartbeat_ms;
	int64_t max_event_bytes;
	int64_t memory_max;        /* image bytes waiting to be stored */
	int log_level;             /* enum log_level */
	char *metrics_listen;      /* "HOST:PORT" of /metrics, NULL = off */
	char *metrics_allow_host;  /* its Host names, comma-separated, or NULL */
	char *download_proxy;      /* url results through this proxy, or NULL */
	char *default_model;       /* imgeditctl submit's, NULL = the built-in */
	char *time_zone;           /* budgets' and spending's days, NULL = UTC */
	struct price_table prices; /* `price` lines over the built-in table */
};

/* The model imgeditctl submit writes into a job given none, unless the
 * settings say default-model: a current one (models.c). */
#define CONFIG_DEFAULT_MODEL "gpt-image-2.6-flare"

/* One setting as the flag and the file spell it. */
struct config_key {
	const char *name;          /* "concurrency" = --concurrency = file key */
	const char *arg;           /* argument name for --help, e.g. "N" */
	const char *help;
};

/* The table of settings, NULL-terminated. */
extern const struct config_key config_keys[];

/* Fills cfg with the defaults. */
void config_defaults(struct config *cfg);
/* Releases the strings cfg owns. */
void config_free(struct config *cfg);

/* Sets key to value. Returns 0, or -1 with "key: reason" in err. */
int config_set(struct config *cfg, const char *key, const char *value,
    char *err, size_t errlen);

/* The value of key in cfg as text into buf (durations in ms). Returns 1
 * when SIGHUP applies the setting, 0 when it needs a restart, -1 for an
 * unknown key. */
int config_value(const struct config *cfg, const char *key, char *buf,
    size_t n);

/* The default of key as text, for --help (static storage). */
const char *config_default_text(const char *key);

/* Reads a config file of "key = value" lines (# comments, blank lines).
 * Keys named in skip (flags given on the command line, which win) are
 * ignored. A missing file is fine when missing_ok. Returns 0, or -1 with
 * "path:line: reason" in err. */
int config_load(struct config *cfg, const char *path, int missing_ok,
    const char *const *skip, char *err, size_t errlen);

#endif
