/* The RDP accountant (veil/learn_dp.h, docs/privacy.md) against published
 * vectors:
 *  - Google dp_accounting, python/dp_accounting/dp_accounting/rdp/
 *    rdp_privacy_accountant_test.py: test_compute_rdp_poisson_sampled_gaussian,
 *    test_compute_epsilon_delta_pure_dp, test_compute_epsilon_delta_gaussian,
 *    test_compute_log_a_equals_mp (its mpmath integrals, recomputed here at
 *    60 digits and written down), test_zero_poisson_sample,
 *    test_epsilon_non_private_gaussian, test_compute_rdp_gaussian,
 *    test_delta_bounds_gaussian and test_epsilon_delta_consistency;
 *  - TensorFlow Privacy, tensorflow_privacy/privacy/analysis/
 *    compute_dp_sgd_privacy_test.py: test_compute_dp_sgd_privacy (Test0-2,
 *    with compute_dp_sgd_privacy_lib.py's orders) and
 *    test_compute_dp_sgd_example_privacy and the privacy statement (RDP,
 *    default orders);
 * then the q = 1 closed form, monotonicity, calibration of σ, the plan
 * of steps, and every bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "veil/learn_dp.h"

static void assert_rel(double got, double want, double rtol)
{
	double tol = rtol * fabs(want);
	if (!(fabs(got - want) <= tol))
		fail_msg("got %.17g, want %.17g (relative error %.3g > %.3g)", got, want,
		         fabs(got - want) / fabs(want), rtol);
}

static void assert_abs(double got, double want, double atol)
{
	if (!(fabs(got - want) <= atol))
		fail_msg("got %.17g, want %.17g (error %.3g > %.3g)", got, want, fabs(got - want), atol);
}

static double eps_of(double q, double sigma, uint64_t steps, double delta, double *order)
{
	double eps = -1.0, o = -1.0;
	veil_err err;
	if (veil_dp_epsilon(q, sigma, steps, delta, &eps, &o, &err))
		fail_msg("veil_dp_epsilon(q %g, sigma %g, %llu steps, delta %g): %s", q, sigma,
		         (unsigned long long)steps, delta, err.msg);
	if (order)
		*order = o;
	return eps;
}

/* TF Privacy's compute_dp_sgd_privacy orders:
 * [1.25, 1.5, 1.75, 2., 2.25, 2.5, 3., 3.5, 4., 4.5] + range(5, 64) + [128, 256, 512]. */
#define TF_ORDERS_N 72
static void tf_orders(double o[TF_ORDERS_N])
{
	static const double first[] = {1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 3.0, 3.5, 4.0, 4.5};
	size_t k = 0;
	for (size_t i = 0; i < sizeof first / sizeof first[0]; i++)
		o[k++] = first[i];
	for (int a = 5; a < 64; a++)
		o[k++] = a;
	o[k++] = 128;
	o[k++] = 256;
	o[k++] = 512;
	assert_int_equal(k, TF_ORDERS_N);
}

static void test_default_orders(void **state)
{
	double o[VEIL_DP_DEFAULT_ORDERS_N];
	veil_dp_default_orders(o);
	assert_true(o[0] == 1.0 + 1 / 10.0);
	assert_true(o[9] == 2.0);
	assert_true(o[98] == 1.0 + 99 / 10.0);
	assert_true(o[99] == 11.0);
	assert_true(o[151] == 63.0);
	assert_true(o[152] == 128.0 && o[153] == 256.0 && o[154] == 512.0 && o[155] == 1024.0);
	for (size_t i = 1; i < VEIL_DP_DEFAULT_ORDERS_N; i++)
		assert_true(o[i] > o[i - 1]);
}

/* dp_accounting: test_compute_rdp_poisson_sampled_gaussian (it checks to
 * rtol 1e-4; the digits printed allow 1e-6). */
static void test_dp_accounting_rdp(void **state)
{
	const double orders[] = {1.5, 2.5, 5, 50, 100, INFINITY};
	const double want[] = {6.70579741e-04, 1.08548710e-03, 2.18075656e-03, 2.38460375e-02,
	                       1.67416308e+02};
	double rdp[6];
	veil_err err;
	assert_int_equal(veil_dp_rdp(0.01, 2.5, 50, orders, 6, rdp, &err), VEIL_OK);
	for (int i = 0; i < 5; i++)
		assert_rel(rdp[i], want[i], 1e-6);
	assert_true(isinf(rdp[5]) && rdp[5] > 0);
}

