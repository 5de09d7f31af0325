/* progress.c: the progress bar (see progress.h): "imgeditctl: LABEL
 * [####    ] done/total" on stderr when it is a terminal. */
#include <stdio.h>
#include <unistd.h>

#include "progress.h"
#include "util.h"

void
progress_start(struct progress *p, const char *what, size_t total)
{
	p->on = total > 1 && isatty(STDERR_FILENO);
	p->what = what;
	p->done = 0;
	p->total = total;
	p->last = 0;
}

void
progress_add(struct progress *p, const char *what, size_t n)
{
	static const char bar[] = "##############################";
	int64_t now;
	int fill;

	p->done += n;
	if (what != NULL)
		p->what = what;
	if (!p->on || p->total == 0)
		return;
	if (p->done > p->total)
		p->done = p->total;
	now = mono_ms();
	if (p->done != p->total && now - p->last < 100)
		return;
	p->last = now;
	fill = (int)(30 * p->done / p->total);
	fprintf(stderr, "\rimgeditctl: %-8s [%.*s%*s] %zu/%zu", p->what, fill,
	    bar, 30 - fill, "", p->done, p->total);
	if (p->done == p->total)
		fputs("\r\033[K", stderr);
}

void
progress_step(struct progress *p)
{
	progress_add(p, NULL, 1);
}

void
progress_abort(struct progress *p)
{
	if (p->on && p->done != p->total)
		fputs("\r\033[K", stderr);
}
