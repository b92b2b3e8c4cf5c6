/* The subcommand entry points; the table in commands.c names them. */
#ifndef VEIL_CLI_CMDS_H
#define VEIL_CLI_CMDS_H
#include "cli.h"

int cmd_init(cli_global *g, int argc, char **argv);
int cmd_data_upload(cli_global *g, int argc, char **argv);
int cmd_data_download(cli_global *g, int argc, char **argv);
int cmd_data_list(cli_global *g, int argc, char **argv);
int cmd_data_inspect(cli_global *g, int argc, char **argv);
int cmd_key_create(cli_global *g, int argc, char **argv);
int cmd_key_list(cli_global *g, int argc, char **argv);
int cmd_key_rotate(cli_global *g, int argc, char **argv);
int cmd_key_retire(cli_global *g, int argc, char **argv);
int cmd_key_status(cli_global *g, int argc, char **argv);
int cmd_audit_log(cli_global *g, int argc, char **argv);
int cmd_audit_verify(cli_global *g, int argc, char **argv);
int cmd_audit_proof(cli_global *g, int argc, char **argv);
int cmd_audit_check_proof(cli_global *g, int argc, char **argv);
int cmd_backup(cli_global *g, int argc, char **argv);
int cmd_restore(cli_global *g, int argc, char **argv);
int cmd_gc(cli_global *g, int argc, char **argv);
int cmd_version(cli_global *g, int argc, char **argv);
int cmd_principal_create(cli_global *g, int argc, char **argv);
int cmd_principal_list(cli_global *g, int argc, char **argv);
int cmd_principal_disable(cli_global *g, int argc, char **argv);
int cmd_group_create(cli_global *g, int argc, char **argv);
int cmd_group_add(cli_global *g, int argc, char **argv);
int cmd_group_remove(cli_global *g, int argc, char **argv);
int cmd_group_list(cli_global *g, int argc, char **argv);
int cmd_token_issue(cli_global *g, int argc, char **argv);
int cmd_token_list(cli_global *g, int argc, char **argv);
int cmd_token_revoke(cli_global *g, int argc, char **argv);
int cmd_compartment_create(cli_global *g, int argc, char **argv);
int cmd_compartment_list(cli_global *g, int argc, char **argv);
int cmd_policy_apply(cli_global *g, int argc, char **argv);
int cmd_policy_list(cli_global *g, int argc, char **argv);
int cmd_policy_show(cli_global *g, int argc, char **argv);
int cmd_policy_explain(cli_global *g, int argc, char **argv);
int cmd_policy_operations(cli_global *g, int argc, char **argv);
int cmd_data_verify(cli_global *g, int argc, char **argv);
int cmd_data_validate(cli_global *g, int argc, char **argv);
int cmd_data_profile(cli_global *g, int argc, char **argv);
int cmd_data_report(cli_global *g, int argc, char **argv);
int cmd_data_compliance(cli_global *g, int argc, char **argv);
int cmd_features_build(cli_global *g, int argc, char **argv);
int cmd_train(cli_global *g, int argc, char **argv);
int cmd_data_budget_set(cli_global *g, int argc, char **argv);
int cmd_data_budget_show(cli_global *g, int argc, char **argv);
int cmd_model_list(cli_global *g, int argc, char **argv);
int cmd_model_inspect(cli_global *g, int argc, char **argv);
int cmd_model_compare(cli_global *g, int argc, char **argv);
int cmd_model_eval(cli_global *g, int argc, char **argv);
/* Authorizes verb on a model version (its model's owner, compartment and
 * classification), as model list|inspect|eval do (cmd_model.c). */
/* Prints a tuning report's trials as a table, the best one starred. */
void cli_trials_table(json_t *trials, long long best);
veil_status cli_authorize_model(cli_ws *ws, const veil_model_version *v, veil_verb verb,
                                veil_err *err) VEIL_MUST_CHECK;
int cmd_job_list(cli_global *g, int argc, char **argv);
int cmd_job_status(cli_global *g, int argc, char **argv);
int cmd_job_log(cli_global *g, int argc, char **argv);
/* (dp commands) */
int cmd_dp_epsilon(cli_global *g, int argc, char **argv);
int cmd_dp_noise(cli_global *g, int argc, char **argv);
int cmd_attest_measure(cli_global *g, int argc, char **argv);
int cmd_attest_verify(cli_global *g, int argc, char **argv);
int cmd_attest_evidence(cli_global *g, int argc, char **argv);
int cmd_attest_policy_check(cli_global *g, int argc, char **argv);
int cmd_attest_policy_set(cli_global *g, int argc, char **argv);
int cmd_attest_policy_show(cli_global *g, int argc, char **argv);

#endif
