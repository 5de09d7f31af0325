/* jobstate.c: the job state names, the next-state table of an attempt's
 * end, and which states the operator's actions may leave. */
#include <string.h>

#include "jobstate.h"

static const char *const state_names[JOB_STATE_COUNT] = {
	"queued", "running", "retry_wait", "succeeded", "failed", "canceled",
};

/* next -> the job's state, whether the error is kept, whether the attempt
 * is taken back: one row per enum job_next. */
static const struct {
	enum job_state state;
	int keeps_error, uncounts;
} next_table[NEXT_COUNT] = {
	[NEXT_SUCCEEDED] = { JOB_SUCCEEDED, 0, 0 },
	[NEXT_FAILED] = { JOB_FAILED, 1, 0 },
	[NEXT_RETRY] = { JOB_RETRY_WAIT, 1, 0 },
	[NEXT_REQUEUE] = { JOB_QUEUED, 0, 1 },
};

/* Bit (1 << state) for each state an action may leave. */
#define B(s) (1u << (s))
static const struct {
	unsigned from;
	const char *sql;
} action_table[ACTION_COUNT] = {
	[ACTION_CANCEL] = { B(JOB_QUEUED) | B(JOB_RETRY_WAIT) | B(JOB_RUNNING),
	    "('queued','retry_wait','running')" },
	[ACTION_RETRY] = { B(JOB_FAILED) | B(JOB_CANCELED),
	    "('failed','canceled')" },
	[ACTION_RETRY_FORCE] = { B(JOB_FAILED) | B(JOB_CANCELED) |
	    B(JOB_SUCCEEDED), "('failed','canceled','succeeded')" },
};
#undef B

const char *
job_state_name(enum job_state s)
{
	return (unsigned)s < JOB_STATE_COUNT ? state_names[s] : NULL;
}

int
job_state_parse(const char *name, enum job_state *out)
{
	int i;

	if (name == NULL)
		return -1;
	for (i = 0; i < JOB_STATE_COUNT; i++)
		if (strcmp(name, state_names[i]) == 0) {
			*out = (enum job_state)i;
			return 0;
		}
	return -1;
}

int
job_state_terminal(enum job_state s)
{
	return s == JOB_SUCCEEDED || s == JOB_FAILED || s == JOB_CANCELED;
}

int
job_state_name_terminal(const char *name)
{
	enum job_state s;

	return job_state_parse(name, &s) == 0 && job_state_terminal(s);
}

enum job_state
job_next_state(enum job_next next)
{
	return (unsigned)next < NEXT_COUNT ? next_table[next].state :
	    JOB_FAILED;
}

int
job_next_keeps_error(enum job_next next)
{
	return (unsigned)next < NEXT_COUNT && next_table[next].keeps_error;
}

int
job_next_uncounts(enum job_next next)
{
	return (unsigned)next < NEXT_COUNT && next_table[next].uncounts;
}

int
job_action_allowed(enum job_action act, enum job_state s)
{
	return (unsigned)act < ACTION_COUNT && (unsigned)s < JOB_STATE_COUNT &&
	    (action_table[act].from & (1u << s)) != 0;
}

const char *
job_action_states_sql(enum job_action act)
{
	return (unsigned)act < ACTION_COUNT ? action_table[act].sql : "()";
}
