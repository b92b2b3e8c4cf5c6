/*
 * veil dp: the privacy accountant from the command line (docs/privacy.md).
 * `dp epsilon` says what ε a DP-SGD run spends; `dp noise` finds the
 * noise multiplier for a target ε. Both are arithmetic on public
 * hyperparameters, so they need no workspace and no principal.
 */
#include "cmds.h"
#include "veil/learn_dp.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every option of both commands; each accepts only those its usage names. */
enum { OPT_RATE = 'r', OPT_STEPS = 't', OPT_SIZE = 'N', OPT_BATCH = 'B', OPT_EPOCHS = 'E' };
enum { OPT_NOISE = 's', OPT_EPSILON = 'e', OPT_DELTA = 'd', OPT_JSON = 'j' };

typedef struct dp_args {
	const char *rate, *steps, *size, *batch, *epochs, *noise, *epsilon, *delta;
	bool json;
	/* what they say, once parsed */
	double q, sigma, target, d;
	uint64_t t, n, b, e;
	bool planned; /* q and t come from --dataset-size, --batch-size and --epochs */
} dp_args;

/* A whole number of digits only ("0x10", "-0", "1e3" and "12abc" are not). */
static int parse_count(const cli_command *cmd, const char *opt, const char *s, uint64_t *out)
{
	size_t len = strlen(s);
	bool ok = len > 0 && len <= 20;
	for (size_t i = 0; ok && i < len; i++)
		ok = s[i] >= '0' && s[i] <= '9';
	if (ok) {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(s, &end, 10);
		ok = *end == '\0' && errno == 0;
		if (ok)
			*out = v;
	}
	if (!ok)
		return cli_usage_error(cmd, "%s takes a whole number, not '%s'", opt, s);
	return -1;
}

/* x rounded up to 7 significant digits: what is shown of an ε or a σ is
 * never below the value computed. */
static void fmt_up(double x, char out[32])
{
	if (!isfinite(x) || x <= 0.0) {
		snprintf(out, 32, "%g", x);
		return;
	}
	char buf[64];
	snprintf(buf, sizeof buf, "%.6e", x); /* d.dddddde±XX, to nearest */
	double y = strtod(buf, NULL);
	if (y < x) {
		/* One more unit in the last place: digits d dddddd + 1, same exponent. */
		char *e = strchr(buf, 'e');
		long exp10 = e ? strtol(e + 1, NULL, 10) : 0;
		long long digits = llround(strtod(buf, NULL) / pow(10.0, (double)exp10) * 1e6);
		snprintf(buf, sizeof buf, "%llde%ld", digits + 1, exp10 - 6);
		y = strtod(buf, NULL);
	}
	snprintf(out, 32, "%.7g", y >= x ? y : x);
	if (strtod(out, NULL) < x) /* cannot happen; never show less than x */
		snprintf(out, 32, "%.17g", x);
}

/* The options of both commands; what each accepts is what its usage names. */
static int parse_args(cli_global *g, const cli_command *cmd, int argc, char **argv, dp_args *a)
{
	static const struct option longopts[] = {{"sample-rate", required_argument, NULL, OPT_RATE},
	                                         {"steps", required_argument, NULL, OPT_STEPS},
	                                         {"dataset-size", required_argument, NULL, OPT_SIZE},
	                                         {"batch-size", required_argument, NULL, OPT_BATCH},
	                                         {"epochs", required_argument, NULL, OPT_EPOCHS},
	                                         {"noise", required_argument, NULL, OPT_NOISE},
	                                         {"epsilon", required_argument, NULL, OPT_EPSILON},
	                                         {"delta", required_argument, NULL, OPT_DELTA},
	                                         {"json", no_argument, NULL, OPT_JSON},
	                                         CLI_COMMON_OPTS,
	                                         {NULL, 0, NULL, 0}};
	int opt, rc = -1;
	memset(a, 0, sizeof *a);
	while ((opt = cli_opt(g, cmd, argc, argv, "", longopts, &rc)) != -1) {
		switch (opt) {
		case OPT_RATE:
			a->rate = optarg;
			break;
		case OPT_STEPS:
			a->steps = optarg;
			break;
		case OPT_SIZE:
			a->size = optarg;
			break;
		case OPT_BATCH:
			a->batch = optarg;
			break;
		case OPT_EPOCHS:
			a->epochs = optarg;
			break;
		case OPT_NOISE:
			a->noise = optarg;
			break;
		case OPT_EPSILON:
			a->epsilon = optarg;
			break;
		case OPT_DELTA:
			a->delta = optarg;
			break;
		default:
			a->json = true;
			break;
		}
	}
	if (rc >= 0 || (rc = cli_positional(cmd, argc, argv, 0, 0)) >= 0)
		return rc;
	return -1;
}

