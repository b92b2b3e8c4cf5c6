/*
 * Named resources as access targets: where each kind of resource lives and
 * which attributes its policy conditions can see (docs/access.md,
 * "Resources").
 */
#include "cli.h"

#include <string.h>

static void set(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

/* Fills r->t from the strings in r. */
static void point(cli_resource *r, const char *type, veil_verb verb, size_t ntags)
{
	r->t = (cli_target){
	        .verb = verb,
	        .type = type,
	        .name = r->name,
	        .compartment = r->compartment[0] ? r->compartment : VEIL_ACCESS_TENANCY,
	        .classification = r->classification[0] ? r->classification : NULL,
	        .owner = r->owner[0] ? r->owner : NULL,
	        .region = r->region[0] ? r->region : NULL,
	        .tags = r->tags, /* the complete set, possibly empty */
	        .ntags = ntags,
	};
}

static veil_status find_dataset(cli_ws *ws, const char *ref, cli_resource *r, veil_err *err)
{
	char name[VEIL_CATALOG_NAME_MAX];
	uint32_t version;
	veil_status st = veil_catalog_parse_ref(ref, name, &version, err);
	if (st || (st = veil_catalog_dataset_get(ws->catalog, name, version, &r->dataset, err)))
		return st;
	const veil_dataset_version *v = &r->dataset;
	set(r->name, sizeof r->name, v->name);
	set(r->compartment, sizeof r->compartment, v->compartment);
	set(r->classification, sizeof r->classification, v->classification);
	set(r->owner, sizeof r->owner, v->owner);
	set(r->region, sizeof r->region, v->region);
	for (size_t i = 0; i < v->ntags && i < VEIL_CATALOG_TAGS_MAX; i++)
		r->tags[i] = (veil_access_tag){.key = v->tags[i].key, .value = v->tags[i].value};
	return VEIL_OK;
}

static veil_status find_key(cli_ws *ws, const char *name, cli_resource *r, veil_err *err)
{
	veil_kek_info k;
	veil_status st = veil_kms_kek_get(ws->kms, name, &k, err);
	if (st)
		return st;
	set(r->name, sizeof r->name, k.name);
	set(r->region, sizeof r->region, k.region);
	set(r->owner, sizeof r->owner, k.name); /* a KEK is its owner's key */
	return veil_catalog_key_compartment(ws->catalog, name, r->compartment, err);
}

static veil_status find_principal(cli_ws *ws, const char *name, cli_resource *r, veil_err *err)
{
	veil_principal p;
	veil_status st = veil_catalog_principal_get(ws->catalog, name, &p, err);
	if (st)
		return st;
	set(r->name, sizeof r->name, p.name);
	set(r->region, sizeof r->region, p.region);
	return VEIL_OK;
}

static veil_status find_group(cli_ws *ws, const char *name, cli_resource *r, veil_err *err)
{
	veil_group gr;
	veil_status st = veil_catalog_group_get(ws->catalog, name, &gr, err);
	if (!st)
		set(r->name, sizeof r->name, gr.name);
	return st;
}

/* A compartment lives in its parent (tenancy lives in itself). */
static veil_status find_compartment(cli_ws *ws, const char *name, cli_resource *r, veil_err *err)
{
	veil_compartment c;
	veil_status st = veil_catalog_compartment_get(ws->catalog, name, &c, err);
	if (st)
		return st;
	set(r->name, sizeof r->name, c.name);
	set(r->compartment, sizeof r->compartment, c.parent[0] ? c.parent : VEIL_ACCESS_TENANCY);
	return VEIL_OK;
}

/* A policy lives in the compartment it is attached to. */
static veil_status find_policy(cli_ws *ws, const char *name, cli_resource *r, veil_err *err)
{
	veil_policy_record p;
	veil_status st = veil_catalog_policy_get(ws->catalog, name, 0, &p, err);
	if (st)
		return st;
	set(r->name, sizeof r->name, p.name);
	set(r->compartment, sizeof r->compartment, p.compartment);
	veil_policy_record_free(&p);
	return VEIL_OK;
}

veil_status cli_resource_find(cli_ws *ws, const char *type, const char *name, veil_verb verb, cli_resource *r,
                              veil_err *err)
{
	memset(r, 0, sizeof *r);
	veil_status st;
	if (strcmp(type, "datasets") == 0)
		st = find_dataset(ws, name, r, err);
	else if (strcmp(type, "keys") == 0)
		st = find_key(ws, name, r, err);
	else if (strcmp(type, "principals") == 0)
		st = find_principal(ws, name, r, err);
	else if (strcmp(type, "groups") == 0)
		st = find_group(ws, name, r, err);
	else if (strcmp(type, "compartments") == 0)
		st = find_compartment(ws, name, r, err);
	else if (strcmp(type, "policies") == 0)
		st = find_policy(ws, name, r, err);
	else if (veil_access_resource_type_known(type))
		/* models, jobs, deployments, audit-events, workspace: nothing
		 * stored about them yet beyond the name; they live in tenancy. */
		st = veil_err_set(err, VEIL_E_NOTFOUND, "no %s named '%s'", type, name);
	else {
		veil_err_set(err, VEIL_E_INVALID, "unknown resource type '%s'", type);
		veil_err_hint(err, "run 'veil policy operations' for the resource types");
		return VEIL_E_INVALID;
	}
	if (st && st != VEIL_E_NOTFOUND) {
		cli_resource_free(r);
		return st;
	}
	r->found = !st;
	if (!r->found) {
		veil_err why = *err;
		cli_resource_free(r);
		r->missing = why;
		veil_err_clear(err);
		set(r->name, sizeof r->name, name);
	}
	point(r, type, verb, r->dataset.ntags);
	return VEIL_OK;
}

void cli_resource_free(cli_resource *r)
{
	veil_dataset_version_free(&r->dataset);
	memset(r, 0, sizeof *r);
}

veil_status cli_authorize_resource(cli_ws *ws, const char *type, const char *name, veil_verb verb,
                                   cli_resource *r, veil_err *err)
{
	veil_err why;
	veil_err_clear(&why);
	veil_status st = cli_resource_find(ws, type, name, verb, r, &why);
	if (st) {
		*err = why;
		return st;
	}
	if ((st = cli_authorize(ws, &r->t, err)))
		goto fail;
	if (!r->found) {
		*err = r->missing;
		char resource[2 * VEIL_CATALOG_REF_MAX];
		snprintf(resource, sizeof resource, "%s:%s", type, name);
		cli_audit_missing(ws, resource, err);
		st = VEIL_E_NOTFOUND;
		goto fail;
	}
	return VEIL_OK;
fail:
	cli_resource_free(r);
	return st;
}

veil_status cli_ws_open_for(cli_global *g, unsigned what, const cli_target *t, cli_ws *ws, veil_err *err)
{
	veil_status st = cli_ws_open(g, what, ws, err);
	if (!st && (st = cli_authorize(ws, t, err)))
		cli_ws_close(ws);
	return st;
}

veil_status cli_ws_open_dataset(cli_global *g, unsigned what, const char *ref, veil_verb verb, cli_ws *ws,
                                cli_resource *r, veil_err *err)
{
	veil_status st = cli_ws_open(g, what, ws, err);
	if (st)
		return st;
	if ((st = cli_authorize_dataset_and_key(ws, ref, verb, r, err)))
		cli_ws_close(ws);
	return st;
}

veil_status cli_authorize_dataset_and_key(cli_ws *ws, const char *ref, veil_verb verb, cli_resource *r,
                                          veil_err *err)
{
	cli_resource k;
	veil_status st = cli_authorize_resource(ws, "datasets", ref, verb, r, err);
	if (st)
		return st;
	if ((st = cli_authorize_resource(ws, "keys", r->dataset.kek, VEIL_VERB_USE, &k, err))) {
		cli_resource_free(r);
		return st;
	}
	cli_resource_free(&k);
	return VEIL_OK;
}
