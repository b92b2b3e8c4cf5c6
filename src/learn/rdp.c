/*
 * The RDP accountant of DP-SGD (veil/learn_dp.h, docs/privacy.md): Rényi
 * differential privacy of the Poisson-subsampled Gaussian mechanism, its
 * conversion to (ε, δ), and the calibration of σ for a target ε.
 *
 * The mathematics is that of Mironov, Talwar and Zhang, "Rényi
 * Differential Privacy of the Sampled Gaussian Mechanism" (2019,
 * arXiv:1908.10530). With μ0 = N(0, σ²), μ1 = N(1, σ²) and the mixture
 * μ = (1−q)·μ0 + q·μ1, one step's RDP at order α is log(A_α)/(α−1) with
 *
 *   A_α = E_{z~μ0}[(μ(z)/μ0(z))^α] = E_{z~μ0}[(1 − q + q·e^{(2z−1)/(2σ²)})^α]
 *
 * (their Sec. 3; for add-or-remove-one neighbours this is the larger of
 * the two directions, their Theorem 5). Integer α expands the power with
 * the binomial theorem (Sec. 3.2); fractional α splits the integral where
 * the two summands are equal and expands each side in a convergent series
 * (Sec. 3.3). The numbers are meant to be the ones Google's dp_accounting
 * library prints (rdp_privacy_accountant.py), so the choices it makes —
 * series, stopping rule, order set, conversion — are made the same way
 * here; each is said where it is made. Sums are kept in log space and in
 * long double, so that terms as small as e^-10000 neither underflow nor
 * lose the digits the result needs.
 */
#include "veil/learn_dp.h"

#include <float.h>
#include <math.h>

typedef long double ld;

/* dp_accounting gives up on a fractional order after this many terms of
 * each series, and leaves the order out of the minimum (RDP +∞). */
#define FRAC_TERMS_MAX 1000
/* ... and stops once both series' terms are falling and the newest is
 * below e^-30 of the total: the rest cannot move the result's digits. */
#define FRAC_STOP_NATS 30.0L
/* Above this, erfc(x) is computed from its asymptotic series: erfc(25)
 * is ~1e-274, still a normal double, so both branches are accurate. */
#define ERFC_ASYMPTOTIC_FROM 25.0L

/* log(e^a + e^b), exact when one side is 0 (−∞) or the sum is +∞. */
static ld log_add(ld a, ld b)
{
	if (a == -INFINITY)
		return b;
	if (b == -INFINITY)
		return a;
	if (a == INFINITY || b == INFINITY)
		return INFINITY;
	ld hi = a > b ? a : b, lo = a > b ? b : a;
	return hi + log1pl(expl(lo - hi));
}

/* log(erfc(x)), accurate where erfc(x) itself underflows. For large x,
 * erfc(x) = e^{−x²}/(x·√π) · Σ_n (−1)^n (2n−1)!!/(2x²)^n; at x ≥ 25 the
 * twelfth term is below 1e-25 of the first. */
static ld log_erfc(ld x)
{
	if (x < ERFC_ASYMPTOTIC_FROM)
		return logl(erfcl(x));
	ld t = 1.0L / (2.0L * x * x), term = 1.0L, sum = 1.0L;
	for (int n = 1; n <= 12; n++) {
		term *= -(ld)(2 * n - 1) * t;
		sum += term;
	}
	return -x * x - logl(x) - 0.5L * logl(acosl(-1.0L)) + logl(sum);
}

/* (k² − k)/(2σ²), with k² − k = 0 giving 0 even when 1/(2σ²) is +∞ (a σ
 * so small its square underflows), where 0·∞ would be NaN. */
static ld gauss_exp(ld k, ld inv_2s2)
{
	ld kk = k * k - k;
	return kk == 0.0L ? 0.0L : kk * inv_2s2;
}

/* Integer α ≥ 2 (Sec. 3.2): A_α = Σ_{i=0..α} C(α,i) q^i (1−q)^{α−i} e^{(i²−i)/(2σ²)},
 * every term positive. log C(α,i) is carried from one term to the next
 * (C(α,i+1) = C(α,i)·(α−i)/(i+1)), which needs no lgamma. */