/* TF Privacy: test_compute_dp_sgd_privacy, with TF's orders and
 * steps = ceil(epochs·n/batch). */
static void test_tf_privacy_vectors(void **state)
{
	static const struct {
		uint64_t n, batch, epochs;
		double sigma, delta, eps, order;
	} v[] = {
	        {60000, 150, 15, 1.3, 1e-5, 0.7242234026109595, 19.0},
	        {100000, 100, 30, 1.0, 1e-7, 1.4154988495444842, 13.0},
	        {100000000, 1024, 10, 0.1, 1e-7, 5907982.3113978775, 1.25},
	};
	double orders[TF_ORDERS_N], rdp[TF_ORDERS_N];
	tf_orders(orders);
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		double q = (double)v[i].batch / (double)v[i].n, eps = 0, order = 0;
		uint64_t steps = (uint64_t)ceil((double)v[i].epochs * (double)v[i].n / (double)v[i].batch);
		veil_err err;
		assert_int_equal(veil_dp_rdp(q, v[i].sigma, steps, orders, TF_ORDERS_N, rdp, &err), VEIL_OK);
		assert_int_equal(
		        veil_dp_rdp_to_epsilon(orders, rdp, TF_ORDERS_N, v[i].delta, &eps, &order, &err),
		        VEIL_OK);
		assert_rel(eps, v[i].eps, 1e-9);
		assert_true(order == v[i].order);
		/* The plan agrees where batch divides n (Test0, Test1); for
		 * Test2 it counts the trainer's whole last batch of each epoch. */
		double pq;
		uint64_t psteps;
		assert_int_equal(veil_dp_plan(v[i].n, v[i].batch, v[i].epochs, &pq, &psteps, &err), VEIL_OK);
		assert_true(pq == q);
		if (v[i].n % v[i].batch == 0)
			assert_int_equal(psteps, steps);
		else
			assert_true(psteps > steps);
	}
	assert_int_equal((uint64_t)ceil(10.0 * 100000000.0 / 1024.0), 976563);
}

/* TF Privacy: test_compute_dp_sgd_example_privacy (RDP rows) and the
 * RDP privacy statement, which use dp_accounting's default orders:
 * σ halved with microbatching, steps = ceil(epochs / q) with Poisson
 * sampling, ceil(epochs) of the plain Gaussian without. */
