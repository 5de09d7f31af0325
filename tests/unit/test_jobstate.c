/* test_jobstate.c: the job state rules every backend uses: names, the
 * next-state table of an attempt's end, and which states cancel and retry
 * may leave, each row checked against the table in schema/README.md. */
#include "dberr.h"
#include "jobstate.h"
#include "testutil.h"

static void
check_names(void)
{
	static const char *const want[] = { "queued", "running", "retry_wait",
	    "succeeded", "failed", "canceled" };
	enum job_state s;
	int i;

	for (i = 0; i < JOB_STATE_COUNT; i++) {
		CHECK_STR(job_state_name((enum job_state)i), want[i]);
		CHECK_INT(job_state_parse(want[i], &s), 0);
		CHECK_INT(s, i);
	}
	CHECK(job_state_name(JOB_STATE_COUNT) == NULL);
	CHECK_INT(job_state_parse("Queued", &s), -1);
	CHECK_INT(job_state_parse("", &s), -1);
	CHECK_INT(job_state_parse(NULL, &s), -1);
	CHECK_INT(job_state_name_terminal("succeeded"), 1);
	CHECK_INT(job_state_name_terminal("failed"), 1);
	CHECK_INT(job_state_name_terminal("canceled"), 1);
	CHECK_INT(job_state_name_terminal("running"), 0);
	CHECK_INT(job_state_name_terminal("retry_wait"), 0);
	CHECK_INT(job_state_name_terminal("queued"), 0);
	CHECK_INT(job_state_name_terminal("nonsense"), 0);
	CHECK_INT(job_state_name_terminal(NULL), 0);
}

static void
check_next(void)
{
	static const struct {
		enum job_next next;
		enum job_state state;
		int keeps_error, uncounts;
	} rows[] = {
		{ NEXT_SUCCEEDED, JOB_SUCCEEDED, 0, 0 },
		{ NEXT_FAILED, JOB_FAILED, 1, 0 },
		{ NEXT_RETRY, JOB_RETRY_WAIT, 1, 0 },
		{ NEXT_REQUEUE, JOB_QUEUED, 0, 1 },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		CHECK_INT(job_next_state(rows[i].next), rows[i].state);
		CHECK_INT(job_next_keeps_error(rows[i].next), rows[i].keeps_error);
		CHECK_INT(job_next_uncounts(rows[i].next), rows[i].uncounts);
	}
	CHECK_INT(job_next_state(NEXT_COUNT), JOB_FAILED);
	CHECK_INT(job_next_uncounts(NEXT_COUNT), 0);
}

static void
check_actions(void)
{
	/* rows: action; columns: queued running retry_wait succeeded failed
	 * canceled */
	static const int allowed[ACTION_COUNT][JOB_STATE_COUNT] = {
		[ACTION_CANCEL] = { 1, 1, 1, 0, 0, 0 },
		[ACTION_RETRY] = { 0, 0, 0, 0, 1, 1 },
		[ACTION_RETRY_FORCE] = { 0, 0, 0, 1, 1, 1 },
	};
	int a, s;

	for (a = 0; a < ACTION_COUNT; a++)
		for (s = 0; s < JOB_STATE_COUNT; s++)
			CHECK_INT(job_action_allowed((enum job_action)a,
			    (enum job_state)s), allowed[a][s]);
	CHECK_INT(job_action_allowed(ACTION_COUNT, JOB_FAILED), 0);
	CHECK_INT(job_action_allowed(ACTION_RETRY, JOB_STATE_COUNT), 0);
	CHECK_STR(job_action_states_sql(ACTION_CANCEL),
	    "('queued','retry_wait','running')");
	CHECK_STR(job_action_states_sql(ACTION_RETRY), "('failed','canceled')");
	CHECK_STR(job_action_states_sql(ACTION_RETRY_FORCE),
	    "('failed','canceled','succeeded')");
}

static void
check_dberr(void)
{
	CHECK_STR(db_err_name(DBE_LOCK), "lock");
	CHECK_STR(db_err_name(DBE_LOST), "lost");
	CHECK_STR(db_err_name(DBE_COUNT), "other");
	CHECK_INT(db_err_transient(DBE_LOCK), 1);
	CHECK_INT(db_err_transient(DBE_FULL), 1);
	CHECK_INT(db_err_transient(DBE_IO), 1);
	CHECK_INT(db_err_transient(DBE_LOST), 1);
	CHECK_INT(db_err_transient(DBE_CONSTRAINT), 0);
	CHECK_INT(db_err_transient(DBE_OTHER), 0);
	CHECK_INT(db_err_transient(DBE_OK), 0);
}

int
main(void)
{
	check_names();
	check_next();
	check_actions();
	check_dberr();
	return tu_finish("test_jobstate");
}
