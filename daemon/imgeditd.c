/* imgeditd.c: the daemon's main: settings, the API key, the database, the
 * event loop, signals, heartbeat and systemd notification. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "config.h"
#include "listenaddr.h"
#include "backend.h"
#include "dispatch.h"
#include "journal.h"
#include "log.h"
#include "metrics.h"
#include "models.h"
#include "period.h"
#include "storeq.h"
#include "util.h"

#define MAX_FLAGS 64
#define API_KEY_MAX 4096

/* The settings as given: flags (which win) and the config file's path. */
struct settings {
	const char *config_path;
	int config_explicit;
	const char *flag_key[MAX_FLAGS];
	const char *flag_value[MAX_FLAGS];
	int nflags;
};

/* The top-level daemon context, passed down explicitly. */
struct daemon {
	struct settings set;
	struct config cfg;
	char *api_key;
	char daemon_id[128];
	char host[HOST_NAME_MAX + 1];
	struct storeq *q;           /* the database, opened through its backend */
	struct event_base *base;
	struct dispatcher *disp;
	struct event *sigterm_ev, *sigint_ev, *sighup_ev, *beat_ev, *dog_ev;
	int beat_pending;           /* a heartbeat is in the store queue */
	int beat_failing;           /* the last one could not be written */
	int stop_signals;
	int journal;                /* stderr is the journal's stream */
	struct metrics metrics;     /* counted by the dispatcher, always */
	struct metrics_server *msrv; /* --metrics-listen, or NULL */
	int counts_pending;         /* a job count is in the store queue */
};

_Static_assert(METRICS_STATES <= SQ_STATES_MAX, "SQ_COUNTS holds the states");

static void
usage(FILE *f)
{
	const struct config_key *k;
	const char *def;
	char left[64];

	fprintf(f, "usage: imgeditd [--config FILE] [--db PATH] [OPTION]...\n"
	    "Runs the image edit jobs queued in an imgedit database.\n\n");
	fprintf(f, "  %-28s %s\n", "--config FILE",
	    "settings file (default " CONFIG_DEFAULT_PATH ", if present)");
	for (k = config_keys; k->name != NULL; k++) {
		snprintf(left, sizeof(left), "--%s %s", k->name, k->arg);
		def = config_default_text(k->name);
		fprintf(f, "  %-28s %s%s%s%s\n", left, k->help,
		    def ? " [" : "", def ? def : "", def ? "]" : "");
	}
	fprintf(f, "  %-28s %s\n  %-28s %s\n", "-h, --help", "this help",
	    "-V, --version", "print the version");
	fprintf(f, "\nDurations: 90 (seconds), 1500ms, 30s, 10m, 2h. Flags "
	    "override the environment,\nwhich overrides the settings file. "
	    "SIGHUP rereads the file; SIGTERM stops.\n");
}

/* Collects the command line into set. Returns 0, 1 to exit 0 (help,
 * version), or -1 on a usage error. */