/* The run: --sample-rate and --steps, or --dataset-size, --batch-size and
 * --epochs (plan_run turns those into q and steps as the trainer runs
 * them). Names what is missing, or that both were given. */
static int resolve_run(const cli_command *cmd, dp_args *a)
{
	bool direct = a->rate || a->steps, plan = a->size || a->batch || a->epochs;
	if (direct && plan)
		return cli_usage_error(cmd,
		                       "give --sample-rate and --steps, or --dataset-size, --batch-size and "
		                       "--epochs, not both");
	if (!direct && !plan)
		return cli_usage_error(cmd,
		                       "missing --sample-rate and --steps (or --dataset-size, --batch-size "
		                       "and --epochs)");
	int rc;
	if (direct) {
		if (!a->rate || !a->steps)
			return cli_usage_error(cmd, "missing %s (--sample-rate and --steps go together)",
			                       a->rate ? "--steps" : "--sample-rate");
		if ((rc = cli_parse_real(cmd, "--sample-rate", a->rate, &a->q)) >= 0 ||
		    (rc = parse_count(cmd, "--steps", a->steps, &a->t)) >= 0)
			return rc;
		return -1;
	}
	if (!a->size || !a->batch || !a->epochs) {
		char missing[64];
		snprintf(missing, sizeof missing, "%s%s%s%s%s", a->size ? "" : "--dataset-size",
		         !a->size && (!a->batch || !a->epochs) ? " and " : "", a->batch ? "" : "--batch-size",
		         !a->batch && !a->epochs ? " and " : "", a->epochs ? "" : "--epochs");
		return cli_usage_error(
		        cmd, "missing %s (--dataset-size, --batch-size and --epochs go together)", missing);
	}
	if ((rc = parse_count(cmd, "--dataset-size", a->size, &a->n)) >= 0 ||
	    (rc = parse_count(cmd, "--batch-size", a->batch, &a->b)) >= 0 ||
	    (rc = parse_count(cmd, "--epochs", a->epochs, &a->e)) >= 0)
		return rc;
	a->planned = true;
	return -1;
}

/* q and steps from the data set, once the whole command line is known to
 * be well formed: a usage error is reported before any other. */
static int plan_run(dp_args *a)
{
	veil_err err;
	veil_err_clear(&err);
	if (a->planned && veil_dp_plan(a->n, a->b, a->e, &a->q, &a->t, &err))
		return cli_fail(&err);
	return -1;
}

