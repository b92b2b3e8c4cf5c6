/*
 * Fuzz target: training checkpoints (veil_trainer_load,
 * docs/formats/checkpoint.md). Byte 0 picks one of two set-ups, the rest is
 * the checkpoint:
 *   even: MLP 3-4-2 tanh, SGD momentum 0.9, patience 2, no DP;
 *   odd:  logistic regression on 3 inputs, Adam, cosine schedule, DP-SGD
 *         (σ 1, C 1);
 * both with 10 training rows, batch 4, 3 epochs, seed 7 (the same set-ups
 * tests/learn/test_engine.c writes the seed corpus with:
 * `VEIL_CKPT_CORPUS=fuzz/corpus/checkpoint build/tests/learn/test_engine`).
 * A checkpoint states its own SHA-256, which mutations break at once, so
 * bit 1 of byte 0 has the harness recompute it before loading: mutations
 * then reach every field check behind it, as a forger who can compute a
 * hash (anyone) would.
 *
 * Invariants (abort on violation):
 *  1. A failure is VEIL_E_CORRUPT, VEIL_E_INVALID or VEIL_E_UNSUPPORTED,
 *     with a message, and no trainer.
 *  2. A loaded trainer saves back to the input byte for byte, except the
 *     informative learning rate (bytes 120..127), which the writer
 *     recomputes, and so the checksum.
 *  3. A loaded trainer that is not done takes a step on the set-up's data
 *     that counts (or fails with VEIL_E_DIVERGED and changes nothing, when
 *     the loaded parameters are huge), and validates at an epoch end (or
 *     reports the divergence there).
 */
#include "fuzz.h"
#include "veil/learn.h"

#include <stdlib.h>
#include <string.h>

#define LR_OFF  120
#define SUM_LEN VEIL_SHA256_LEN

static void setup(int mode, veil_model_spec *s, veil_train_config *c)
{
	veil_model_spec_defaults(s);
	veil_train_config_defaults(c);
	s->inputs = 3;
	s->classes = 2;
	c->epochs = 3;
	c->batch_size = 4;
	c->seed = 7;
	if (mode == 0) {
		s->kind = VEIL_MODEL_MLP;
		s->n_hidden = 1;
		s->hidden[0] = 4;
		s->activation = VEIL_ACT_TANH;
		c->lr = 0.1f;
		c->momentum = 0.9f;
		c->patience = 2;
	} else {
		s->kind = VEIL_MODEL_LOGREG;
		c->lr = 0.05f;
		c->optimizer = VEIL_OPT_ADAM;
		c->schedule = VEIL_SCHED_COSINE;
		c->dp = true;
		c->noise_multiplier = 1.0;
		c->max_grad_norm = 1.0;
		for (size_t i = 0; i < VEIL_LEARN_DP_SEED_LEN; i++)
			c->dp_seed[i] = (uint8_t)(1 + i);
	}
}

static void data(float x[30], int32_t y[10])
{
	for (size_t r = 0; r < 10; r++) {
		y[r] = (int32_t)(r % 2);
		for (size_t k = 0; k < 3; k++)
			x[r * 3 + k] =
			        (float)((r % 2) ? 1.0 : -1.0) * (float)(k + 1) * 0.5f + (float)r * 0.01f;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	if (size < 1)
		return 0;
	int mode = in[0] & 1;
	bool reseal = (in[0] & 2) != 0;
	size_t len = size - 1;
	uint8_t *ck = malloc(len + 1);
	if (!ck)
		abort();
	memcpy(ck, in + 1, len);
	if (reseal && len >= SUM_LEN)
		FUZZ_CHECK(veil_sha256(ck, len - SUM_LEN, ck + len - SUM_LEN, NULL) == VEIL_OK,
		           "sha256 failed");

	veil_model_spec s;
	veil_train_config c;
	setup(mode, &s, &c);
	veil_trainer *t = NULL;
	veil_err err = {0};
	veil_status st = veil_trainer_load(&s, &c, 10, ck, len, &t, &err);
	fuzz_note("checkpoint", st, &err);
	if (st != VEIL_OK) {
		FUZZ_CHECK(st == VEIL_E_CORRUPT || st == VEIL_E_INVALID || st == VEIL_E_UNSUPPORTED,
		           "a failure other than corrupt, invalid or unsupported");
		FUZZ_CHECK(err.code == st && err.msg[0] != '\0', "a failure without a message");
		FUZZ_CHECK(t == NULL, "a failure that left a trainer");
		free(ck);
		return 0;
	}
	FUZZ_CHECK(t != NULL, "success without a trainer");

	veil_buf out = {0};
	FUZZ_CHECK(veil_trainer_save(t, &out, &err) == VEIL_OK, "a loaded trainer does not save");
	FUZZ_CHECK(out.len == len, "a loaded trainer saves to another length");
	FUZZ_CHECK(memcmp(out.data, ck, LR_OFF) == 0 &&
	                   memcmp(out.data + LR_OFF + 8, ck + LR_OFF + 8, len - LR_OFF - 8 - SUM_LEN) == 0,
	           "a loaded trainer saves to other bytes");

	uint64_t spe = veil_trainer_steps_per_epoch(t);
	FUZZ_CHECK(spe == 3, "steps per epoch of 10 rows in batches of 4 is not 3");
	float x[30];
	int32_t y[10];
	data(x, y);
	veil_matrix d = {.x = x, .y = y, .rows = 10, .cols = 3};
	if (!veil_trainer_done(t)) {
		veil_step_info info;
		uint64_t before = veil_trainer_steps_done(t);
		st = veil_trainer_step(t, &d, &info, &err);
		FUZZ_CHECK(st == VEIL_OK || st == VEIL_E_DIVERGED, "a loaded trainer cannot step");
		if (st == VEIL_OK) {
			FUZZ_CHECK(info.step == before + 1, "a step that did not count");
			if (info.epoch_end) {
				double l, a;
				st = veil_trainer_validate(t, &d, &l, &a, &err);
				FUZZ_CHECK(st == VEIL_OK || st == VEIL_E_DIVERGED,
				           "validation at an epoch end failed");
			}
		} else {
			FUZZ_CHECK(veil_trainer_steps_done(t) == before, "a diverged step that counted");
		}
	}
	veil_wipe(out.data, out.len);
	veil_buf_free(&out);
	veil_trainer_free(t);
	free(ck);
	return 0;
}