static int
parse_args(int argc, char **argv, struct settings *set)
{
	struct option opts[MAX_FLAGS];
	const struct config_key *k;
	int n = 0, c, idx;

	for (k = config_keys; k->name != NULL && n < MAX_FLAGS - 4; k++)
		opts[n++] = (struct option){ k->name, required_argument, NULL, 0 };
	opts[n++] = (struct option){ "config", required_argument, NULL, 'c' };
	opts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	opts[n++] = (struct option){ "version", no_argument, NULL, 'V' };
	opts[n] = (struct option){ NULL, 0, NULL, 0 };
	set->config_path = CONFIG_DEFAULT_PATH;
	while ((c = getopt_long(argc, argv, "c:hV", opts, &idx)) != -1) {
		switch (c) {
		case 0:
			if (set->nflags == MAX_FLAGS)
				return -1;
			set->flag_key[set->nflags] = opts[idx].name;
			set->flag_value[set->nflags++] = optarg;
			break;
		case 'c':
			set->config_path = optarg;
			set->config_explicit = 1;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 'V':
			printf("imgeditd %s\n", IMGEDIT_VERSION);
			return 1;
		default:
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "imgeditd: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

/* Settings from the environment, as key/value pairs. */
static const struct { const char *env, *key; } env_keys[] = {
	{ "IMGEDIT_DB", "db" },
	{ "OPENAI_BASE_URL", "base-url" },
	{ "OPENAI_ORG_ID", "organization" },
	{ "OPENAI_PROJECT_ID", "project" },
};
#define NENV (sizeof(env_keys) / sizeof(env_keys[0]))

/* Builds cfg from defaults, the file, the environment and the flags.
 * Returns 0 or -1 with the reason in err. */
static int
build_config(const struct settings *set, struct config *cfg, char *err,
    size_t errlen)
{
	const char *skip[MAX_FLAGS + NENV + 1];
	const char *v;
	size_t i, n = 0;

	config_defaults(cfg);
	if (config_set(cfg, "base-url", "https://api.openai.com/v1", err,
	    errlen) == -1)
		return -1;
	for (i = 0; i < (size_t)set->nflags; i++)
		skip[n++] = set->flag_key[i];
	for (i = 0; i < NENV; i++)
		if ((v = getenv(env_keys[i].env)) != NULL && *v != '\0')
			skip[n++] = env_keys[i].key;
	skip[n] = NULL;
	if (config_load(cfg, set->config_path, !set->config_explicit, skip, err,
	    errlen) == -1)
		return -1;
	for (i = 0; i < NENV; i++)
		if ((v = getenv(env_keys[i].env)) != NULL && *v != '\0' &&
		    config_set(cfg, env_keys[i].key, v, err, errlen) == -1)
			return -1;
	for (i = 0; i < (size_t)set->nflags; i++)
		if (config_set(cfg, set->flag_key[i], set->flag_value[i], err,
		    errlen) == -1)
			return -1;
	if (cfg->db == NULL) {
		snprintf(err, errlen, "no database: give --db PATH or set IMGEDIT_DB");
		return -1;
	}
	return 0;
}

/* Reads the key from path; trailing whitespace dropped. Caller frees. */
static char *
key_from_file(const char *path, char *err, size_t errlen)
{
	unsigned char *data = NULL;
	size_t len = 0;

	if (read_file(path, API_KEY_MAX, &data, &len) == -1) {
		snprintf(err, errlen, "cannot read the API key file %s: %s", path,
		    errno == EFBIG ? "larger than 4 KiB" : strerror(errno));
		return NULL;
	}
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r' ||
	    data[len - 1] == ' ' || data[len - 1] == '\t'))
		len--;
	data[len] = '\0';
	if (len == 0 || memchr(data, '\n', len) != NULL) {
		snprintf(err, errlen, "the API key file %s must hold one line", path);
		free(data);
		return NULL;
	}
	return (char *)data;
}

/* Takes the key out of the environment: a copy is returned (caller
 * frees), the bytes in the environment block are overwritten, so that
 * /proc/PID/environ no longer shows them, and the variable is removed. */
static char *
key_from_env(void)
{
	char *env = getenv("OPENAI_API_KEY"), *key;

	if (env == NULL || *env == '\0')
		return NULL;
	key = strdup(env);
	explicit_bzero(env, strlen(env));
	unsetenv("OPENAI_API_KEY");
	return key;
}

/* The key: --api-key-file, else the systemd credential, else the
 * environment (taken once at start: on SIGHUP, keep is the key in use,
 * kept when the environment was its source). Returns it (caller frees) or
 * NULL with a reason. */
static char *
load_api_key(const struct config *cfg, const char *keep, char *err,
    size_t errlen)
{
	const char *dir;
	char path[PATH_MAX], *key;

	if (cfg->api_key_file != NULL)
		return key_from_file(cfg->api_key_file, err, errlen);
	if ((dir = getenv("CREDENTIALS_DIRECTORY")) != NULL) {
		snprintf(path, sizeof(path), "%s/openai-api-key", dir);
		if (access(path, F_OK) == 0)
			return key_from_file(path, err, errlen);
	}
	if (keep != NULL)
		return strdup(keep);
	if ((key = key_from_env()) != NULL)
		return key;
	snprintf(err, errlen, "no API key: looked in --api-key-file (not "
	    "given), $CREDENTIALS_DIRECTORY/openai-api-key (%s; under systemd "
	    "put the key in /etc/credstore/openai-api-key, mode 0600) and "
	    "OPENAI_API_KEY (not set)", dir != NULL ? "no such file" :
	    "CREDENTIALS_DIRECTORY not set");
	return NULL;
}

/* Descriptors: a transfer may hold two (happy eyeballs), and the daemon
 * keeps some for itself (the database, its -wal and -shm, the loop). */
#define FDS_PER_TRANSFER 2
#define FDS_RESERVED 64

/* Raises the soft descriptor limit to what --concurrency needs, up to the
 * hard limit; past that, lowers the concurrency to what fits, and says so
 * (out of descriptors, every transfer would fail as a connection error). */
static void
fit_fd_limit(struct config *cfg)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)cfg->concurrency * FDS_PER_TRANSFER + FDS_RESERVED;
	long fit;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= need)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur >= need)
		return;
	fit = ((long)rl.rlim_cur - FDS_RESERVED) / FDS_PER_TRANSFER;
	fit = fit < 1 ? 1 : fit;
	log_warn("fd_limit nofile=%lu need=%lu concurrency=%d lowered_to=%ld "
	    "note=\"raise LimitNOFILE= in the unit, or ulimit -n\"",
	    (unsigned long)rl.rlim_cur, (unsigned long)need, cfg->concurrency,
	    fit);
	cfg->concurrency = (int)fit;
}

