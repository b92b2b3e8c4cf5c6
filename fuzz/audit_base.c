/*
 * The audit log that fuzz_audit_files and the corpus generator both build:
 * five fixed events committed in three batches (heads of sizes 0, 2, 3 and
 * 5), signed with the corpus seed. Leaves depend only on the events, so the
 * leaves and heads files saved in the corpus by gen_corpus fit the log the
 * target builds at start-up (head timestamps differ, signatures still hold).
 */
#include "fuzz.h"
#include "audit_base.h"

static void append(veil_audit *log, int64_t t, const char *actor, const char *action, const char *detail)
{
	veil_audit_event ev = {.time = t,
	                       .actor = actor,
	                       .action = action,
	                       .resource = "patients@1",
	                       .outcome = "ok",
	                       .detail = detail};
	FUZZ_CHECK(veil_audit_append(log, &ev, NULL, NULL) == VEIL_OK, "cannot append to the base log");
}

veil_audit *fuzz_audit_base_log(const char *dir)
{
	veil_audit *log = NULL;
	FUZZ_CHECK(veil_audit_create(dir, fuzz_audit_seed, NULL) == VEIL_OK, "cannot create the base log");
	FUZZ_CHECK(veil_audit_open(dir, fuzz_audit_seed, &log, NULL) == VEIL_OK, "cannot open the base log");
	append(log, 1795355030, "alice", "data.upload", "{\"bytes\":2500}");
	append(log, 1795355031, "bob", "key.unwrap", NULL);
	FUZZ_CHECK(veil_audit_commit(log, NULL) == VEIL_OK, "cannot commit the base log");
	append(log, 1795355032, "carol", "access.check", "{\"why\":\"caf\\u00e9\",\"n\":[1,2]}");
	FUZZ_CHECK(veil_audit_commit(log, NULL) == VEIL_OK, "cannot commit the base log");
	append(log, 1795355033, "system", "key.rotate", NULL);
	append(log, 1795355034, "dave", "data.download", "{}");
	FUZZ_CHECK(veil_audit_commit(log, NULL) == VEIL_OK, "cannot commit the base log");
	return log;
}
