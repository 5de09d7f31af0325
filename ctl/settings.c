/* settings.c: base-url, default-model, prices and time-zone from imgeditd's
 * settings file, read the way imgeditd reads them, for submit and status. */
#include "settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "ctl.h"
#include "period.h"

int
ctl_settings_is_openai(const char *url)
{
	static const char host[] = "https://api.openai.com";
	size_t n = sizeof(host) - 1;

	return url != NULL && strncasecmp(url, host, n) == 0 &&
	    (url[n] == '\0' || url[n] == '/');
}

int
ctl_settings_load(struct ctl_settings *s, char *err, size_t errlen)
{
	const char *path = getenv("IMGEDIT_CONFIG"), *env;
	const char *skip[2] = { NULL, NULL };
	struct config cfg;
	int rc = -1;

	memset(s, 0, sizeof(*s));
	config_defaults(&cfg);
	if (path == NULL || *path == '\0')
		path = CONFIG_DEFAULT_PATH;
	if ((env = getenv("OPENAI_BASE_URL")) != NULL && *env != '\0')
		skip[0] = "base-url";
	if (config_load(&cfg, path, 1, skip, err, errlen) == -1 ||
	    (skip[0] != NULL && config_set(&cfg, "base-url", env, err,
	    errlen) == -1))
		goto done;
	s->base_url = strdup(cfg.base_url != NULL ? cfg.base_url :
	    config_default_text("base-url"));
	s->default_model = strdup(cfg.default_model != NULL ?
	    cfg.default_model : CONFIG_DEFAULT_MODEL);
	if (s->base_url == NULL || s->default_model == NULL ||
	    prices_copy(&s->prices, &cfg.prices) == -1)
		goto done;
	if (cfg.time_zone != NULL &&
	    (s->time_zone = strdup(cfg.time_zone)) == NULL)
		goto done;
	s->budgets = cfg.budgets;
	s->openai = ctl_settings_is_openai(s->base_url);
	rc = 0;
done:
	config_free(&cfg);
	return rc;
}

void
ctl_settings_zone(char *zone, size_t n)
{
	struct ctl_settings s;
	char err[512];
	const char *tz = NULL;

	if (ctl_settings_load(&s, err, sizeof(err)) == -1)
		ctl_err("%s (counting spending in UTC)", err);
	else
		tz = s.time_zone;
	if (period_set_zone(tz) == -1) {
		ctl_err("time-zone '%s' is not known (counting spending in "
		    "UTC)", tz);
		tz = NULL;
		period_set_zone(NULL);
	}
	snprintf(zone, n, "%s", tz != NULL && *tz != '\0' ? tz : "UTC");
	ctl_settings_free(&s);
}

void
ctl_settings_free(struct ctl_settings *s)
{
	free(s->base_url);
	free(s->default_model);
	free(s->time_zone);
	s->base_url = s->default_model = s->time_zone = NULL;
	prices_free(&s->prices);
}