/* default-model is imgeditctl's, but this daemon is where an operator
 * looks: a shut-down one is said at start and on reload. */
static void
warn_shut_down_default(const struct config *cfg)
{
	const struct model_family *f;
	char today[16];

	if (cfg->default_model == NULL)
		return;
	utc_day(today, sizeof(today));
	f = models_find(cfg->default_model);
	if (models_is_shut_down(f, today))
		log_warn("default_model_shut_down model=%s shutdown=%s "
		    "replacement=%s note=\"imgeditctl submit refuses it with "
		    "OpenAI's base-url\"", LOG_Q(cfg->default_model),
		    LOG_Q(f->shutdown), LOG_Q(f->replacement));
}

/* The key goes in every request's Authorization header: over http:// to a
 * host other than this one, in the clear. Said once at start. */
static void
warn_plain_http(const char *base_url)
{
	static const char *const local[] = { "localhost", "127.", "[::1]" };
	const char *host;
	size_t i;

	if (strncmp(base_url, "http://", 7) != 0)
		return;
	host = base_url + 7;
	for (i = 0; i < sizeof(local) / sizeof(local[0]); i++)
		if (strncmp(host, local[i], strlen(local[i])) == 0 &&
		    (local[i][strlen(local[i]) - 1] == '.' ||
		    strchr(":/", host[strlen(local[i])]) != NULL))
			return;
	log_warn("insecure_base_url base_url=%s note=\"plain http to another "
	    "host: the API key crosses the network unencrypted\"",
	    LOG_Q(base_url));
}

static void
notify(const char *msg)
{
#ifdef HAVE_SYSTEMD
	sd_notify(0, msg);
#else
	(void)msg;
#endif
}

static void
status_line(struct daemon *dm, const struct dispatch_stats *s, char *buf,
    size_t n)
{
	int len;

	len = snprintf(buf, n, "%s: %d/%d running, %lld succeeded, %lld failed, "
	    "%lld requeued, %lld images stored", s->stopping ? "stopping" :
	    s->pause_reason[0] ? "paused" : "running", s->running,
	    dm->cfg.concurrency, (long long)s->succeeded, (long long)s->failed,
	    (long long)s->requeued, (long long)s->images);
	if (s->pending_bytes > 0 && len > 0 && (size_t)len < n)
		snprintf(buf + len, n - (size_t)len, ", %.1f MB waiting to be "
		    "stored", (double)s->pending_bytes / 1e6);
}