static void test_tf_example_privacy(void **state)
{
	static const struct {
		double q, sigma;
		uint64_t steps;
		double delta, eps, atol;
	} v[] = {
	        {1.0, 0.7, 2, 1e-5, 10.8602036, 1e-7},   /* no microbatching, no subsampling */
	        {1.0, 0.35, 2, 1e-5, 26.2880374, 1e-7},  /* microbatching, no subsampling */
	        {1e-2, 0.7, 120, 1e-5, 3.2392676, 1e-7}, /* no microbatching, q = 1e-2 */
	        {1e-2, 0.35, 120, 1e-5, 22.6248601, 1e-7},
	        {1.0, 1.0, 5, 1e-6, 13.376, 5e-4},     /* statement: once per epoch */
	        {0.0064, 1.0, 782, 1e-6, 1.616, 5e-4}, /* statement: Poisson */
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		assert_abs(eps_of(v[i].q, v[i].sigma, v[i].steps, v[i].delta, NULL), v[i].eps, v[i].atol);
	assert_int_equal((uint64_t)ceil(1.2 / 1e-2), 120);
	assert_int_equal((uint64_t)ceil(5.0 / (64.0 / 10000.0)), 782);
}

/* dp_accounting: test_compute_log_a_equals_mp. log(A_α) = RDP·(α − 1) at
 * one step; the values are its integral ∫ N(z; 0, σ²)·(1 − q + q·e^{(2z−1)/(2σ²)})^α dz
 * computed with mpmath at 60 digits (and, for integer α, the exact
 * binomial sum, which agrees). Integer orders are exact sums here too;
 * fractional ones are held to the upstream tolerance and must not fall
 * below the true value by more than the tail the stopping rule drops
 * (the magnitudes of the series' terms are added, which can only add). */
static void test_log_a_equals_mp(void **state)
{
	static const struct {
		double q, sigma, alpha, log_a;
	} v[] = {
	        {1e-7, 0.1, 1.01, 4.0034123225263985848e-8}, {1e-6, 0.1, 256, 3260463.2292971607834},
	        {1e-5, 0.1, 256.1, 3263607.0397884213428},   {1e-6, 1, 27, 8.7695113048484978803e-10},
	        {1e-4, 1, 1.5, 6.4426869538366497255e-9},    {1e-3, 1, 2, 1.7182803522145153698e-6},
	        {0.01, 10, 20, 0.00019129699912842962637},   {0.1, 100, 20.5, 0.0001999181845806829614},
	        {0.99, 0.1, 256, 3263997.4271140211413},     {0.999, 100, 256.1, 3.2601080379731126889},
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		double rdp;
		veil_err err;
		assert_int_equal(veil_dp_rdp(v[i].q, v[i].sigma, 1, &v[i].alpha, 1, &rdp, &err), VEIL_OK);
		double log_a = rdp * (v[i].alpha - 1.0);
		if (v[i].alpha == floor(v[i].alpha)) {
			assert_rel(log_a, v[i].log_a, 1e-9);
		} else {
			assert_abs(log_a, v[i].log_a, 1e-8 + 1e-4 * fabs(v[i].log_a));
			/* At most the truncated tail (e^-30 of A) below it. */
			assert_true(log_a >= v[i].log_a - (1e-12 + 1e-15 * fabs(v[i].log_a)));
		}
	}
}

/* A fractional order whose series has not met the stopping rule after
 * 1000 terms is +∞ and drops out of the minimum, as in dp_accounting. */
static void test_frac_not_converged(void **state)
{
	const double orders[] = {1.5, 2.0};
	double rdp[2], eps, order;
	veil_err err;
	assert_int_equal(veil_dp_rdp(0.1, 0.5, 1, orders, 2, rdp, &err), VEIL_OK);
	assert_true(isinf(rdp[0]));
	assert_true(isfinite(rdp[1]) && rdp[1] > 0);
	assert_int_equal(veil_dp_rdp_to_epsilon(orders, rdp, 2, 1e-5, &eps, &order, &err), VEIL_OK);
	assert_true(order == 2.0 && isfinite(eps));
}

/* dp_accounting: test_compute_epsilon_delta_pure_dp. */
static void test_pure_dp(void **state)
{
	double orders[31], rdp[31], eps, delta, order;
	veil_err err;
	for (int i = 0; i < 31; i++) {
		orders[i] = 2 + i;
		rdp[i] = 1.1;
	}
	assert_int_equal(veil_dp_rdp_to_epsilon(orders, rdp, 31, 1e-5, &eps, &order, &err), VEIL_OK);
	assert_rel(eps, 1.32783806176, 1e-10);
	assert_true(order == 32.0);
	assert_int_equal(veil_dp_rdp_to_delta(orders, rdp, 31, 1.32783806176, &delta, &order, &err), VEIL_OK);
	assert_rel(delta, 1e-5, 1e-9);
	assert_true(order == 32.0);
}

/* dp_accounting: test_compute_epsilon_delta_gaussian: the unsampled
 * Gaussian with σ chosen for exactly (1, 1e-6)-DP, over 99000 orders. */
static void test_gaussian_eps_delta(void **state)
{
	size_t n = 99000;
	double *orders = malloc(n * sizeof *orders), *rdp = malloc(n * sizeof *rdp), eps, delta;
	assert_non_null(orders);
	assert_non_null(rdp);
	for (size_t i = 0; i < n; i++)
		orders[i] = 0.001 * (double)(i + 1000);
	veil_err err;
	assert_int_equal(veil_dp_rdp(1.0, 4.530877117, 1, orders, n, rdp, &err), VEIL_OK);
	assert_int_equal(veil_dp_rdp_to_epsilon(orders, rdp, n, 1e-6, &eps, NULL, &err), VEIL_OK);
	assert_abs(eps, 1.0, 1e-7);
	assert_int_equal(veil_dp_rdp_to_delta(orders, rdp, n, 1.0, &delta, NULL, &err), VEIL_OK);
	assert_abs(delta, 1e-6, 1e-7);
	assert_rel(delta, 1e-6, 1e-3);
	free(orders);
	free(rdp);
}

/* dp_accounting: test_delta_bounds_gaussian. Between the optimal δ of the
 * Gaussian (Balle and Wang 2018, Theorem 8) and the standard bound. */
static void test_delta_bounds_gaussian(void **state)
{
	double orders[495], rdp[495];
	for (int x = 10; x < 505; x++)
		orders[x - 10] = 0.1 * x;
	veil_err err;
	assert_int_equal(veil_dp_rdp(1.0, 1.0, 1, orders, 495, rdp, &err), VEIL_OK);
	for (int k = 0; k < 500; k++) {
		double eps = 0.1 * k, delta;
		assert_int_equal(veil_dp_rdp_to_delta(orders, rdp, 495, eps, &delta, NULL, &err), VEIL_OK);
		double d0 = erfc((eps - 0.5) / sqrt(2.0)) / 2 - exp(eps) * erfc((eps + 0.5) / sqrt(2.0)) / 2;
		assert_true(d0 <= delta + 1e-300);
		double d1 = eps >= 0.5 ? exp(-0.5 * (eps - 0.5) * (eps - 0.5)) : 1.0;
		assert_true(delta <= d1 + 1e-300);
	}
}

/* dp_accounting: test_epsilon_delta_consistency (orders 2..49). */
static void test_eps_delta_consistency(void **state)
{
	double orders[48], rdp[48];
	for (int i = 0; i < 48; i++)
		orders[i] = 2 + i;
	const double qs[] = {0, 0.01, 0.1, 0.8, 1.0}, sigmas[] = {0.0, 0.1, 1.0, 10.0, 100.0};
	const double deltas[] = {0.99, 0.9, 0.1, 0.01, 1e-3, 1e-5, 1e-9, 1e-12};
	veil_err err;
	for (int a = 0; a < 5; a++)
		for (int b = 0; b < 5; b++) {
			assert_int_equal(veil_dp_rdp(qs[a], sigmas[b], 1, orders, 48, rdp, &err), VEIL_OK);
			for (int c = 0; c < 8; c++) {
				double eps, d2;
				assert_int_equal(
				        veil_dp_rdp_to_epsilon(orders, rdp, 48, deltas[c], &eps, NULL, &err),
				        VEIL_OK);
				if (isinf(eps)) {
					/* The inverse of no guarantee is δ = 1. */
					assert_true(rdp[0] > 0);
					assert_int_equal(
					        veil_dp_rdp_to_delta(orders, rdp, 48, 0, &d2, NULL, &err),
					        VEIL_OK);
					assert_true(d2 == 1.0);
					continue;
				}
				assert_int_equal(veil_dp_rdp_to_delta(orders, rdp, 48, eps, &d2, NULL, &err),
				                 VEIL_OK);
				if (eps == 0)
					assert_true(d2 <= deltas[c]);
				else
					assert_abs(d2, deltas[c], 5e-8);
			}
		}
}

/* dp_accounting: test_zero_poisson_sample, test_epsilon_non_private_gaussian,
 * test_compute_rdp_gaussian; and no steps. */
static void test_edge_cases(void **state)
{
	const double order = 3.14159, inf = INFINITY;
	double rdp, eps, delta, o;
	veil_err err;
	for (int s = 0; s < 2; s++) { /* q = 0 with σ = 1 and σ = 0 */
		assert_int_equal(veil_dp_rdp(0.0, s ? 0.0 : 1.0, 1, &order, 1, &rdp, &err), VEIL_OK);
		assert_true(rdp == 0.0);
		assert_int_equal(veil_dp_rdp_to_epsilon(&order, &rdp, 1, 1e-10, &eps, NULL, &err), VEIL_OK);
		assert_true(eps == 0.0);
		assert_int_equal(veil_dp_rdp_to_delta(&order, &rdp, 1, 1e-10, &delta, NULL, &err), VEIL_OK);
		assert_true(delta == 0.0);
		assert_int_equal(veil_dp_rdp(0.0, s ? 0.0 : 1.0, 1, &inf, 1, &rdp, &err), VEIL_OK);
		assert_true(rdp == 0.0);
	}
	assert_int_equal(veil_dp_rdp(1.0, 0.0, 1, &order, 1, &rdp, &err), VEIL_OK);
	assert_true(isinf(rdp));
	assert_int_equal(veil_dp_rdp_to_epsilon(&order, &rdp, 1, 0.1, &eps, NULL, &err), VEIL_OK);
	assert_true(isinf(eps));
	assert_true(isinf(eps_of(0.01, 0.0, 100, 1e-5, NULL)));
	assert_true(eps_of(0.0, 1.0, 100, 1e-5, &o) == 0.0);
	assert_true(o == 1.1); /* the first order on a tie */
	/* No step, no release: 0, even where one step would be ∞. */
	assert_int_equal(veil_dp_rdp(0.5, 0.0, 0, &inf, 1, &rdp, &err), VEIL_OK);
	assert_true(rdp == 0.0);
	assert_true(eps_of(0.5, 1.0, 0, 1e-5, NULL) == 0.0);
	/* The unsampled Gaussian of test_compute_rdp_gaussian. */
	assert_int_equal(veil_dp_rdp(1.0, 2.71828, 1, &order, 1, &rdp, &err), VEIL_OK);
	assert_rel(rdp, order / (2 * 2.71828 * 2.71828), 1e-15);
	/* Orders up to 1.01 give no ε beyond the KL case (the bound is
	 * unstable there): here order 1.005 would give about 2296. */
	double low[] = {1.005, 2.0}, rlow[] = {1e-6, 5000.0};
	assert_int_equal(veil_dp_rdp_to_epsilon(low, rlow, 2, 1e-5, &eps, &o, &err), VEIL_OK);
	assert_true(o == 2.0);
	assert_rel(eps, 5000.0 + log1p(-0.5) - log(2e-5), 1e-15);
	/* At order ∞ the conversion is its limit: pure ε-DP of ε = r. */
	double two[] = {2.0, INFINITY}, r2[] = {5.0, 0.25};
	assert_int_equal(veil_dp_rdp_to_epsilon(two, r2, 2, 1e-5, &eps, &o, &err), VEIL_OK);
	assert_true(eps == 0.25 && isinf(o));
	assert_int_equal(veil_dp_rdp_to_delta(two, r2, 2, 0.25, &delta, &o, &err), VEIL_OK);
	assert_true(delta == 0.0 && isinf(o));
}

/* q = 1 is the unsampled Gaussian: α/(2σ²) per step, composed over steps. */
static void test_q1_is_gaussian(void **state)
{
	double orders[VEIL_DP_DEFAULT_ORDERS_N], rdp[VEIL_DP_DEFAULT_ORDERS_N];
	veil_dp_default_orders(orders);
	const double sigmas[] = {0.3, 1.0, 4.5};
	const uint64_t steps[] = {1, 7, 1000};
	veil_err err;
	for (int s = 0; s < 3; s++)
		for (int t = 0; t < 3; t++) {
			assert_int_equal(veil_dp_rdp(1.0, sigmas[s], steps[t], orders,
			                             VEIL_DP_DEFAULT_ORDERS_N, rdp, &err),
			                 VEIL_OK);
			for (size_t i = 0; i < VEIL_DP_DEFAULT_ORDERS_N; i++)
				assert_rel(rdp[i], orders[i] / (2 * sigmas[s] * sigmas[s]) * (double)steps[t],
				           1e-14);
		}
	/* And a q just below 1 is close to it (the integer path at 2 and
	 * the fractional one at 2.5 both tend to the limit). */
	const double o2[] = {2.0, 2.5};
	double r2[2];
	assert_int_equal(veil_dp_rdp(1.0 - 1e-9, 1.0, 1, o2, 2, r2, &err), VEIL_OK);
	assert_rel(r2[0], 2.0 / 2, 1e-6);
	assert_rel(r2[1], 2.5 / 2, 1e-6);
}

static void test_monotone(void **state)
{
	double prev = INFINITY;
	for (int k = 0; k < 13; k++) { /* ε falls as σ rises, 0.5 to 7.3 */
		double e = eps_of(0.01, 0.5 * pow(1.25, k), 1000, 1e-5, NULL);
		assert_true(e < prev);
		prev = e;
	}
	prev = 0;
	for (uint64_t steps = 1; steps <= 100000; steps *= 10) { /* and rises with steps */
		double e = eps_of(0.01, 1.0, steps, 1e-5, NULL);
		assert_true(e > prev);
		prev = e;
	}
	prev = 0;
	for (int k = 0; k < 10; k++) { /* and with the sampling rate, 0.001 to 0.512 */
		double e = eps_of(0.001 * (1 << k), 1.0, 100, 1e-5, NULL);
		assert_true(e > prev);
		prev = e;
	}
	/* A larger δ buys a smaller ε. */
	assert_true(eps_of(0.01, 1.0, 1000, 1e-3, NULL) < eps_of(0.01, 1.0, 1000, 1e-5, NULL));
}

static void test_calibrate(void **state)
{
	static const struct {
		double q;
		uint64_t steps;
		double target, delta;
	} v[] = {
	        {0.0025, 6000, 0.7242234026109595, 1e-5}, /* TF's Test0: σ = 1.3 */
	        {256.0 / 60000.0, 20 * 235, 3.0, 1e-5},
	        {0.01, 1000, 0.5, 1e-6},
	        {0.01, 10, 8.0, 1e-5},
	        {1.0, 1, 1.0, 1e-6},
	        {0.001, 100000, 0.1, 1e-7},
	        {0.3, 50, 50.0, 1e-2},
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		double sigma = -1;
		veil_err err;
		assert_int_equal(
		        veil_dp_noise_for_epsilon(v[i].q, v[i].steps, v[i].target, v[i].delta, &sigma, &err),
		        VEIL_OK);
		assert_true(sigma > 0);
		assert_true(eps_of(v[i].q, sigma, v[i].steps, v[i].delta, NULL) <= v[i].target);
		assert_true(eps_of(v[i].q, sigma * (1 - 1e-4), v[i].steps, v[i].delta, NULL) > v[i].target);
		if (i == 0)
			assert_rel(sigma, 1.3, 1e-5);
		if (i == 4) /* the unsampled Gaussian for (1, 1e-6) over the default orders */
			assert_true(sigma >= 4.530877117);
	}
	/* Nothing released needs no noise. */
	double sigma = -1;
	veil_err err;
	assert_int_equal(veil_dp_noise_for_epsilon(0.0, 100, 1.0, 1e-5, &sigma, &err), VEIL_OK);
	assert_true(sigma == 0.0);
	assert_int_equal(veil_dp_noise_for_epsilon(0.5, 0, 1.0, 1e-5, &sigma, &err), VEIL_OK);
	assert_true(sigma == 0.0);
	/* A target no σ up to the bound reaches. */
	sigma = -1;
	assert_int_equal(veil_dp_noise_for_epsilon(1.0, VEIL_DP_STEPS_MAX, 1e-6, 1e-9, &sigma, &err),
	                 VEIL_E_INVALID);
	assert_true(sigma == -1);
	assert_non_null(strstr(err.msg, "no noise multiplier"));
	assert_true(err.hint[0] != 0);
}

static void test_plan(void **state)
{
	double q = -1;
	uint64_t steps = 0;
	veil_err err;
	assert_int_equal(veil_dp_plan(60000, 256, 20, &q, &steps, &err), VEIL_OK);
	assert_true(q == 256.0 / 60000.0);
	assert_int_equal(steps, 20 * 235); /* ceil(60000/256) = 235 */
	assert_int_equal(veil_dp_plan(10, 10, 3, &q, &steps, &err), VEIL_OK);
	assert_true(q == 1.0);
	assert_int_equal(steps, 3);
	assert_int_equal(veil_dp_plan(10, 3, 1, &q, &steps, &err), VEIL_OK);
	assert_int_equal(steps, 4);
	/* Refused, with outputs unchanged. */
	q = -1;
	steps = 7;
	assert_int_equal(veil_dp_plan(0, 1, 1, &q, &steps, &err), VEIL_E_INVALID);
	assert_int_equal(veil_dp_plan(10, 0, 1, &q, &steps, &err), VEIL_E_INVALID);
	assert_int_equal(veil_dp_plan(10, 11, 1, &q, &steps, &err), VEIL_E_INVALID);
	assert_non_null(strstr(err.msg, "batch size"));
	assert_int_equal(veil_dp_plan(10, 1, 0, &q, &steps, &err), VEIL_E_INVALID);
	assert_int_equal(veil_dp_plan((UINT64_C(1) << 53) + 1, 1, 1, &q, &steps, &err), VEIL_E_INVALID);
	assert_int_equal(veil_dp_plan(UINT64_C(1) << 40, 1, 1000, &q, &steps, &err), VEIL_E_LIMIT);
	assert_int_equal(veil_dp_plan(1000, 1, UINT64_MAX, &q, &steps, &err), VEIL_E_LIMIT);
	assert_true(q == -1 && steps == 7);
}

static void test_bad_inputs(void **state)
{
	const double nan = NAN, inf = INFINITY, order = 2.0;
	double rdp = -7, eps = -7, delta = -7, o = -7, sigma = -7;
	veil_err err;
	/* q, σ, steps */
	const double bad_q[] = {-0.1, 1.5, nan, inf, -inf};
	for (int i = 0; i < 5; i++) {
		assert_int_equal(veil_dp_rdp(bad_q[i], 1.0, 1, &order, 1, &rdp, &err), VEIL_E_INVALID);
		assert_non_null(strstr(err.msg, "sampling rate"));
		assert_int_equal(veil_dp_epsilon(bad_q[i], 1.0, 1, 1e-5, &eps, &o, &err), VEIL_E_INVALID);
		assert_int_equal(veil_dp_noise_for_epsilon(bad_q[i], 1, 1.0, 1e-5, &sigma, &err),
		                 VEIL_E_INVALID);
	}
	const double bad_sigma[] = {-1.0, -1e-300, nan, inf};
	for (int i = 0; i < 4; i++) {
		assert_int_equal(veil_dp_rdp(0.5, bad_sigma[i], 1, &order, 1, &rdp, &err), VEIL_E_INVALID);
		assert_non_null(strstr(err.msg, "noise multiplier"));
	}
	assert_int_equal(veil_dp_rdp(0.5, 1.0, VEIL_DP_STEPS_MAX + 1, &order, 1, &rdp, &err), VEIL_E_LIMIT);
	assert_int_equal(veil_dp_epsilon(0.5, 1.0, VEIL_DP_STEPS_MAX + 1, 1e-5, &eps, &o, &err),
	                 VEIL_E_LIMIT);
	/* orders */
	const double bad_orders[] = {0.5, 1.0 - 1e-12, nan, VEIL_DP_ORDER_MAX + 1, -inf};
	for (int i = 0; i < 5; i++) {
		assert_int_equal(veil_dp_rdp(0.5, 1.0, 1, &bad_orders[i], 1, &rdp, &err), VEIL_E_INVALID);
		assert_non_null(strstr(err.msg, "order"));
	}
	assert_int_equal(veil_dp_rdp(0.5, 1.0, 1, NULL, 1, &rdp, &err), VEIL_E_INVALID);
	assert_int_equal(veil_dp_rdp(0.5, 1.0, 1, &order, 0, &rdp, &err), VEIL_E_INVALID);
	assert_int_equal(veil_dp_rdp(0.5, 1.0, 1, &order, VEIL_DP_ORDERS_MAX + 1, &rdp, &err), VEIL_E_LIMIT);
	assert_int_equal(veil_dp_rdp(0.5, 1.0, 1, &order, 1, NULL, &err), VEIL_E_INVALID);
	const double one = 1.0;
	assert_int_equal(veil_dp_rdp(0.5, 1.0, 1, &one, 1, &rdp, &err), VEIL_E_INVALID);
	assert_non_null(strstr(err.msg, "order 1"));
	assert_true(rdp == -7);
	/* δ */
	const double bad_delta[] = {0.0, 1.0, -1e-5, 1.5, nan, inf};
	double r0 = 0.5;
	for (int i = 0; i < 6; i++) {
		assert_int_equal(veil_dp_epsilon(0.5, 1.0, 1, bad_delta[i], &eps, &o, &err), VEIL_E_INVALID);
		assert_non_null(strstr(err.msg, "delta"));
		assert_int_equal(veil_dp_rdp_to_epsilon(&order, &r0, 1, bad_delta[i], &eps, &o, &err),
		                 VEIL_E_INVALID);
		assert_int_equal(veil_dp_noise_for_epsilon(0.5, 1, 1.0, bad_delta[i], &sigma, &err),
		                 VEIL_E_INVALID);
	}
	/* RDP values, ε */
	const double bad_rdp[] = {-1e-9, nan};
	for (int i = 0; i < 2; i++) {
		assert_int_equal(veil_dp_rdp_to_epsilon(&order, &bad_rdp[i], 1, 1e-5, &eps, &o, &err),
		                 VEIL_E_INVALID);
		assert_int_equal(veil_dp_rdp_to_delta(&order, &bad_rdp[i], 1, 1.0, &delta, &o, &err),
		                 VEIL_E_INVALID);
	}
	const double bad_eps[] = {-1e-9, nan, inf};
	for (int i = 0; i < 3; i++) {
		assert_int_equal(veil_dp_rdp_to_delta(&order, &r0, 1, bad_eps[i], &delta, &o, &err),
		                 VEIL_E_INVALID);
		assert_int_equal(veil_dp_delta(0.5, 1.0, 1, bad_eps[i], &delta, &o, &err), VEIL_E_INVALID);
	}
	const double bad_target[] = {0.0, -1.0, nan, inf};
	for (int i = 0; i < 4; i++) {
		assert_int_equal(veil_dp_noise_for_epsilon(0.5, 1, bad_target[i], 1e-5, &sigma, &err),
		                 VEIL_E_INVALID);
		assert_non_null(strstr(err.msg, "target epsilon"));
	}
	assert_int_equal(veil_dp_noise_for_epsilon(0.5, VEIL_DP_STEPS_MAX + 1, 1.0, 1e-5, &sigma, &err),
	                 VEIL_E_LIMIT);
	/* No place for a result. */
	assert_int_equal(veil_dp_rdp_to_epsilon(&order, &r0, 1, 1e-5, NULL, &o, &err), VEIL_E_INVALID);
	assert_int_equal(veil_dp_rdp_to_delta(&order, &r0, 1, 1.0, NULL, &o, &err), VEIL_E_INVALID);
	assert_int_equal(veil_dp_epsilon(0.5, 1.0, 1, 1e-5, NULL, &o, &err), VEIL_E_INVALID);
	assert_int_equal(veil_dp_noise_for_epsilon(0.5, 1, 1.0, 1e-5, NULL, &err), VEIL_E_INVALID);
	uint64_t t = 0;
	assert_int_equal(veil_dp_plan(10, 1, 1, NULL, &t, &err), VEIL_E_INVALID);
	assert_int_equal(veil_dp_plan(10, 1, 1, &delta, NULL, &err), VEIL_E_INVALID);
	/* Nothing was written on any refusal. */
	assert_true(rdp == -7 && eps == -7 && delta == -7 && o == -7 && sigma == -7);
}

/* σ so small that 1/(2σ²) overflows, and huge σ: no NaN anywhere. */
static void test_extreme_sigma(void **state)
{
	double orders[VEIL_DP_DEFAULT_ORDERS_N], rdp[VEIL_DP_DEFAULT_ORDERS_N];
	veil_dp_default_orders(orders);
	veil_err err;
	const double sigmas[] = {1e-300, 1e-20, 1e-3, 1e6, 1e12};
	for (int s = 0; s < 5; s++) {
		assert_int_equal(veil_dp_rdp(0.01, sigmas[s], 1, orders, VEIL_DP_DEFAULT_ORDERS_N, rdp, &err),
		                 VEIL_OK);
		for (size_t i = 0; i < VEIL_DP_DEFAULT_ORDERS_N; i++)
			assert_false(isnan(rdp[i]));
	}
	assert_true(isinf(eps_of(0.01, 1e-300, 1, 1e-5, NULL)));
	assert_true(eps_of(0.01, 1e12, 1000, 1e-5, NULL) == 0.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_default_orders),
	        cmocka_unit_test(test_dp_accounting_rdp),
	        cmocka_unit_test(test_tf_privacy_vectors),
	        cmocka_unit_test(test_tf_example_privacy),
	        cmocka_unit_test(test_log_a_equals_mp),
	        cmocka_unit_test(test_frac_not_converged),
	        cmocka_unit_test(test_pure_dp),
	        cmocka_unit_test(test_gaussian_eps_delta),
	        cmocka_unit_test(test_delta_bounds_gaussian),
	        cmocka_unit_test(test_eps_delta_consistency),
	        cmocka_unit_test(test_edge_cases),
	        cmocka_unit_test(test_q1_is_gaussian),
	        cmocka_unit_test(test_monotone),
	        cmocka_unit_test(test_calibrate),
	        cmocka_unit_test(test_plan),
	        cmocka_unit_test(test_bad_inputs),
	        cmocka_unit_test(test_extreme_sigma),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
