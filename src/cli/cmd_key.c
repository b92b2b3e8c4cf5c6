/*
 * veil key create|list|rotate|retire|status: key encryption keys (KEKs).
 * Every change is audited; `status` compares each KEK's current version
 * with the rotation period in veil.yaml and exits 1 when one is overdue.
 */
#include "cmds.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Parses the options every key command shares plus --json/--rewrap/--version.
 * Returns -1 to continue, or an exit code. */
typedef struct key_args {
	bool json, rewrap;
	uint32_t version;
	const char *name, *compartment;
} key_args;

static int parse(cli_global *g, const cli_command *cmd, int argc, char **argv, bool want_name, key_args *a)
{
	static const struct option longopts[] = {
	        {"json", no_argument, NULL, 'j'},
	        {"rewrap", no_argument, NULL, 'r'},
	        {"version", required_argument, NULL, 'V'},
	        {"compartment", required_argument, NULL, 'C'},
	        CLI_COMMON_OPTS,
	        {NULL, 0, NULL, 0},
	};
	memset(a, 0, sizeof *a);
	int opt, rc = -1;
	while ((opt = cli_opt(g, cmd, argc, argv, "", longopts, &rc)) != -1) {
		if (opt == 'j')
			a->json = true;
		else if (opt == 'r')
			a->rewrap = true;
		else if (opt == 'C')
			a->compartment = optarg;
		else if (opt == 'V') {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' || *end || errno || v < 1 || v > UINT32_MAX)
				return cli_usage_error(cmd, "--version must be a whole number from 1 to %u",
				                       UINT32_MAX);
			a->version = (uint32_t)v;
		}
	}
	if (rc >= 0 || (rc = cli_positional(cmd, argc, argv, want_name, want_name)) >= 0)
		return rc;
	if (want_name)
		a->name = argv[optind];
	return -1;
}

veil_status cli_key_create(cli_ws *ws, const char *name, const char *compartment, const char *reason,
                           veil_err *err)
{
	veil_status st = veil_catalog_begin(ws->catalog, err);
	if (st)
		return st;
	st = veil_catalog_key_set_compartment(ws->catalog, name, compartment, ws->principal.name, err);
	if (!st)
		st = veil_kms_kek_create(ws->kms, name, ws->request_region, err);
	return cli_commit_audited(ws, st, "key.create", name,
	                          json_pack("{s:i, s:s, s:s, s:s}", "version", 1, "compartment", compartment,
	                                    "region", ws->request_region ? ws->request_region : "", "reason",
	                                    reason),
	                          err);
}

int cmd_key_create(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("key create");
	key_args a;
	int rc = parse(g, cmd, argc, argv, true, &a);
	if (rc >= 0)
		return rc;
	veil_err err;
	veil_err_clear(&err);
	cli_ws ws;
	if (veil_name_check(a.name, "key name", &err) || cli_ws_open(g, WS_AUDIT, &ws, &err))
		return cli_fail(&err);
	const char *compartment = a.compartment ? a.compartment : VEIL_ACCESS_TENANCY;
	/* A new key is bound to the region it is made in: the KMS releases it
	 * nowhere else. */
	cli_target t = {.verb = VEIL_VERB_MANAGE,
	                .type = "keys",
	                .name = a.name,
	                .compartment = compartment,
	                .owner = a.name,
	                .region = ws.request_region};
	veil_status st = cli_authorize(&ws, &t, &err);
	if (!st)
		st = cli_key_create(&ws, a.name, compartment, "key create", &err);
	cli_ws_close(&ws);
	if (st)
		return cli_fail(&err);
	cli_info("Created key %s (version 1)", a.name);
	return 0;
}

static json_t *kek_json(const veil_kek_info *k, int64_t period, int64_t now)
{
	char created[VEIL_TIME_STR_MAX], rotated[VEIL_TIME_STR_MAX];
	veil_time_format(k->created, created);
	veil_time_format(k->rotated, rotated);
	json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:I, s:I, s:I}", "name", k->name, "region",
	                      k->region, "current_version", (json_int_t)k->current_version, "versions",
	                      (json_int_t)k->versions, "retired", (json_int_t)k->retired, "created", created,
	                      "rotated", rotated, "deks", (json_int_t)k->deks, "deks_on_old_versions",
	                      (json_int_t)k->deks_on_old, "age_seconds", (json_int_t)(now - k->rotated));
	if (o && period)
		json_object_set_new(o, "overdue", json_boolean(now - k->rotated > period));
	return o;
}