static void
heartbeat_done(void *arg, struct sq_req *req)
{
	struct daemon *dm = arg;

	dm->beat_pending = 0;
	/* said once per spell: a full disk fails one every interval */
	if (req->rc < 0 && req->err != DBE_LOCK && !dm->beat_failing)
		log_warn("store_error op=heartbeat class=%s error=%s",
		    db_err_name(req->err), LOG_Q(sq_req_error(req)));
	else if (req->rc >= 0 && dm->beat_failing)
		log_info("heartbeat_resumed");
	dm->beat_failing = req->rc < 0 && req->err != DBE_LOCK;
	sq_req_free(req);
}

static void
counts_done(void *arg, struct sq_req *req)
{
	struct daemon *dm = arg;

	dm->counts_pending = 0;
	if (req->rc == STORE_OK) {
		memcpy(dm->metrics.jobs, req->u.counts.counts,
		    sizeof(dm->metrics.jobs));
		dm->metrics.jobs_known = 1;
	}
	sq_req_free(req);
}

/* The jobs by state for /metrics, read through the store queue (one at a
 * time: a lock may hold the queue up), so that a scrape never waits. */
static void
refresh_job_counts(struct daemon *dm)
{
	struct sq_req *req;

	if (dm->msrv == NULL || dm->counts_pending ||
	    (req = sq_req_new(SQ_COUNTS, counts_done, dm)) == NULL)
		return;
	req->u.counts.states = metrics_job_states;
	req->u.counts.nstates = METRICS_STATES;
	dm->counts_pending = 1;
	storeq_submit(dm->q, req);
}

/* Before a scrape: the gauges, from the dispatcher and the store queue. */
static void
sample_metrics(void *arg, struct metrics *m)
{
	struct daemon *dm = arg;
	struct dispatch_stats s;
	struct storeq_health h;

	dispatch_get_stats(dm->disp, &s);
	storeq_health(dm->q, &h);
	m->in_flight = s.running;
	m->pending_bytes = (int64_t)s.pending_bytes;
	m->held_bytes = (int64_t)s.held_bytes;
	m->store_queue = h.queued;
	m->db_lock_waits = h.lock_waits;
	m->db_lock_wait_ms = h.lock_wait_ms;
	m->paused = s.pause_reason[0] != '\0';
	strlcpy_safe(m->pause_reason, s.pause_reason, sizeof(m->pause_reason));
}

/* The status, to systemd at once and to the daemons row through the store
 * queue (which a lock may hold up: systemd still hears of it); the job
 * counts for /metrics on the same beat. */
static void
on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *dm = arg;
	struct dispatch_stats s;
	struct sq_req *req;
	char status[256], msg[600];

	(void)fd;
	(void)what;
	dispatch_get_stats(dm->disp, &s);
	status_line(dm, &s, status, sizeof(status));
	snprintf(msg, sizeof(msg), "STATUS=%s%s%s", status,
	    s.db_trouble[0] || s.pause_reason[0] ? "; " : "",
	    s.db_trouble[0] ? s.db_trouble : s.pause_reason);
	notify(msg);
	refresh_job_counts(dm);
	if (dm->beat_pending ||
	    (req = sq_req_new(SQ_HEARTBEAT, heartbeat_done, dm)) == NULL)
		return;
	strlcpy_safe(req->u.beat.status, status, sizeof(req->u.beat.status));
	strlcpy_safe(req->u.beat.pause_reason, s.pause_reason,
	    sizeof(req->u.beat.pause_reason));
	dm->beat_pending = 1;
	storeq_submit(dm->q, req);
}

static void
on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	notify("WATCHDOG=1");
}

static void
on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *dm = arg;

	(void)what;
	if (dm->stop_signals++ == 0) {
		log_info("signal name=%s action=stop grace_ms=%lld",
		    sig == SIGTERM ? "TERM" : "INT", (long long)dm->cfg.grace_ms);
		notify("STOPPING=1");
		dispatch_stop(dm->disp, dm->cfg.grace_ms);
	} else if (dm->stop_signals == 2) {
		log_info("signal name=%s action=abort", sig == SIGTERM ? "TERM" :
		    "INT");
		dispatch_stop(dm->disp, 0);
	} else {
		/* the ends of the attempts are not stored (the database may be
		 * locked for good): the jobs go back to the queue when their
		 * leases run out, as after a crash; nothing committed is lost */
		log_warn("signal name=%s action=exit stored=no note=\"jobs "
		    "still held return to the queue when their leases expire\"",
		    sig == SIGTERM ? "TERM" : "INT");
		_exit(1);
	}
}