/* The run's parameters, for JSON output. */
static json_t *run_json(const dp_args *a, double order)
{
	json_t *o =
	        json_pack("{s:f, s:I, s:f, s:s, s:I}", "sample_rate", a->q, "steps", (json_int_t)a->t,
	                  "delta", a->d, "accountant", "rdp", "orders", (json_int_t)VEIL_DP_DEFAULT_ORDERS_N);
	if (o && isfinite(order) && json_object_set_new(o, "order", json_real(order))) {
		json_decref(o);
		return NULL;
	}
	if (o && !isfinite(order) && json_object_set_new(o, "order", json_null())) {
		json_decref(o);
		return NULL;
	}
	if (o && a->planned &&
	    json_object_update_new(o,
	                           json_pack("{s:I, s:I, s:I}", "dataset_size", (json_int_t)a->n,
	                                     "batch_size", (json_int_t)a->b, "epochs", (json_int_t)a->e))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static void print_run(const dp_args *a, double order)
{
	printf("%-13s%g\n", "delta", a->d);
	printf("%-13s%g\n", "order", order);
	printf("%-13s%g\n", "sample rate", a->q);
	printf("%-13s%llu\n", "steps", (unsigned long long)a->t);
}

/* The best order at an end of the default orders: a wider set might give
 * a smaller ε (TF Privacy says the same). */
static void warn_edge(double order)
{
	double orders[VEIL_DP_DEFAULT_ORDERS_N];
	veil_dp_default_orders(orders);
	if (order == orders[0] || order == orders[VEIL_DP_DEFAULT_ORDERS_N - 1])
		cli_info("note: the best order, %g, is at the end of the orders searched; the true epsilon "
		         "may "
		         "be smaller",
		         order);
}

/* ---- dp epsilon ---- */
int cmd_dp_epsilon(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("dp epsilon");
	dp_args a;
	int rc = parse_args(g, cmd, argc, argv, &a);
	if (rc >= 0)
		return rc;
	if ((rc = resolve_run(cmd, &a)) >= 0)
		return rc;
	if (!a.noise || !a.delta)
		return cli_usage_error(cmd, "missing %s", !a.noise ? "--noise" : "--delta");
	if ((rc = cli_parse_real(cmd, "--noise", a.noise, &a.sigma)) >= 0 ||
	    (rc = cli_parse_real(cmd, "--delta", a.delta, &a.d)) >= 0 || (rc = plan_run(&a)) >= 0)
		return rc;
	veil_err err;
	veil_err_clear(&err);
	double eps, order;
	if (veil_dp_epsilon(a.q, a.sigma, a.t, a.d, &eps, &order, &err))
		return cli_fail(&err);
	if (isinf(eps))
		cli_warn("noise multiplier 0 gives no privacy: epsilon is unbounded");
	else
		warn_edge(order);
	if (a.json) {
		json_t *o = run_json(&a, order);
		if (o && json_object_set_new(o, "noise_multiplier", json_real(a.sigma))) {
			json_decref(o);
			o = NULL;
		}
		if (o && json_object_set_new(o, "epsilon", isfinite(eps) ? json_real(eps) : json_null())) {
			json_decref(o);
			o = NULL;
		}
		return cli_print_json(o);
	}
	char shown[32];
	fmt_up(eps, shown);
	printf("%-13s%s\n", "epsilon", shown);
	print_run(&a, order);
	printf("%-13s%g\n", "noise", a.sigma);
	return 0;
}

/* ---- dp noise ---- */
int cmd_dp_noise(cli_global *g, int argc, char **argv)
{
	const cli_command *cmd = cli_find("dp noise");
	dp_args a;
	int rc = parse_args(g, cmd, argc, argv, &a);
	if (rc >= 0)
		return rc;
	if ((rc = resolve_run(cmd, &a)) >= 0)
		return rc;
	if (!a.epsilon || !a.delta)
		return cli_usage_error(cmd, "missing %s", !a.epsilon ? "--epsilon" : "--delta");
	if ((rc = cli_parse_real(cmd, "--epsilon", a.epsilon, &a.target)) >= 0 ||
	    (rc = cli_parse_real(cmd, "--delta", a.delta, &a.d)) >= 0 || (rc = plan_run(&a)) >= 0)
		return rc;
	veil_err err;
	veil_err_clear(&err);
	double sigma, eps = 0.0, order = NAN;
	if (veil_dp_noise_for_epsilon(a.q, a.t, a.target, a.d, &sigma, &err))
		return cli_fail(&err);
	/* Show σ rounded up, and the ε of the σ shown, so that what a person
	 * copies from here meets the target; should rounding up ever miss it
	 * (ε is decreasing in σ, so it cannot), show every digit instead. */
	char shown[32];
	fmt_up(sigma, shown);
	double shown_sigma = strtod(shown, NULL);
	if (veil_dp_epsilon(a.q, shown_sigma, a.t, a.d, &eps, &order, &err))
		return cli_fail(&err);
	if (eps > a.target) {
		snprintf(shown, sizeof shown, "%.17g", sigma);
		shown_sigma = sigma;
		if (veil_dp_epsilon(a.q, sigma, a.t, a.d, &eps, &order, &err))
			return cli_fail(&err);
	}
	if (shown_sigma == 0.0)
		cli_info(
		        "note: no step samples anything (a sampling rate or steps of 0): no noise is needed");
	else
		warn_edge(order);
	if (a.json) {
		json_t *o = run_json(&a, order);
		if (o &&
		    json_object_update_new(o, json_pack("{s:f, s:f, s:f}", "noise_multiplier", shown_sigma,
		                                        "epsilon", eps, "target_epsilon", a.target))) {
			json_decref(o);
			o = NULL;
		}
		return cli_print_json(o);
	}
	char eps_shown[32];
	fmt_up(eps, eps_shown);
	printf("%-13s%s\n", "noise", shown);
	printf("%-13s%s\n", "epsilon", eps_shown);
	printf("%-13s%s\n", "target", a.epsilon); /* as given */
	print_run(&a, order);
	return 0;
}
