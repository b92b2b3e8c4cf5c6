/*
 * The vocabulary of the access module: verb names, the concrete resource
 * types and the names of condition variables. Kept in one place so that the
 * parser, the decision's explanations and the CLI spell them alike.
 */
#include "access_int.h"

#include <string.h>

const char *const veil_access_resource_types[] = {
        "datasets", "keys",         "models",   "jobs",         "deployments", "principals",
        "groups",   "compartments", "policies", "audit-events", "workspace",
};
const size_t veil_access_nresource_types =
        sizeof veil_access_resource_types / sizeof veil_access_resource_types[0];

const char *veil_verb_name(veil_verb v)
{
	switch (v) {
	case VEIL_VERB_INSPECT:
		return "inspect";
	case VEIL_VERB_READ:
		return "read";
	case VEIL_VERB_USE:
		return "use";
	case VEIL_VERB_MANAGE:
		return "manage";
	}
	return "?";
}

veil_status veil_verb_parse(const char *s, veil_verb *out, veil_err *err)
{
	for (veil_verb v = VEIL_VERB_INSPECT; v <= VEIL_VERB_MANAGE; v++) {
		if (s && strcmp(s, veil_verb_name(v)) == 0) {
			*out = v;
			return VEIL_OK;
		}
	}
	veil_err_set(err, VEIL_E_INVALID, "'%.64s' is not a verb", s ? s : "");
	veil_err_hint(err, "the verbs are inspect, read, use and manage (each grants the ones before it)");
	return VEIL_E_INVALID;
}

const char *acc_resource_type_find(const char *s, size_t n, bool allow_all)
{
	for (size_t i = 0; i < veil_access_nresource_types; i++) {
		const char *t = veil_access_resource_types[i];
		if (strlen(t) == n && memcmp(t, s, n) == 0)
			return t;
	}
	if (allow_all && n == strlen(VEIL_ACCESS_ALL_RESOURCES) &&
	    memcmp(s, VEIL_ACCESS_ALL_RESOURCES, n) == 0)
		return VEIL_ACCESS_ALL_RESOURCES;
	return NULL;
}

bool veil_access_resource_type_known(const char *s)
{
	return s && acc_resource_type_find(s, strlen(s), false) != NULL;
}

const char *acc_var_name(acc_var_kind k)
{
	switch (k) {
	case ACC_VAR_TARGET_NAME:
		return "target.name";
	case ACC_VAR_TARGET_CLASSIFICATION:
		return "target.classification";
	case ACC_VAR_TARGET_OWNER:
		return "target.owner";
	case ACC_VAR_TARGET_REGION:
		return "target.region";
	case ACC_VAR_TARGET_COMPARTMENT:
		return "target.compartment";
	case ACC_VAR_TARGET_TAG:
		return "target.tag.";
	case ACC_VAR_REQUEST_PRINCIPAL:
		return "request.principal";
	case ACC_VAR_REQUEST_PRINCIPAL_KIND:
		return "request.principal.kind";
	case ACC_VAR_REQUEST_REGION:
		return "request.region";
	case ACC_VAR_REQUEST_OPERATION:
		return "request.operation";
	case ACC_VAR_REQUEST_TIME:
		return "request.utc-timestamp";
	case ACC_VAR_REQUEST_TIME_OF_DAY:
		return "request.utc-timestamp.time-of-day";
	}
	return "?";
}