/* SIGHUP: rereads the key (a fixed key is picked up without a restart). */
static void
reload_api_key(struct daemon *dm, const struct config *fresh)
{
	char err[512], *key;

	if ((key = load_api_key(fresh, dm->api_key, err, sizeof(err))) == NULL) {
		log_err("reload_failed error=%s", LOG_Q(err));
		return;
	}
	dispatch_set_api_key(dm->disp, key);
	explicit_bzero(dm->api_key, strlen(dm->api_key));
	free(dm->api_key);
	dm->api_key = key;
}

/* The dispatcher's settings from cfg (whose strings it keeps using). */
static void
dispatch_config_from(struct daemon *dm, const struct config *cfg,
    struct dispatch_config *dc)
{
	memset(dc, 0, sizeof(*dc));
	dc->daemon_id = dm->daemon_id;
	dc->concurrency = cfg->concurrency;
	dc->rpm = cfg->rpm;
	dc->ipm = cfg->ipm;
	dc->retry.base_ms = cfg->retry_base_ms;
	dc->retry.cap_ms = cfg->retry_max_ms;
	dc->retry.retry_after_cap_ms = cfg->retry_after_max_ms;
	dc->probe_min_ms = cfg->probe_min_ms;
	dc->probe_max_ms = cfg->probe_max_ms;
	dc->lease_ms = cfg->lease_ms;
	dc->poll_ms = cfg->poll_ms;
	dc->up.base_url = cfg->base_url;
	dc->up.api_key = dm->api_key;
	dc->up.organization = cfg->organization;
	dc->up.project = cfg->project;
	dc->up.download_proxy = cfg->download_proxy;
	dc->up.connect_timeout_ms = (long)cfg->connect_timeout_ms;
	dc->up.stall_timeout_s = (long)((cfg->stall_timeout_ms + 999) / 1000);
	dc->up.total_timeout_ms = (long)cfg->total_timeout_ms;
	dc->up.max_event_bytes = (size_t)cfg->max_event_bytes;
	dc->memory_max = (size_t)cfg->memory_max;
	dc->metrics = &dm->metrics;
	dc->prices = cfg->prices;
	/* dm->cfg's: on SIGHUP fresh takes its place before the next claim */
	dc->budgets = &dm->cfg.budgets;
}

/* Says, for each setting that changed, whether it is applied now or
 * waits for a restart. */
static void
log_changes(const struct config *old, const struct config *fresh)
{
	const struct config_key *k;
	char a[512], b[512];
	int reloads;

	for (k = config_keys; k->name != NULL; k++) {
		if ((reloads = config_value(old, k->name, a, sizeof(a))) == -1 ||
		    config_value(fresh, k->name, b, sizeof(b)) == -1 ||
		    strcmp(a, b) == 0)
			continue;
		log_info("setting key=%s old=%s new=%s action=%s", k->name,
		    LOG_Q(a), LOG_Q(b), reloads ? "applied" : "needs_restart");
	}
}

/* SIGHUP: rereads the settings; what can change at run time changes, the
 * rest is said to need a restart and keeps its old value. */
static void
on_sighup(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *dm = arg;
	struct dispatch_config dc;
	struct config fresh;
	char err[512];

	(void)sig;
	(void)what;
	notify("RELOADING=1");
	if (build_config(&dm->set, &fresh, err, sizeof(err)) == -1) {
		log_err("reload_failed error=%s", LOG_Q(err));
		config_free(&fresh);
		notify("READY=1");
		return;
	}
	fit_fd_limit(&fresh);
	log_changes(&dm->cfg, &fresh);
	/* what needs a restart keeps its value, and fresh takes cfg's place */
	free(fresh.db);
	fresh.db = dm->cfg.db;
	dm->cfg.db = NULL;
	fresh.lease_ms = dm->cfg.lease_ms;
	fresh.poll_ms = dm->cfg.poll_ms;
	fresh.heartbeat_ms = dm->cfg.heartbeat_ms;
	free(fresh.metrics_listen);
	fresh.metrics_listen = dm->cfg.metrics_listen;
	dm->cfg.metrics_listen = NULL;
	log_init("imgeditd", (enum log_level)fresh.log_level, dm->journal);
	reload_api_key(dm, &fresh);
	period_set_zone(fresh.time_zone);
	dispatch_config_from(dm, &fresh, &dc);
	dispatch_reload(dm->disp, &dc);
	config_free(&dm->cfg);
	dm->cfg = fresh;
	warn_plain_http(dm->cfg.base_url);
	warn_shut_down_default(&dm->cfg);
	log_info("reloaded concurrency=%d rpm=%g ipm=%g base_url=%s",
	    dm->cfg.concurrency, dm->cfg.rpm, dm->cfg.ipm,
	    LOG_Q(dm->cfg.base_url));
	notify("READY=1");
}