/* The KEKs the principal may inspect, and the workspace's rotation
 * period. Returns -1 on success or the exit code of a failure (already
 * reported). The caller frees *keks. */
static int load_keks(cli_global *g, veil_kek_info **keks, size_t *n, int64_t *period)
{
	veil_err err;
	veil_err_clear(&err);
	cli_ws ws;
	if (cli_ws_open(g, WS_KMS, &ws, &err))
		return cli_fail(&err);
	veil_status st = veil_kms_kek_list(ws.kms, keks, n, &err);
	*period = ws.cfg.key_rotation;
	size_t kept = 0;
	if (!st && *n == 0)
		g->decisions++; /* an empty key store shows nothing */
	for (size_t i = 0; !st && i < *n; i++) {
		char compartment[VEIL_CATALOG_NAME_MAX];
		bool ok = false;
		cli_target t = {.verb = VEIL_VERB_INSPECT,
		                .type = "keys",
		                .name = (*keks)[i].name,
		                .compartment = compartment,
		                .owner = (*keks)[i].name,
		                .region = (*keks)[i].region[0] ? (*keks)[i].region : NULL};
		if (!(st = veil_catalog_key_compartment(ws.catalog, (*keks)[i].name, compartment, &err)) &&
		    !(st = cli_authorize_quiet(&ws, &t, &ok, &err)) && ok)
			(*keks)[kept++] = (*keks)[i];
	}
	if (!st)
		st = veil_audit_commit(ws.audit, &err);
	*n = kept;
	cli_ws_close(&ws);
	if (st) {
		free(*keks);
		*keks = NULL;
		return cli_fail(&err);
	}
	return -1;
}

/* Opens the workspace for a change to key `name`: manage on the key. */
static veil_status open_for_key(cli_global *g, const char *name, cli_ws *ws, veil_err *err)
{
	veil_status st = cli_ws_open(g, WS_AUDIT | WS_EXCLUSIVE, ws, err);
	if (st)
		return st;
	cli_resource r;
	if ((st = cli_authorize_resource(ws, "keys", name, VEIL_VERB_MANAGE, &r, err)))
		cli_ws_close(ws);
	else
		cli_resource_free(&r);
	return st;
}

int cmd_key_list(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("key list");
	key_args a;
	int rc = parse(g, cmd, argc, argv, false, &a);
	if (rc >= 0)
		return rc;
	veil_kek_info *keks = NULL;
	size_t n = 0;
	int64_t period = 0, now = veil_time_now();
	if ((rc = load_keks(g, &keks, &n, &period)) >= 0)
		return rc;
	if (a.json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, kek_json(&keks[i], period, now));
		free(keks);
		return cli_print_json(arr);
	}
	printf("%-24s %8s %8s %10s %10s  %s\n", "NAME", "VERSION", "RETIRED", "DATA KEYS", "ON OLD",
	       "ROTATED");
	for (size_t i = 0; i < n; i++) {
		char rotated[VEIL_TIME_STR_MAX];
		veil_time_format(keks[i].rotated, rotated);
		printf("%-24s %8u %8u %10llu %10llu  %s\n", keks[i].name, keks[i].current_version,
		       keks[i].retired, (unsigned long long)keks[i].deks,
		       (unsigned long long)keks[i].deks_on_old, rotated);
	}
	free(keks);
	return 0;
}

