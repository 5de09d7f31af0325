/* settings.h: what imgeditctl takes from imgeditd's settings file besides
 * db =: where upstream is (base-url), the model a job gets by default and
 * the price lines. */
#ifndef IMGEDIT_CTL_SETTINGS_H
#define IMGEDIT_CTL_SETTINGS_H

#include <stddef.h>

#include "budget.h"
#include "prices.h"

struct ctl_settings {
	char	*base_url;	/* never NULL after a successful load */
	char	*default_model;	/* never NULL after a successful load */
	int	 openai;	/* base_url is OpenAI's own API */
	char	*time_zone;	/* the time-zone setting, NULL: UTC */
	struct price_table prices; /* the `price` lines (empty: built-in) */
	struct budget_set budgets; /* the budget-* lines (none: no budget) */
};

/* Reads $IMGEDIT_CONFIG (else the installed settings file; a missing one
 * is fine) as imgeditd does, $OPENAI_BASE_URL winning over its base-url.
 * Returns 0, or -1 with "path:line: reason" in err. Free with
 * ctl_settings_free even after a failure. */
int ctl_settings_load(struct ctl_settings *s, char *err, size_t errlen);
void ctl_settings_free(struct ctl_settings *s);

/* The settings' time-zone made the process's (period.h), for the days,
 * weeks and months spending is counted in, as imgeditd counts them; its
 * name into zone ("UTC" when none). A settings file that cannot be read
 * is said on stderr and UTC is used. */
void ctl_settings_zone(char *zone, size_t n);

/* Whether url (no trailing slash needed) is OpenAI's API itself. */
int ctl_settings_is_openai(const char *url);

#endif
