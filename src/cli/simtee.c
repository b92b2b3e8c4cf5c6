/*
 * The workspace's simulated TEE (docs/attestation.md): one simulated
 * ARK -> ASK -> VCEK chain per workspace, made on first use. The
 * certificates are public and live in attest/sim/; the VCEK's private key
 * is stored only wrapped by the root key (keys.db, purpose
 * "attest-sim-<chain id>"). Nothing about it is secret from the host, so it
 * proves nothing about the machine: it exists so that the real
 * verification path runs where there is no TEE, and every command that
 * uses it says so.
 *
 * Made in a temporary folder, the key stored, then the folder renamed into
 * place: a crash leaves either no chain (made again next time, an orphaned
 * wrapped key behind) or a whole one.
 */
#include "cmds.h"
#include "simtee.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define SIM_DIR      "attest/sim"
#define SIM_KEY_SLOT 512 /* u16 length, the PKCS#8 key, zeros: one fixed-size secret */

static veil_status sim_path(const cli_ws *ws, const char *name, char out[4096], veil_err *err)
{
	return veil_fmt(out, 4096, err, "%s/%s%s%s", ws->dir, SIM_DIR, name[0] ? "/" : "", name);
}

static veil_status read_part(const char *dir, const char *name, size_t max, veil_buf *out, veil_err *err)
{
	char p[4096];
	veil_status st = veil_fmt(p, sizeof p, err, "%s/%s", dir, name);
	if (!st)
		st = veil_fs_read_file(p, max, out, err);
	if (st == VEIL_E_NOTFOUND)
		veil_err_hint(err, "the workspace's simulated TEE is incomplete; restore %s from a backup",
		              dir);
	return st;
}

static veil_status purpose_of(const char *id, char out[64], veil_err *err)
{
	return veil_fmt(out, 64, err, "attest-sim-%s", id);
}

static veil_status load(cli_ws *ws, const char *dir, veil_sim_chain *c, veil_err *err)
{
	veil_buf id = {0};
	char purpose[64];
	veil_status st;
	if ((st = read_part(dir, "chain-id", 64, &id, err)) ||
	    (st = read_part(dir, "vcek.der", VEIL_SNP_CERT_MAX, &c->vcek_der, err)) ||
	    (st = read_part(dir, "chain.pem", VEIL_SNP_CHAIN_MAX, &c->chain_pem, err)) ||
	    (st = read_part(dir, "ark.pem", VEIL_SNP_CHAIN_MAX, &c->ark_pem, err)))
		goto out;
	if (id.len != 16 ||
	    veil_fmt(purpose, sizeof purpose, err, "attest-sim-%.16s", (const char *)id.data)) {
		st = veil_err_set(err, VEIL_E_CORRUPT, "%s/chain-id is damaged", dir);
		goto out;
	}
	uint8_t *slot = veil_secure_alloc(SIM_KEY_SLOT);
	if (!slot) {
		st = veil_err_set(err, VEIL_E_NOMEM, "cannot allocate secure memory");
		goto out;
	}
	if (!(st = veil_kms_secret_get(ws->kms, purpose, slot, SIM_KEY_SLOT, err))) {
		size_t n = veil_get_be16(slot);
		if (n == 0 || n > SIM_KEY_SLOT - 2 || !(c->vcek_key = veil_secure_alloc(n))) {
			st = veil_err_set(err, VEIL_E_CORRUPT,
			                  "the simulated VCEK key in the key store is damaged");
		} else {
			memcpy(c->vcek_key, slot + 2, n);
			c->vcek_key_len = n;
		}
	}
	veil_secure_free(slot, SIM_KEY_SLOT);
out:
	veil_buf_free(&id);
	if (st)
		veil_sim_chain_free(c);
	return st;
}

static veil_status write_part(const char *dir, const char *name, const veil_buf *b, veil_err *err)
{
	char p[4096];
	veil_status st = veil_fmt(p, sizeof p, err, "%s/%s", dir, name);
	return st ? st : veil_fs_write_atomic(p, b->data, b->len, 0644, err);
}

static veil_status create(cli_ws *ws, const char *final, veil_err *err)
{
	uint8_t raw[8];
	char id[17], tmp[4096], purpose[64];
	veil_sim_chain c = {0};
	veil_status st = veil_random(raw, sizeof raw, err);
	if (st)
		return st;
	veil_hex_encode(raw, sizeof raw, id);
	veil_buf idb = {.data = (uint8_t *)id, .len = 16, .cap = 17};
	if ((st = veil_fmt(tmp, sizeof tmp, err, "%s.tmp-%s", final, id)) ||
	    (st = veil_fs_mkdirs(tmp, 0700, err)))
		return st;
	uint8_t *slot = veil_secure_alloc(SIM_KEY_SLOT);
	if (!slot)
		st = veil_err_set(err, VEIL_E_NOMEM, "cannot allocate secure memory");
	if (!st)
		st = veil_sim_chain_create(CLI_SIM_TCB, veil_time_now(), &c, err);
	if (!st && c.vcek_key_len > SIM_KEY_SLOT - 2)
		st = veil_err_set(err, VEIL_E_INTERNAL, "a simulated VCEK key of %zu bytes", c.vcek_key_len);
	if (!st && slot && !(st = write_part(tmp, "vcek.der", &c.vcek_der, err)) &&
	    !(st = write_part(tmp, "chain.pem", &c.chain_pem, err)) &&
	    !(st = write_part(tmp, "ark.pem", &c.ark_pem, err)) &&
	    !(st = write_part(tmp, "chain-id", &idb, err)) && !(st = purpose_of(id, purpose, err))) {
		veil_put_be16(slot, (uint16_t)c.vcek_key_len);
		memcpy(slot + 2, c.vcek_key, c.vcek_key_len);
		st = veil_kms_secret_put(ws->kms, purpose, slot, SIM_KEY_SLOT, err);
	}
	veil_secure_free(slot, SIM_KEY_SLOT);
	veil_sim_chain_free(&c);
	if (!st && rename(tmp, final) != 0)
		st = veil_err_errno(err, VEIL_E_IO, errno, "cannot move the simulated TEE into %s", final);
	if (st) {
		cli_remove_tree(tmp);
		return st;
	}
	json_t *detail = json_pack("{s:s}", "chain_id", id);
	return cli_audit(ws, "attest.sim.create", id, "ok", detail, err);
}

veil_status cli_sim_load(cli_ws *ws, veil_sim_chain *out, veil_err *err)
{
	memset(out, 0, sizeof *out);
	char dir[4096], parent[4096], lockp[4096];
	veil_status st;
	if ((st = sim_path(ws, "", dir, err)) ||
	    (st = veil_fmt(parent, sizeof parent, err, "%s/attest", ws->dir)) ||
	    (st = veil_fs_mkdirs(parent, 0700, err)) ||
	    (st = veil_fmt(lockp, sizeof lockp, err, "%s/attest/.sim.lock", ws->dir)))
		return st;
	/* Two commands using the simulated TEE for the first time at once
	 * must not make two chains: the second waits, then loads the first's. */
	int fd = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return veil_err_errno(err, VEIL_E_IO, errno, "cannot open %s", lockp);
	while (flock(fd, LOCK_EX) != 0 && errno == EINTR)
		;
	if (!veil_fs_exists(dir))
		st = create(ws, dir, err);
	if (!st)
		st = load(ws, dir, out, err);
	close(fd);
	return st;
}