int cmd_key_rotate(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("key rotate");
	key_args a;
	int rc = parse(g, cmd, argc, argv, true, &a);
	if (rc >= 0)
		return rc;
	veil_err err;
	veil_err_clear(&err);
	cli_ws ws;
	if (open_for_key(g, a.name, &ws, &err))
		return cli_fail(&err);
	uint32_t version = 0;
	uint64_t moved = 0;
	veil_status st = veil_kms_kek_rotate(ws.kms, a.name, &version, &err);
	if (!st)
		st = cli_audit(&ws, "key.rotate", a.name, "ok",
		               json_pack("{s:I}", "version", (json_int_t)version), &err);
	if (!st && a.rewrap) {
		st = veil_kms_kek_rewrap(ws.kms, a.name, &moved, &err);
		veil_err audit_err;
		veil_status ast = cli_audit(
		        &ws, "key.rewrap", a.name, st ? "failed" : "ok",
		        json_pack("{s:I, s:I}", "version", (json_int_t)version, "deks", (json_int_t)moved),
		        &audit_err);
		if (!st && ast) {
			st = ast;
			err = audit_err;
		}
	}
	cli_ws_close(&ws);
	if (st)
		return cli_fail(&err);
	cli_info("Rotated key %s: version %u is now current", a.name, version);
	if (a.rewrap)
		cli_info("Re-wrapped %llu data key%s under version %u", (unsigned long long)moved,
		         moved == 1 ? "" : "s", version);
	return 0;
}

int cmd_key_retire(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("key retire");
	key_args a;
	int rc = parse(g, cmd, argc, argv, true, &a);
	if (rc >= 0)
		return rc;
	if (!a.version)
		return cli_usage_error(cmd, "--version N is required");
	veil_err err;
	veil_err_clear(&err);
	cli_ws ws;
	if (open_for_key(g, a.name, &ws, &err))
		return cli_fail(&err);
	veil_status st = veil_kms_kek_retire(ws.kms, a.name, a.version, &err);
	veil_err audit_err;
	veil_status ast = cli_audit(&ws, "key.retire", a.name, st ? "failed" : "ok",
	                            json_pack("{s:I}", "version", (json_int_t)a.version), &audit_err);
	cli_ws_close(&ws);
	if (st)
		return cli_fail(&err);
	if (ast)
		return cli_fail(&audit_err);
	cli_info("Retired version %u of key %s", a.version, a.name);
	return 0;
}

int cmd_key_status(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("key status");
	key_args a;
	int rc = parse(g, cmd, argc, argv, false, &a);
	if (rc >= 0)
		return rc;
	veil_kek_info *keks = NULL;
	size_t n = 0;
	int64_t period = 0, now = veil_time_now();
	if ((rc = load_keks(g, &keks, &n, &period)) >= 0)
		return rc;
	size_t overdue = 0;
	json_t *arr = a.json ? json_array() : NULL;
	if (!a.json)
		printf("%-24s %8s %12s  %s\n", "NAME", "VERSION", "AGE (DAYS)", "STATUS");
	for (size_t i = 0; keks && i < n; i++) {
		bool late = period && now - keks[i].rotated > period;
		overdue += late;
		if (a.json) {
			json_array_append_new(arr, kek_json(&keks[i], period, now));
			continue;
		}
		char status[128];
		if (late)
			snprintf(status, sizeof status, "OVERDUE: rotate with 'veil key rotate %s --rewrap'",
			         keks[i].name);
		else if (keks[i].deks_on_old)
			snprintf(status, sizeof status,
			         "ok, but %llu data keys on old versions: rotate --rewrap",
			         (unsigned long long)keks[i].deks_on_old);
		else
			snprintf(status, sizeof status, "ok");
		printf("%-24s %8u %12.1f  %s\n", keks[i].name, keks[i].current_version,
		       (double)(now - keks[i].rotated) / 86400.0, status);
	}
	free(keks);
	if (a.json)
		cli_print_json(json_pack("{s:o, s:I, s:I}", "keys", arr, "rotation_period_seconds",
		                         (json_int_t)period, "overdue", (json_int_t)overdue));
	if (!period)
		cli_info("no rotation period is set (key_rotation in veil.yaml)");
	if (overdue) {
		fprintf(stderr, "veil: %zu key%s overdue for rotation (key_rotation: %llds)\n", overdue,
		        overdue == 1 ? " is" : "s are", (long long)period);
		return VEIL_EXIT_CHECK;
	}
	return 0;
}
