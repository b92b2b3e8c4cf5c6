/*
 * The privacy accountant of DP-SGD (layer 4, learn): Rényi differential
 * privacy (RDP) of the Poisson-subsampled Gaussian mechanism, its
 * conversion to (ε, δ)-DP, and the calibration of the noise multiplier σ
 * for a target ε (docs/privacy.md).
 *
 * One DP-SGD step samples each example independently with probability q,
 * clips each sampled example's gradient to L2 norm C and adds Gaussian
 * noise of standard deviation σ·C to the sum. Its RDP at order α follows
 * Mironov, Talwar and Zhang, "Rényi Differential Privacy of the Sampled
 * Gaussian Mechanism" (2019, arXiv:1908.10530); T steps compose by adding
 * their RDP. The numbers match Google's dp_accounting library
 * (rdp_privacy_accountant.py) for the add-or-remove-one relation: its
 * default orders, its series for integer and fractional orders with the
 * same stopping rule, and its RDP → (ε, δ) conversion. Where they differ,
 * the function's comment says so.
 *
 * Everything here is pure computation: no allocation, no state, safe to
 * call from any thread. Every input is checked (finite, in range); a bad
 * one is VEIL_E_INVALID naming the argument, and outputs are then left
 * unchanged.
 */
#ifndef VEIL_LEARN_DP_H
#define VEIL_LEARN_DP_H

#include "veil/base.h"

/* dp_accounting's DEFAULT_RDP_ORDERS: 1 + x/10 for x = 1..99 (1.1 ... 10.9),
 * the integers 11..63, then 128, 256, 512, 1024. */
#define VEIL_DP_DEFAULT_ORDERS_N 156
/* Bounds on what a caller may ask for: orders in one call, the largest
 * finite order (an integer order α costs α+1 terms), steps, and σ. */
#define VEIL_DP_ORDERS_MAX 100000
#define VEIL_DP_ORDER_MAX  10000.0
#define VEIL_DP_STEPS_MAX  UINT64_C(1000000000000) /* 10^12 */
#define VEIL_DP_SIGMA_MAX  1e12
/* Calibration stops when the bracket around σ is this narrow, relative. */
#define VEIL_DP_SIGMA_RTOL 1e-6

/* Writes the default orders, ascending, computed as dp_accounting
 * computes them (1.0 + x / 10.0 in double), so that they are the very
 * same doubles. */
void veil_dp_default_orders(double out[static VEIL_DP_DEFAULT_ORDERS_N]);

/* RDP of `steps` steps of the Poisson-subsampled Gaussian mechanism with
 * sampling rate q ∈ [0, 1] and noise multiplier σ ≥ 0, at each of the n
 * orders (each ≥ 1, at most VEIL_DP_ORDER_MAX, or +INFINITY), into
 * rdp_out[0..n). Per order, as dp_accounting:
 *   q = 0                 → 0 (nothing is ever sampled; even at α = ∞)
 *   α = ∞ or σ = 0        → +∞
 *   q = 1                 → α / (2σ²) (the unsampled Gaussian)
 *   0 < q < 1, α integer  → log(A_α)/(α − 1), the exact binomial sum
 *   0 < q < 1, α fraction → log(A_α)/(α − 1), the two-sided series; +∞
 *                           for an order whose series has not converged
 *                           after 1000 terms (dp_accounting does the same:
 *                           the order then drops out of the minimum)
 * then times steps. Differences: steps = 0 gives 0 at every order (no
 * release; dp_accounting would give 0·∞ = NaN at α = ∞ or σ = 0); order 1
 * with 0 < q < 1 and σ > 0 is refused (the formula is 0/0 there). */
veil_status veil_dp_rdp(double q, double sigma, uint64_t steps, const double *orders, size_t n,
                        double *rdp_out, veil_err *err) VEIL_MUST_CHECK;