/* Names this daemon (its row in daemons). */
static void
name_daemon(struct daemon *dm)
{
	gethostname(dm->host, sizeof(dm->host) - 1);
	snprintf(dm->daemon_id, sizeof(dm->daemon_id), "%s:%d:%lld", dm->host,
	    (int)getpid(), (long long)now_ms());
}

/* Opens and migrates the database through its backend and writes this
 * daemon's row (SQLite now, PostgreSQL at the first heartbeat). */
static int
open_store(struct daemon *dm)
{
	struct storeq_params p = {
		.uri = dm->cfg.db,
		.daemon_id = dm->daemon_id,
		.host = dm->host,
		.pid = (int)getpid(),
		.faults = getenv("IMGEDIT_STORE_FAULTS"),
		.connect_timeout_ms = dm->cfg.db_connect_timeout_ms,
	};

	name_daemon(dm);
	dm->q = storeq_new(dm->base, backend_for(dm->cfg.db), &p);
	return dm->q != NULL ? 0 : -1;
}

static struct event *
timer_every(struct event_base *base, int64_t ms, event_callback_fn fn,
    void *arg)
{
	struct event *ev = event_new(base, -1, EV_PERSIST, fn, arg);
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	if (ev != NULL)
		event_add(ev, &tv);
	return ev;
}

/* --metrics-listen: the endpoint on the loop, bound before the database
 * is opened, so that an address in use stops the start before this daemon
 * has a row; said in the log with the port it got (0 picks a free one).
 * No scrape is answered before the loop runs. */
static int
start_metrics(struct daemon *dm)
{
	char err[300], host[64];
	int port;

	if (dm->cfg.metrics_listen == NULL)
		return 0;
	dm->msrv = metrics_server_new(dm->base, dm->cfg.metrics_listen,
	    &dm->metrics, sample_metrics, dm, err, sizeof(err));
	if (dm->msrv == NULL || metrics_server_allow_hosts(dm->msrv,
	    dm->cfg.metrics_allow_host) == -1) {
		log_err("metrics_listen_failed listen=%s error=%s",
		    LOG_Q(dm->cfg.metrics_listen), LOG_Q(dm->msrv == NULL ? err :
		    "out of memory"));
		return -1;
	}
	log_info("metrics_listen address=%s path=/metrics",
	    metrics_server_address(dm->msrv));
	if (listen_addr_parse(dm->cfg.metrics_listen, host, sizeof(host),
	    &port, err, sizeof(err)) == 0 && !listen_addr_loopback(host))
		log_warn("metrics_listen_public address=%s note=\"not loopback: "
		    "whoever reaches it reads the counts and pause reasons\"",
		    metrics_server_address(dm->msrv));
	return 0;
}