static ld log_a_int(ld q, ld inv_2s2, unsigned long alpha)
{
	ld log_a = -INFINITY, lq = logl(q), l1q = log1pl(-q), lc = 0.0L;
	for (unsigned long i = 0; i <= alpha; i++) {
		ld s = lc + (ld)i * lq + (ld)(alpha - i) * l1q + gauss_exp((ld)i, inv_2s2);
		log_a = log_add(log_a, s);
		if (i < alpha)
			lc += logl((ld)(alpha - i)) - logl((ld)(i + 1));
	}
	return log_a;
}

/* Fractional α (Sec. 3.3). Split the expectation at z0, where
 * q·e^{(2z0−1)/(2σ²)} = 1 − q, i.e. z0 = σ²·log((1−q)/q) + ½. Below z0
 * expand the power in the small summand, above it in the other; each
 * term's Gaussian integral over the half line is an erfc:
 *   A0 = Σ_i C(α,i) q^i (1−q)^{α−i} e^{(i²−i)/(2σ²)} · ½erfc((i − z0)/(√2σ))
 *   A1 = Σ_i C(α,i) q^{α−i} (1−q)^i e^{(j²−j)/(2σ²)} · ½erfc((z0 − j)/(√2σ)),  j = α − i
 * For i > α the generalised binomials alternate in sign. Like
 * dp_accounting, we add their magnitudes: that can only raise A_α, so an
 * ε computed from it errs on the safe side, and those terms carry q^i, so
 * the excess is far below the digits reported. The one way below the
 * true value is the tail the stopping rule drops, under e^-30 of A_α.
 * Returns +∞ when the series has not met the stopping rule after
 * FRAC_TERMS_MAX terms. */
static ld log_a_frac(ld q, ld sigma, ld inv_2s2, ld alpha)
{
	ld lq = logl(q), l1q = log1pl(-q), lhalf = logl(0.5L);
	ld z0 = sigma * sigma * (l1q - lq) + 0.5L, scale = sqrtl(2.0L) * sigma;
	ld a0 = -INFINITY, a1 = -INFINITY, last0 = -INFINITY, last1 = -INFINITY, lc = 0.0L;
	for (int k = 0; k < FRAC_TERMS_MAX; k++) {
		ld i = (ld)k, j = alpha - i;
		ld s0 = lc + i * lq + j * l1q + gauss_exp(i, inv_2s2) + lhalf + log_erfc((i - z0) / scale);
		ld s1 = lc + j * lq + i * l1q + gauss_exp(j, inv_2s2) + lhalf + log_erfc((z0 - j) / scale);
		a0 = log_add(a0, s0);
		a1 = log_add(a1, s1);
		ld total = log_add(a0, a1);
		if (s0 < last0 && s1 < last1 && fmaxl(s0, s1) < total - FRAC_STOP_NATS)
			return total;
		last0 = s0;
		last1 = s1;
		lc += logl(fabsl(alpha - i)) - logl(i + 1.0L);
	}
	return INFINITY;
}

static bool is_integer(double a)
{
	return isfinite(a) && a == floor(a);
}

/* One step's RDP at order alpha (0 < q < 1, σ > 0, 1 < α ≤ ORDER_MAX). */
static ld rdp_step(ld q, ld sigma, double alpha)
{
	ld inv_2s2 = 1.0L / (2.0L * sigma * sigma);
	ld log_a = is_integer(alpha) ? log_a_int(q, inv_2s2, (unsigned long)alpha)
	                             : log_a_frac(q, sigma, inv_2s2, (ld)alpha);
	return log_a / ((ld)alpha - 1.0L);
}

static veil_status check_out(const void *out, veil_err *err)
{
	return out ? VEIL_OK : veil_err_set(err, VEIL_E_INVALID, "no place for the result");
}

static veil_status check_q_sigma(double q, double sigma, veil_err *err)
{
	if (!isfinite(q) || q < 0.0 || q > 1.0)
		return veil_err_set(err, VEIL_E_INVALID, "the sampling rate q must be a number from 0 to 1");
	if (!isfinite(sigma) || sigma < 0.0)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "the noise multiplier sigma must be a finite number >= 0");
	return VEIL_OK;
}

static veil_status check_steps(uint64_t steps, veil_err *err)
{
	if (steps > VEIL_DP_STEPS_MAX)
		return veil_err_set(err, VEIL_E_LIMIT, "%llu steps: at most %llu are supported",
		                    (unsigned long long)steps, (unsigned long long)VEIL_DP_STEPS_MAX);
	return VEIL_OK;
}

