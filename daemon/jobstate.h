/* jobstate.h: a job's states and the rules that move it, written once for
 * every backend and every caller: pure functions, no I/O (test_jobstate). */
#ifndef IMGEDIT_JOBSTATE_H
#define IMGEDIT_JOBSTATE_H

/* jobs.state; the order is the one every listing and count uses. */
enum job_state {
	JOB_QUEUED,
	JOB_RUNNING,
	JOB_RETRY_WAIT,
	JOB_SUCCEEDED,
	JOB_FAILED,
	JOB_CANCELED,
	JOB_STATE_COUNT
};

/* What an attempt's end does to its job (the daemon decides, the store
 * writes it). */
enum job_next {
	NEXT_SUCCEEDED,  /* job succeeded */
	NEXT_FAILED,     /* job failed: error_* copied to the job */
	NEXT_RETRY,      /* job waits in retry_wait until not_before */
	NEXT_REQUEUE,    /* job back to queued, this attempt not counted */
	NEXT_COUNT
};

/* Operator actions on a job's state (imgeditctl cancel / retry). */
enum job_action {
	ACTION_CANCEL,       /* queued, retry_wait, running -> canceled */
	ACTION_RETRY,        /* failed, canceled -> queued */
	ACTION_RETRY_FORCE,  /* failed, canceled, succeeded -> queued */
	ACTION_COUNT
};

/* The state's name as stored ("retry_wait"); NULL for a value out of
 * range. Static storage. */
const char *job_state_name(enum job_state s);

/* Parses a stored name. Returns 0 with *out, or -1 when name is NULL or not
 * one of the six. */
int job_state_parse(const char *name, enum job_state *out);

/* 1 for succeeded, failed, canceled; else 0. */
int job_state_terminal(enum job_state s);

/* 1 when name is a state and terminal; 0 otherwise (NULL included). */
int job_state_name_terminal(const char *name);

/* The state a job moves to when an attempt ends with next. */
enum job_state job_next_state(enum job_next next);

/* 1 when the end copies the attempt's error to the job (failed, retry). */
int job_next_keeps_error(enum job_next next);

/* 1 when the end takes the attempt back from jobs.attempts (requeue). */
int job_next_uncounts(enum job_next next);

/* 1 when act may take a job out of state s. */
int job_action_allowed(enum job_action act, enum job_state s);

/* The states act may take a job out of, as an SQL list for IN
 * ("('failed','canceled')"). Static storage. */
const char *job_action_states_sql(enum job_action act);

#endif
