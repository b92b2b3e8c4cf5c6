/*
 * Reports of the trusted worker (reports.c): running a report job, keeping
 * what it returns as a sealed envelope with the evidence that proves who
 * signed it (docs/formats/report-envelope.md), and checking such an
 * envelope later.
 */
#ifndef VEIL_CLI_REPORTS_H
#define VEIL_CLI_REPORTS_H

#include "hostworker.h"
#include "sealed.h"

/* Runs a job that answers with a signed report over dataset v: sends job
 * (built by the caller, JOB message), releases v's key (and the extra
 * keys, n_extra of them, e.g. a pseudonymisation key), streams v's object,
 * and receives the report. The report's signature is checked against the
 * session's attested signing key before anything else reads it; on
 * success report and sig hold them and w stays started (the caller stops
 * it). */
/* outputs (may be NULL) runs after the object was streamed and before the
 * report is read: a job that sends objects back (features) takes them
 * there. */
typedef veil_status (*cli_report_outputs_fn)(void *ctx, cli_ws *ws, cli_worker *w, veil_err *err);
veil_status cli_report_job(cli_ws *ws, cli_worker *w, const veil_proto_out *job,
                           const veil_dataset_version *v, const char *const *extra_ids, size_t n_extra,
                           cli_report_outputs_fn outputs, void *outputs_ctx, veil_buf *report,
                           uint8_t sig[static VEIL_PROTO_SIG_LEN], veil_err *err) VEIL_MUST_CHECK;

/* Parses a report the worker signed and checks that it describes v (its
 * dataset size and SHA-256, when it has a dataset section). On success the
 * caller owns *out. */
veil_status cli_report_parse(const veil_buf *report, const veil_dataset_version *v, json_t **out,
                             veil_err *err) VEIL_MUST_CHECK;

/* Seals a signed report with the session's evidence as an envelope
 * (docs/formats/report-envelope.md) under kek, into the store. On error
 * nothing is stored. */
veil_status cli_report_seal(cli_ws *ws, const cli_worker *w, const veil_buf *report,
                            const uint8_t sig[static VEIL_PROTO_SIG_LEN], const char *kek, cli_sealed *out,
                            veil_err *err) VEIL_MUST_CHECK;
/* Opens a sealed envelope and parses it and the report inside; checks
 * nothing else (cli_report_verify_envelope does). The caller owns both. */
veil_status cli_report_open_sealed(cli_ws *ws, const char *object_id, const char *dek_id, const char *sha256,
                                   json_t **envelope, json_t **report, veil_err *err) VEIL_MUST_CHECK;

/* Keeps a report: the envelope (report, signature, signing key, evidence)
 * sealed under v's key encryption key, and in one audited catalog
 * transaction the report record (kind, verdict, summary), the version's
 * "pii:" tags, the dataset's classification raised to the report's, and
 * the lineage edge report -> dataset version with the worker's
 * measurement. action names the audit event ("data.validate"). On error
 * nothing is kept. rec is filled in. */
/* made (may be NULL) runs first inside the transaction and records what
 * the job made (features: the output versions); it sets *described to the
 * version the report is kept for (default: v), and may add audit events
 * to `events` (an array of {action, resource, detail}), which are appended
 * only when the whole transaction is about to commit. */
typedef veil_status (*cli_report_made_fn)(void *ctx, const cli_worker *w,
                                          const veil_dataset_version **described, json_t *events,
                                          veil_err *err);
veil_status cli_report_keep(cli_ws *ws, const cli_worker *w, const veil_dataset_version *v, const char *kind,
                            const char *action, const veil_buf *report,
                            const uint8_t sig[static VEIL_PROTO_SIG_LEN], json_t *parsed,
                            cli_report_made_fn made, void *made_ctx, veil_report_record *rec,
                            veil_err *err) VEIL_MUST_CHECK;

/* Opens the sealed envelope of a report record and checks that the signed
 * report inside is of the record's kind and describes version v (its
 * dataset, or for features its output, by size and SHA-256): a catalog row
 * pointed at another report is VEIL_E_CORRUPT. With verify, the envelope
 * is also checked as cli_report_verify_envelope does. On success the caller
 * owns *envelope and *report. */
veil_status cli_report_open(cli_ws *ws, const veil_report_record *rec, const veil_dataset_version *v,
                            bool verify, json_t **envelope, json_t **report, veil_attest_claims *claims,
                            veil_err *err) VEIL_MUST_CHECK;

/* Checks an envelope on its own: the signature over the report with the
 * key it names, the evidence (verified to its root, the workspace's
 * simulated chain for sim) binding that key, and the report's measurement
 * against the evidence's. claims gets what the evidence says. */
veil_status cli_report_verify_envelope(cli_ws *ws, json_t *envelope, veil_attest_claims *claims,
                                       veil_err *err) VEIL_MUST_CHECK;

#endif