static veil_status check_delta(double delta, veil_err *err)
{
	if (!isfinite(delta) || delta <= 0.0 || delta >= 1.0)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "delta must be a number between 0 and 1 (exclusive)");
	return VEIL_OK;
}

static veil_status check_orders(const double *orders, size_t n, veil_err *err)
{
	if (!orders || n == 0)
		return veil_err_set(err, VEIL_E_INVALID, "no RDP orders given");
	if (n > VEIL_DP_ORDERS_MAX)
		return veil_err_set(err, VEIL_E_LIMIT, "%zu RDP orders: at most %d are supported", n,
		                    VEIL_DP_ORDERS_MAX);
	for (size_t i = 0; i < n; i++) {
		double a = orders[i];
		if (isnan(a) || a < 1.0 || (isfinite(a) && a > VEIL_DP_ORDER_MAX))
			return veil_err_set(err, VEIL_E_INVALID,
			                    "RDP order %zu must be from 1 to %g, or infinite", i + 1,
			                    VEIL_DP_ORDER_MAX);
	}
	return VEIL_OK;
}

void veil_dp_default_orders(double out[static VEIL_DP_DEFAULT_ORDERS_N])
{
	size_t k = 0;
	/* As dp_accounting writes them, so that they are the same doubles. */
	for (int x = 1; x < 100; x++)
		out[k++] = 1.0 + x / 10.0;
	for (int a = 11; a < 64; a++)
		out[k++] = a;
	for (int a = 128; a <= 1024; a *= 2)
		out[k++] = a;
}

veil_status veil_dp_rdp(double q, double sigma, uint64_t steps, const double *orders, size_t n,
                        double *rdp_out, veil_err *err)
{
	veil_status st;
	if ((st = check_q_sigma(q, sigma, err)) || (st = check_steps(steps, err)) ||
	    (st = check_orders(orders, n, err)))
		return st;
	if (!rdp_out)
		return veil_err_set(err, VEIL_E_INVALID, "no room for the RDP values");
	for (size_t i = 0; i < n; i++)
		if (orders[i] == 1.0 && q > 0.0 && q < 1.0 && sigma > 0.0)
			return veil_err_set(
			        err, VEIL_E_INVALID,
			        "RDP order 1 is not supported for a sampling rate between 0 and 1: "
			        "use orders above 1");
	/* Every input was checked above, before the first write. */
	for (size_t i = 0; i < n; i++) {
		double a = orders[i];
		ld r;
		if (q == 0.0 || steps == 0)
			r = 0.0L; /* nothing sampled, or nothing released */
		else if (isinf(a) || sigma == 0.0)
			r = INFINITY;
		else if (q == 1.0)
			r = (ld)a / (2.0L * (ld)sigma * (ld)sigma);
		else
			r = rdp_step((ld)q, (ld)sigma, a);
		if (isnan(r))
			return veil_err_set(err, VEIL_E_INTERNAL,
			                    "the RDP at order %g came out NaN (q %g, sigma %g)", a, q, sigma);
		/* A divergence is ≥ 0; a rounding below that means 0. */
		if (r < 0.0L)
			r = 0.0L;
		rdp_out[i] = (double)(r * (ld)steps);
	}
	return VEIL_OK;
}

static veil_status check_rdp(const double *rdp, size_t n, veil_err *err)
{
	if (!rdp)
		return veil_err_set(err, VEIL_E_INVALID, "no RDP values given");
	for (size_t i = 0; i < n; i++)
		if (isnan(rdp[i]) || rdp[i] < 0.0)
			return veil_err_set(err, VEIL_E_INVALID, "RDP value %zu must be >= 0", i + 1);
	return VEIL_OK;
}

/* ε at one order (Canonne, Kamath, Steinke 2020, "The Discrete Gaussian
 * for Differential Privacy", Prop. 12; also Asoodeh et al. 2020, eq. 20),
 * with dp_accounting's cases and order of tests. */
static double eps_at_order(double a, double r, double delta)
{
	if (delta * delta + expm1(-r) > 0.0)
		return 0.0; /* δ ≥ sqrt(1 − e^−KL) ≥ the total variation: any ε works */
	if (isinf(a))
		return r; /* the limit of the bound below as α → ∞: pure ε-DP */
	if (a > 1.01)     /* the bound is numerically unstable as α → 1, and useless there */
		return r + log1p(-1.0 / a) - log(delta * a) / (a - 1.0);
	return INFINITY;
}

