/* progress.h: the progress bar of imgeditctl's long verbs (submit, copy):
 * one line on stderr, redrawn at most every 100 ms, on a terminal only. */
#ifndef IMGEDIT_PROGRESS_H
#define IMGEDIT_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

struct progress {
	int on;            /* stderr is a terminal and there is work to show */
	const char *what;  /* the label, e.g. "storing" (not copied) */
	size_t done, total;
	int64_t last;      /* mono ms of the last redraw */
};

/* Starts a bar of total steps labelled what (kept, not copied). */
void progress_start(struct progress *p, const char *what, size_t total);
/* n more steps done, under label what (NULL: keep the label); redraws if
 * due, and clears the line when done reaches total. */
void progress_add(struct progress *p, const char *what, size_t n);
/* One more step done. */
void progress_step(struct progress *p);
/* Clears a bar left unfinished (on an error, before the message). */
void progress_abort(struct progress *p);

#endif