/* The smallest ε over the orders for which the RDP curve gives (ε, δ)-DP,
 * δ ∈ (0, 1), and the order that gives it (the first one on a tie). Per
 * order α with RDP r, as dp_accounting's compute_epsilon:
 *   δ² + expm1(−r) > 0  → 0    (the KL bound δ ≤ sqrt(1 − e^−r) already holds)
 *   α > 1.01            → r + log1p(−1/α) − log(δ·α)/(α − 1)
 *                         (Canonne, Kamath, Steinke 2020, Prop. 12)
 *   otherwise           → +∞
 * and *eps = max(0, the minimum). Difference: at α = ∞ the bound is its
 * limit, r (dp_accounting computes ∞/∞ = NaN there). rdp values must be
 * ≥ 0 and not NaN; +∞ is allowed. *eps is +∞ when no order bounds it. */
veil_status veil_dp_rdp_to_epsilon(const double *orders, const double *rdp, size_t n, double delta,
                                   double *eps, double *best_order, veil_err *err) VEIL_MUST_CHECK;

/* The inverse: the smallest δ for a given ε ≥ 0, as dp_accounting's
 * compute_delta: per order log δ = min(½·log1p(−e^−r) (the KL bound),
 * and for α > 1.01: (α − 1)(r − ε + log1p(−1/α)) − log α), minimised over
 * the orders, *delta = min(1, e^that). At α = ∞: δ = 0 when r ≤ ε. */
veil_status veil_dp_rdp_to_delta(const double *orders, const double *rdp, size_t n, double eps, double *delta,
                                 double *best_order, veil_err *err) VEIL_MUST_CHECK;

/* ε of `steps` steps with sampling rate q and noise multiplier σ at δ,
 * over the default orders: veil_dp_rdp, then veil_dp_rdp_to_epsilon.
 * *eps is +∞ for σ = 0 with q > 0 (no privacy at all). */
veil_status veil_dp_epsilon(double q, double sigma, uint64_t steps, double delta, double *eps,
                            double *best_order, veil_err *err) VEIL_MUST_CHECK;
/* δ for a given ε ≥ 0, over the default orders. */
veil_status veil_dp_delta(double q, double sigma, uint64_t steps, double eps, double *delta,
                          double *best_order, veil_err *err) VEIL_MUST_CHECK;

/* The smallest noise multiplier σ (within VEIL_DP_SIGMA_RTOL, relative)
 * whose ε at δ over the default orders is ≤ target_eps (> 0): σ doubles
 * from 1 (or halves) until it brackets the target, then bisection. The
 * result's ε is ≤ target_eps by construction (only a σ that met the
 * target is ever returned), and ε at σ·(1 − VEIL_DP_SIGMA_RTOL) is above
 * it. q = 0 or steps = 0 need no noise: *sigma = 0. A target that no
 * σ ≤ VEIL_DP_SIGMA_MAX reaches is VEIL_E_INVALID with a hint. */
veil_status veil_dp_noise_for_epsilon(double q, uint64_t steps, double target_eps, double delta,
                                      double *sigma, veil_err *err) VEIL_MUST_CHECK;

/* What DP-SGD in veil runs for a data set of dataset_size rows, an
 * expected batch of batch_size (1 ≤ batch_size ≤ dataset_size) and
 * `epochs` ≥ 1 epochs: *q = batch_size / dataset_size (each step samples
 * each row independently with that probability) and
 * *steps = epochs · ceil(dataset_size / batch_size), the trainer's steps
 * per epoch (veil/learn.h) times the epochs. That equals TF Privacy's
 * ceil(epochs · n / batch) (compute_dp_sgd_privacy) whenever batch_size
 * divides dataset_size, and is larger otherwise: the accountant counts
 * every step the trainer takes. Steps above VEIL_DP_STEPS_MAX are
 * VEIL_E_LIMIT. */
veil_status veil_dp_plan(uint64_t dataset_size, uint64_t batch_size, uint64_t epochs, double *q,
                         uint64_t *steps, veil_err *err) VEIL_MUST_CHECK;

#endif