veil_status veil_dp_rdp_to_epsilon(const double *orders, const double *rdp, size_t n, double delta,
                                   double *eps, double *best_order, veil_err *err)
{
	veil_status st;
	if ((st = check_orders(orders, n, err)) || (st = check_rdp(rdp, n, err)) ||
	    (st = check_delta(delta, err)) || (st = check_out(eps, err)))
		return st;
	size_t best = 0;
	double best_eps = INFINITY;
	for (size_t i = 0; i < n; i++) {
		double e = eps_at_order(orders[i], rdp[i], delta);
		if (i == 0 || e < best_eps) { /* the first order on a tie, as numpy's argmin */
			best = i;
			best_eps = e;
		}
	}
	*eps = best_eps > 0.0 ? best_eps : 0.0;
	if (best_order)
		*best_order = orders[best];
	return VEIL_OK;
}

/* log δ at one order: the KL bound, and for α > 1.01 the bound of Prop. 12
 * solved for δ. */
static double log_delta_at_order(double a, double r, double eps)
{
	double ld_ = r == 0.0 ? -INFINITY : 0.5 * log1p(-exp(-r));
	if (isinf(a))
		return r <= eps ? -INFINITY : ld_; /* D_∞ ≤ ε is pure ε-DP: δ = 0 */
	if (a > 1.01) {
		double bound = (a - 1.0) * (r - eps + log1p(-1.0 / a)) - log(a);
		if (bound < ld_)
			ld_ = bound;
	}
	return ld_;
}

veil_status veil_dp_rdp_to_delta(const double *orders, const double *rdp, size_t n, double eps, double *delta,
                                 double *best_order, veil_err *err)
{
	veil_status st;
	if ((st = check_orders(orders, n, err)) || (st = check_rdp(rdp, n, err)) ||
	    (st = check_out(delta, err)))
		return st;
	if (!isfinite(eps) || eps < 0.0)
		return veil_err_set(err, VEIL_E_INVALID, "epsilon must be a finite number >= 0");
	size_t best = 0;
	double best_ld = INFINITY;
	for (size_t i = 0; i < n; i++) {
		double l = log_delta_at_order(orders[i], rdp[i], eps);
		if (i == 0 || l < best_ld) {
			best = i;
			best_ld = l;
		}
	}
	double d = exp(best_ld);
	*delta = d < 1.0 ? d : 1.0;
	if (best_order)
		*best_order = orders[best];
	return VEIL_OK;
}

veil_status veil_dp_epsilon(double q, double sigma, uint64_t steps, double delta, double *eps,
                            double *best_order, veil_err *err)
{
	double orders[VEIL_DP_DEFAULT_ORDERS_N], rdp[VEIL_DP_DEFAULT_ORDERS_N] = {0};
	veil_dp_default_orders(orders);
	veil_status st = check_delta(delta, err);
	if (st || (st = veil_dp_rdp(q, sigma, steps, orders, VEIL_DP_DEFAULT_ORDERS_N, rdp, err)))
		return st;
	return veil_dp_rdp_to_epsilon(orders, rdp, VEIL_DP_DEFAULT_ORDERS_N, delta, eps, best_order, err);
}

veil_status veil_dp_delta(double q, double sigma, uint64_t steps, double eps, double *delta,
                          double *best_order, veil_err *err)
{
	double orders[VEIL_DP_DEFAULT_ORDERS_N], rdp[VEIL_DP_DEFAULT_ORDERS_N] = {0};
	veil_dp_default_orders(orders);
	veil_status st = veil_dp_rdp(q, sigma, steps, orders, VEIL_DP_DEFAULT_ORDERS_N, rdp, err);
	if (st)
		return st;
	return veil_dp_rdp_to_delta(orders, rdp, VEIL_DP_DEFAULT_ORDERS_N, eps, delta, best_order, err);
}

/* Whether σ meets the target; inputs were checked by the caller. */
static veil_status meets(double q, double sigma, uint64_t steps, double target, double delta, bool *ok,
                         veil_err *err)
{
	double eps = INFINITY;
	veil_status st = veil_dp_epsilon(q, sigma, steps, delta, &eps, NULL, err);
	*ok = st == VEIL_OK && eps <= target;
	return st;
}