static int
start_loop(struct daemon *dm)
{
	struct dispatch_config dc = { 0 };
	uint64_t dog_usec = 0;

	dispatch_config_from(dm, &dm->cfg, &dc);
	if ((dm->disp = dispatch_new(dm->base, dm->q, &dc)) == NULL)
		return -1;
	dm->sigterm_ev = evsignal_new(dm->base, SIGTERM, on_stop_signal, dm);
	dm->sigint_ev = evsignal_new(dm->base, SIGINT, on_stop_signal, dm);
	dm->sighup_ev = evsignal_new(dm->base, SIGHUP, on_sighup, dm);
	if (dm->sigterm_ev == NULL || dm->sigint_ev == NULL ||
	    dm->sighup_ev == NULL || event_add(dm->sigterm_ev, NULL) == -1 ||
	    event_add(dm->sigint_ev, NULL) == -1 ||
	    event_add(dm->sighup_ev, NULL) == -1)
		return -1;
	dm->beat_ev = timer_every(dm->base, dm->cfg.heartbeat_ms, on_heartbeat, dm);
#ifdef HAVE_SYSTEMD
	if (sd_watchdog_enabled(0, &dog_usec) > 0 && dog_usec > 0)
		dm->dog_ev = timer_every(dm->base, (int64_t)(dog_usec / 2000),
		    on_watchdog, dm);
#endif
	(void)dog_usec;
	if (dm->beat_ev == NULL || dispatch_start(dm->disp) == -1)
		return -1;
	return 0;
}

static void
daemon_free(struct daemon *dm)
{
	storeq_free(dm->q); /* the last completions reach the dispatcher */
	dm->q = NULL;
	dispatch_free(dm->disp);
	if (dm->sigterm_ev) event_free(dm->sigterm_ev);
	if (dm->sigint_ev) event_free(dm->sigint_ev);
	if (dm->sighup_ev) event_free(dm->sighup_ev);
	if (dm->beat_ev) event_free(dm->beat_ev);
	if (dm->dog_ev) event_free(dm->dog_ev);
	metrics_server_free(dm->msrv);
	if (dm->base) event_base_free(dm->base);
	if (dm->api_key) {
		explicit_bzero(dm->api_key, strlen(dm->api_key));
		free(dm->api_key);
	}
	config_free(&dm->cfg);
}

int
main(int argc, char **argv)
{
	struct daemon dm;
	struct dispatch_stats stats;
	char err[512];
	int rc;

	memset(&dm, 0, sizeof(dm));
	metrics_init(&dm.metrics);
	if ((rc = parse_args(argc, argv, &dm.set)) != 0)
		return rc == 1 ? 0 : 2;
	if (build_config(&dm.set, &dm.cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "imgeditd: %s\n", err);
		config_free(&dm.cfg);
		return 2;
	}
	/* before the writer thread: only this thread reads local time */
	period_set_zone(dm.cfg.time_zone);
	dm.journal = journal_stream_is(getenv("JOURNAL_STREAM"), STDERR_FILENO);
	log_init("imgeditd", (enum log_level)dm.cfg.log_level, dm.journal);
	/* no core dump, no ptrace by others: the key is in this memory */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if ((dm.api_key = load_api_key(&dm.cfg, NULL, err, sizeof(err))) == NULL) {
		log_err("config_error error=%s", LOG_Q(err));
		config_free(&dm.cfg);
		return 2;
	}
	fit_fd_limit(&dm.cfg);
	signal(SIGPIPE, SIG_IGN);
	srandom((unsigned)getpid() ^ (unsigned)now_ms());
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = 1;
	if ((dm.base = event_base_new()) == NULL || start_metrics(&dm) == -1 ||
	    open_store(&dm) == -1 || start_loop(&dm) == -1)
		goto out;
	warn_plain_http(dm.cfg.base_url);
	warn_shut_down_default(&dm.cfg);
	log_info("started id=%s db=%s base_url=%s concurrency=%d version=%s",
	    LOG_Q(dm.daemon_id), LOG_Q(storeq_db_name(dm.q)),
	    LOG_Q(dm.cfg.base_url),
	    dm.cfg.concurrency, IMGEDIT_VERSION);
	notify("READY=1");
	on_heartbeat(-1, 0, &dm);
	if (event_base_dispatch(dm.base) == -1)
		goto out;
	dispatch_get_stats(dm.disp, &stats);
	storeq_free(dm.q); /* every end of attempt stored; the daemons row
	                    * marked stopped */
	dm.q = NULL;
	log_info("stopped id=%s images=%llu held_peak_mb=%.1f", dm.daemon_id,
	    (unsigned long long)stats.images, (double)stats.held_peak / 1e6);
	rc = 0;
out:
	daemon_free(&dm);
	curl_global_cleanup();
	return rc;
}