veil_status veil_dp_noise_for_epsilon(double q, uint64_t steps, double target_eps, double delta,
                                      double *sigma, veil_err *err)
{
	veil_status st;
	if ((st = check_q_sigma(q, 0.0, err)) || (st = check_steps(steps, err)) ||
	    (st = check_delta(delta, err)) || (st = check_out(sigma, err)))
		return st;
	if (!isfinite(target_eps) || target_eps <= 0.0)
		return veil_err_set(err, VEIL_E_INVALID, "the target epsilon must be a finite number > 0");
	if (q == 0.0 || steps == 0) {
		*sigma = 0.0; /* nothing is released: no noise is needed */
		return VEIL_OK;
	}
	/* Bracket: lo fails the target (ε(0) = ∞ fails any), hi meets it. */
	double lo = 0.0, hi = 1.0;
	bool ok;
	if ((st = meets(q, hi, steps, target_eps, delta, &ok, err)))
		return st;
	if (ok) {
		/* Halve towards 0 until a σ fails; below 1e-6 the noise is no
		 * noise at all and that σ is the answer. */
		while (hi > 1e-6) {
			double mid = hi / 2.0;
			if ((st = meets(q, mid, steps, target_eps, delta, &ok, err)))
				return st;
			if (!ok) {
				lo = mid;
				break;
			}
			hi = mid;
		}
		if (lo == 0.0) {
			*sigma = hi; /* even σ ≤ 1e-6 meets the target */
			return VEIL_OK;
		}
	} else {
		for (;;) {
			lo = hi;
			hi *= 2.0;
			if (hi > VEIL_DP_SIGMA_MAX) {
				veil_err_set(err, VEIL_E_INVALID,
				             "no noise multiplier up to %g reaches epsilon %g at delta %g "
				             "over %llu steps",
				             VEIL_DP_SIGMA_MAX, target_eps, delta, (unsigned long long)steps);
				return veil_err_hint(err,
				                     "raise the target epsilon or delta, or train for fewer "
				                     "steps or with a lower sampling rate");
			}
			if ((st = meets(q, hi, steps, target_eps, delta, &ok, err)))
				return st;
			if (ok)
				break;
		}
	}
	/* Bisect, keeping the invariant: lo fails, hi meets. From a bracket
	 * [σ, 2σ] about 20 halvings reach the tolerance; the cap is a guard. */
	for (int it = 0; it < 200 && hi - lo > VEIL_DP_SIGMA_RTOL * hi; it++) {
		double mid = lo + (hi - lo) / 2.0;
		if ((st = meets(q, mid, steps, target_eps, delta, &ok, err)))
			return st;
		if (ok)
			hi = mid;
		else
			lo = mid;
	}
	*sigma = hi;
	return VEIL_OK;
}

veil_status veil_dp_plan(uint64_t dataset_size, uint64_t batch_size, uint64_t epochs, double *q,
                         uint64_t *steps, veil_err *err)
{
	veil_status st;
	if ((st = check_out(q, err)) || (st = check_out(steps, err)))
		return st;
	/* 2^53: q = batch/n is then a quotient of two exact doubles. */
	if (dataset_size == 0 || dataset_size > (UINT64_C(1) << 53))
		return veil_err_set(err, VEIL_E_INVALID, "the data set size must be from 1 to 2^53 rows");
	if (batch_size == 0 || batch_size > dataset_size)
		return veil_err_set(err, VEIL_E_INVALID,
		                    "the batch size must be from 1 to the data set size (%llu)",
		                    (unsigned long long)dataset_size);
	if (epochs == 0)
		return veil_err_set(err, VEIL_E_INVALID, "epochs must be at least 1");
	uint64_t per_epoch = dataset_size / batch_size + (dataset_size % batch_size != 0);
	if (epochs > VEIL_DP_STEPS_MAX / per_epoch) {
		veil_err_set(err, VEIL_E_LIMIT, "%llu epochs of %llu steps: more than %llu steps",
		             (unsigned long long)epochs, (unsigned long long)per_epoch,
		             (unsigned long long)VEIL_DP_STEPS_MAX);
		return veil_err_hint(err, "train for fewer epochs or with larger batches");
	}
	*q = (double)batch_size / (double)dataset_size;
	*steps = epochs * per_epoch;
	return VEIL_OK;
}
