/*
 * The command table: name, entry point, one-line summary and full help.
 * Dispatch and help both read this table, so they cannot disagree.
 */
#include "cmds.h"

#define COMMON_HELP                                                                                          \
	"\nCommon options:\n"                                                                                \
	"  -W, --workspace DIR  the workspace (default: $VEIL_WORKSPACE, else the current\n"                 \
	"                       folder or the nearest parent that holds veil.yaml)\n"                        \
	"  -q, --quiet          print only errors\n"                                                         \
	"      --token TOKEN    the API token to act with (default: $VEIL_TOKEN)\n"                          \
	"  -h, --help           show this help\n"

/* Commands that run without a workspace or a principal. */
#define NO_WORKSPACE                                                                                         \
	{                                                                                                    \
		{                                                                                            \
			0, NULL                                                                              \
		}                                                                                            \
	}

#define TOKEN_HELP                                                                                           \
	"\nEvery command in a workspace acts as a principal: its API token comes from\n"                     \
	"--token, $VEIL_TOKEN or the file named by $VEIL_TOKEN_FILE.\n"

#define SECRET_HELP                                                                                          \
	"\nThe root key's passphrase comes from $VEIL_PASSPHRASE, from the file named by\n"                  \
	"$VEIL_PASSPHRASE_FILE, or from a prompt; a PKCS#11 PIN from $VEIL_PKCS11_PIN,\n"                    \
	"$VEIL_PKCS11_PIN_FILE or a prompt.\n"

const cli_command cli_commands[] = {
        {"init", cmd_init, "create a workspace",
         "usage: veil init [DIR] [options]\n\n"
         "Creates a workspace in DIR (default: the current folder), which must be\n"
         "empty or not exist: veil.yaml, the catalog, the object folder, the key store\n"
         "with a new root key, and the audit log with its signing key.\n\n"
         "Options:\n"
         "  --provider file|pkcs11   where the root key lives (default: file, a key\n"
         "                           sealed under a passphrase)\n"
         "  --pkcs11-module PATH     PKCS#11 module (default /usr/lib/softhsm/libsofthsm2.so)\n"
         "  --pkcs11-token LABEL     token label (required with pkcs11)\n"
         "  --pkcs11-key-label L     label of the root key in the token (default veil-root)\n"
         "  --kdf-log-n N            scrypt cost for the sealed root, 2^N x 1 KiB of memory\n"
         "                           (default 17 = 128 MiB; 10..20)\n"
         "  --key-rotation DURATION  KEK rotation period, e.g. 30d (default 30d; 'off')\n"
         "  --region R               the region the workspace runs in (default local):\n"
         "                           new datasets and keys are bound to it\n"
         "  --admin NAME             the first administrator's principal (default admin)\n"
         "  --token-file FILE        write the administrator's API token to this new\n"
         "                           file (mode 0600) instead of standard output\n\n"
         "Prints the first administrator's API token once; later commands act with it\n"
         "through $VEIL_TOKEN, $VEIL_TOKEN_FILE or --token (docs/access.md).\n" SECRET_HELP COMMON_HELP,
         NO_WORKSPACE},
        {"data upload",
         cmd_data_upload,
         "encrypt a file and store it as a dataset version",
         "usage: veil data upload FILE --name NAME --owner OWNER [options]\n\n"
         "Encrypts FILE on this machine while streaming it (AES-256-GCM under a fresh\n"
         "data key wrapped by OWNER's key), stores the ciphertext, and records a new\n"
         "version of dataset NAME in the catalog with its lineage. A new dataset is\n"
         "bound to this workspace's region.\n\n"
         "Options:\n"
         "  -n, --name NAME             dataset name\n"
         "  -o, --owner OWNER           owner; their key encryption key is created on first use\n"
         "  -c, --classification C      public, internal, confidential or restricted\n"
         "                              (default: confidential)\n"
         "  -t, --tag KEY=VALUE         a tag; repeat for more\n"
         "      --compartment C         where a new dataset lives (default: tenancy)\n"
         "      --json                  print the new version as JSON\n" SECRET_HELP COMMON_HELP,
         {{VEIL_VERB_MANAGE, "datasets"}, {VEIL_VERB_USE, "keys"}}},
        {"data download",
         cmd_data_download,
         "decrypt a dataset version to a file",
         "usage: veil data download NAME[@VERSION] -o FILE [options]\n\n"
         "Verifies and decrypts a dataset version (default: the latest) into FILE.\n"
         "FILE appears only when every byte has verified: a damaged or tampered object\n"
         "leaves no output at all. FILE must not exist unless --force is given.\n"
         "'-o -' writes to standard output (no such guarantee: check the exit code).\n\n"
         "Options:\n"
         "  -o, --output FILE   where to write the plaintext\n"
         "  -f, --force         replace FILE if it exists\n" SECRET_HELP COMMON_HELP,
         {{VEIL_VERB_MANAGE, "datasets"}, {VEIL_VERB_USE, "keys"}}},
        {"data list",
         cmd_data_list,
         "list datasets",
         "usage: veil data list [--json]\n\nLists every dataset with its latest version.\n" COMMON_HELP,
         {{VEIL_VERB_INSPECT, "datasets"}}},
        {"data inspect",
         cmd_data_inspect,
         "show a dataset version, its versions and lineage",
         "usage: veil data inspect NAME[@VERSION] [--json]\n\n"
         "Shows a dataset version (default: the latest): size, hashes, object and key\n"
         "references, tags, all versions, and its lineage edges.\n" COMMON_HELP,
         {{VEIL_VERB_READ, "datasets"}}},
        {"key create",
         cmd_key_create,
         "create a key encryption key",
         "usage: veil key create NAME [--compartment C]\n\n"
         "Creates version 1 of the key encryption key NAME in compartment C (default\n"
         "tenancy), bound to this workspace's region: the key manager releases its data\n"
         "keys to requests from that region only.\n" TOKEN_HELP SECRET_HELP COMMON_HELP,
         {{VEIL_VERB_MANAGE, "keys"}}},
        {"key list",
         cmd_key_list,
         "list key encryption keys",
         "usage: veil key list [--json]\n\nLists key encryption keys with versions and use.\n" SECRET_HELP
                 COMMON_HELP,
         {{VEIL_VERB_INSPECT, "keys"}}},
        {"key rotate",
         cmd_key_rotate,
         "add a new version of a key",
         "usage: veil key rotate NAME [--rewrap]\n\n"
         "Adds a version to key NAME; new data keys are wrapped under it. Old versions\n"
         "stay usable for decryption. With --rewrap, every data key wrapped under an\n"
         "older version is re-wrapped under the new one (the data is not touched).\n" SECRET_HELP COMMON_HELP,
         {{VEIL_VERB_MANAGE, "keys"}}},
        {"key retire",
         cmd_key_retire,
         "destroy an old key version",
         "usage: veil key retire NAME --version N\n\n"
         "Destroys version N of key NAME. Refused while data keys are still wrapped\n"
         "under it: run 'veil key rotate NAME --rewrap' first.\n" SECRET_HELP COMMON_HELP,
         {{VEIL_VERB_MANAGE, "keys"}}},
        {"key status",
         cmd_key_status,
         "check keys against the rotation period",
         "usage: veil key status [--json]\n\n"
         "Lists each key with the age of its current version and how many data keys\n"
         "are still wrapped under older versions. Exits with 1 when a key's current\n"
         "version is older than key_rotation in veil.yaml. Data keys on old versions\n"
         "are reported (re-wrap them with 'veil key rotate NAME --rewrap').\n" SECRET_HELP COMMON_HELP,
         {{VEIL_VERB_INSPECT, "keys"}}},
        {"audit log",
         cmd_audit_log,
         "print audit events",
         "usage: veil audit log [--since TIME] [--json]\n\n"
         "Prints audit events, oldest first. TIME is 2026-11-22 or 2026-11-22T13:00:00Z.\n" COMMON_HELP,
         {{VEIL_VERB_READ, "audit-events"}}},
        {"audit verify",
         cmd_audit_verify,
         "verify the whole audit log",
         "usage: veil audit verify [--public-key HEX|FILE] [--json]\n\n"
         "Recomputes every leaf and tree head, checks every signature and that each\n"
         "head extends the one before, and that every dataset version in the catalog\n"
         "has its upload event. Exits with 1 and names the first bad entry when\n"
         "anything does not match.\n\n"
         "The signatures are checked against the log key held by the key store (this\n"
         "needs the passphrase), or against --public-key, the key 'veil init' printed\n"
         "(an auditor's own record of it); never against audit/log.pub alone, which\n"
         "whoever replaced the log could have replaced too.\n" SECRET_HELP COMMON_HELP,
         {{VEIL_VERB_READ, "audit-events"}}},
        {"audit proof",
         cmd_audit_proof,
         "prove an event is in the log, or that the log only grew",
         "usage: veil audit proof inclusion INDEX [--size N] [-o FILE]\n"
         "       veil audit proof consistency OLD NEW [-o FILE]\n\n"
         "Writes a self-contained JSON proof relative to signed tree heads, which anyone\n"
         "can check with the log's public key alone ('veil audit check-proof').\n\n"
         "Options:\n"
         "  --size N            prove against the signed head of size N (default latest)\n"
         "  -o, --output FILE   write the proof to FILE (default standard output)\n" COMMON_HELP,
         {{VEIL_VERB_READ, "audit-events"}}},
        {"audit check-proof", cmd_audit_check_proof, "check a proof with a public key alone",
         "usage: veil audit check-proof FILE --public-key HEX|FILE\n\n"
         "Verifies a proof made by 'veil audit proof'. Needs no workspace: only the\n"
         "proof and the log's public key (audit/log.pub in the workspace).\n"
         "  -h, --help   show this help\n",
         NO_WORKSPACE},
        {"backup",
         cmd_backup,
         "write a consistent snapshot of the workspace",
         "usage: veil backup DEST\n\n"
         "Writes a consistent snapshot of the workspace to the new folder DEST: catalog\n"
         "and key store (SQLite online backup), objects, audit log and configuration.\n"
         "Everything in it is ciphertext or wrapped keys. DEST must not exist.\n" COMMON_HELP,
         {{VEIL_VERB_MANAGE, "workspace"}}},
        {"restore",
         cmd_restore,
         "restore a backup into a new workspace",
         "usage: veil restore BACKUP DIR\n\n"
         "Creates workspace DIR from a folder written by 'veil backup', then verifies\n"
         "the catalog, every object and the audit log. DIR must not exist.\n" COMMON_HELP,
         {{VEIL_VERB_MANAGE, "workspace"}}},
        {"gc",
         cmd_gc,
         "apply lifecycle rules and remove unreferenced objects",
         "usage: veil gc [--dry-run]\n\n"
         "Applies the lifecycle rules in veil.yaml (lifecycle.keep_versions,\n"
         "lifecycle.expire_days): each expired version is marked deleted, its data key\n"
         "destroyed (crypto-shredding) and its object removed, each step audited. Also\n"
         "removes objects no version refers to and temporary files of killed processes.\n\n"
         "Options:\n"
         "  -n, --dry-run   only print what would be removed\n" SECRET_HELP COMMON_HELP,
         {{VEIL_VERB_MANAGE, "workspace"}}},
        {"principal create",
         cmd_principal_create,
         "add a user or service principal",
         "usage: veil principal create NAME [--kind KIND] [--region R] [--group G]...\n\n"
         "Adds a principal: a user, or a service identity that acts on its own.\n"
         "Give it a credential with 'veil token issue NAME'.\n\n"
         "Options:\n"
         "  --kind KIND     user (default), worker, endpoint or federated-client\n"
         "  --region R      where a service runs; its requests come from region R\n"
         "                  (users act in the workspace's region)\n"
         "  --group G       add it to group G; repeat for more (needs manage groups)\n"
         "  --first-admin   for a workspace made before access control, which has no\n"
         "                  principal: make NAME its first administrator and print its\n"
         "                  token. Needs only the root key; refused once a principal exists.\n" TOKEN_HELP
                 SECRET_HELP COMMON_HELP,
         {{VEIL_VERB_MANAGE, "principals"}}},
        {"principal list",
         cmd_principal_list,
         "list principals",
         "usage: veil principal list [--json]\n\nLists the principals you may inspect, with kind, region, "
         "status and\n"
         "groups.\n" TOKEN_HELP COMMON_HELP,
         {{VEIL_VERB_INSPECT, "principals"}}},
        {"principal disable",
         cmd_principal_disable,
         "disable a principal for good",
         "usage: veil principal disable NAME\n\n"
         "Disables principal NAME: its tokens stop working at once. There is no\n"
         "enable; create a new principal instead. You cannot disable yourself.\n" TOKEN_HELP COMMON_HELP,
         {{VEIL_VERB_MANAGE, "principals"}}},
        {"group create",
         cmd_group_create,
         "create a group",
         "usage: veil group create NAME\n\nCreates an empty group; policies grant to groups.\n" TOKEN_HELP
                 COMMON_HELP,
         {{VEIL_VERB_MANAGE, "groups"}}},
        {"group add",
         cmd_group_add,
         "add principals to a group",
         "usage: veil group add GROUP PRINCIPAL...\n\nAdds each PRINCIPAL to GROUP, all or none.\n" TOKEN_HELP
                 COMMON_HELP,
         {{VEIL_VERB_MANAGE, "groups"}}},
        {"group remove",
         cmd_group_remove,
         "remove principals from a group",
         "usage: veil group remove GROUP PRINCIPAL...\n\nRemoves each PRINCIPAL from GROUP, all or "
         "none.\n" TOKEN_HELP COMMON_HELP,
         {{VEIL_VERB_MANAGE, "groups"}}},
        {"group list",
         cmd_group_list,
         "list groups and their members",
         "usage: veil group list [--json]\n\nLists the groups you may inspect with their "
         "members.\n" TOKEN_HELP COMMON_HELP,
         {{VEIL_VERB_INSPECT, "groups"}}},
        {"token issue",
         cmd_token_issue,
         "issue an API token to a principal",
         "usage: veil token issue PRINCIPAL [--expires DURATION|never] [--label L] [--output FILE]\n\n"
         "Makes a new API token for PRINCIPAL and prints it on standard output, once:\n"
         "veil keeps only its SHA-256. 256 bits of randomness; bound to this workspace.\n\n"
         "Options:\n"
         "  --expires D   lifetime, e.g. 12h, 30d, 1y, or 'never' (default 90d)\n"
         "  --label L     a note shown by 'veil token list'\n"
         "  -o, --output FILE  write the token to a new file (mode 0600) instead\n"
         "  --json        print id, principal, expiry and the token as JSON\n" TOKEN_HELP COMMON_HELP,
         {{VEIL_VERB_MANAGE, "principals"}}},
        {"token list",
         cmd_token_list,
         "list API tokens (never the tokens themselves)",
         "usage: veil token list [--principal P] [--json]\n\n"
         "Lists token ids with their principal, status (active, expired, revoked) and\n"
         "expiry, for the principals you may inspect.\n" TOKEN_HELP COMMON_HELP,
         {{VEIL_VERB_INSPECT, "principals"}}},
        {"token revoke",
         cmd_token_revoke,
         "revoke an API token",
         "usage: veil token revoke TOKEN-ID\n\nRevokes a token at once; 'veil token list' shows the "
         "ids.\n" TOKEN_HELP COMMON_HELP,
         {{VEIL_VERB_MANAGE, "principals"}}},
        {"compartment create",
         cmd_compartment_create,
         "create a compartment",
         "usage: veil compartment create NAME [--parent P] [--description D]\n\n"
         "Creates compartment NAME below P (default: tenancy, the root). Names are\n"
         "unique in the workspace. Policies on a compartment apply below it too.\n" TOKEN_HELP COMMON_HELP,
         {{VEIL_VERB_MANAGE, "compartments"}}},
        {"compartment list",
         cmd_compartment_list,
         "list compartments",
         "usage: veil compartment list [--json]\n\nLists the compartments you may inspect with their "
         "parents.\n" TOKEN_HELP COMMON_HELP,
         {{VEIL_VERB_INSPECT, "compartments"}}},
        {"policy apply",
         cmd_policy_apply,
         "validate and store a policy file",
         "usage: veil policy apply FILE [--name NAME] [--compartment C] [--dry-run]\n\n"
         "Validates FILE completely (syntax, every group and compartment it names, and\n"
         "that it grants nothing outside C) and stores it as the next version of policy\n"
         "NAME (default: FILE's base name) attached to compartment C (default tenancy).\n"
         "Refused if afterwards nobody could manage policies. docs/formats/policy.md\n"
         "is the language.\n\n"
         "Options:\n"
         "  --name NAME       the policy's name\n"
         "  --compartment C   attach it to C\n"
         "  --dry-run         only validate\n" TOKEN_HELP COMMON_HELP,
         {{VEIL_VERB_MANAGE, "policies"}}},
        {"policy list",
         cmd_policy_list,
         "list policies",
         "usage: veil policy list [--json]\n\nLists the current version of each policy you may "
         "inspect.\n" TOKEN_HELP COMMON_HELP,
         {{VEIL_VERB_INSPECT, "policies"}}},
        {"policy show",
         cmd_policy_show,
         "print a policy's text",
         "usage: veil policy show NAME [--version N] [--json]\n\n"
         "Prints the text of policy NAME (default: its current version).\n" TOKEN_HELP COMMON_HELP,
         {{VEIL_VERB_READ, "policies"}}},
        {"policy explain",
         cmd_policy_explain,
         "say why a request would be allowed or denied",
         "usage: veil policy explain --as PRINCIPAL --verb VERB --resource TYPE[:NAME] [options]\n\n"
         "Decides the request exactly as enforcement would, and prints the decision\n"
         "and the statement that made it (or that none applied). Exits 0 when the\n"
         "request would be allowed, 1 when denied.\n\n"
         "Options:\n"
         "  --as PRINCIPAL     who asks\n"
         "  --verb VERB        inspect, read, use or manage\n"
         "  --resource T[:N]   a resource type, and a resource's name (NAME@VERSION for\n"
         "                     a dataset version)\n"
         "  --compartment C    where the resource is (default: where it is, or tenancy)\n"
         "  --region R         the request's region (default: the principal's, else\n"
         "                     the workspace's)\n"
         "  --at TIME          the request's time (default now), e.g. 2026-11-22T08:00:00Z\n"
         "  --operation CMD    request.operation, e.g. 'data download'\n"
         "  --verbose          every statement considered and why it did not apply\n"
         "  --json             the same as JSON\n" TOKEN_HELP COMMON_HELP,
         {{VEIL_VERB_READ, "policies"}}},
        {"data verify",
         cmd_data_verify,
         "decrypt a dataset inside the trusted worker and check it",
         "usage: veil data verify NAME[@VERSION] [--json]\n\n"
         "Starts the trusted worker (veil-worker), which gets the dataset's data key\n"
         "only after its attestation evidence passes the key's release policy, then\n"
         "decrypts the stored object inside the TEE and checks it against the size and\n"
         "SHA-256 recorded at upload. No plaintext and no data key reach this process.\n"
         "The release and the check are audited (key.release, data.verify).\n\n"
         "The TEE is $VEIL_TEE: sim (default; a simulated TEE that proves nothing),\n"
         "sev-snp or tdx. The worker is $VEIL_WORKER, else veil-worker beside veil.\n\n"
         "Options:\n"
         "  --json   print the result as JSON\n" TOKEN_HELP COMMON_HELP,
         {{VEIL_VERB_USE, "datasets"}, {VEIL_VERB_USE, "keys"}}},
        {"data validate",
         cmd_data_validate,
         "check a dataset against a schema inside the trusted worker",
         "usage: veil data validate NAME[@VERSION] --schema FILE [--json]\n\n"
         "The trusted worker decrypts the dataset (CSV, docs/formats/csv.md) inside the\n"
         "TEE, checks every record against the schema (docs/formats/schema.md), scans\n"
         "every value for personal data (docs/pii.md) and signs a report: pass or fail,\n"
         "the violations with their rows (capped, with totals), per-column statistics\n"
         "and duplicate rows. No value of a sensitive column is in it. The report is\n"
         "kept sealed in the workspace (veil data report), the version is tagged with\n"
         "the personal data found (pii:email, ...), and the dataset's classification\n"
         "rises to what was found.\n\n"
         "Exit 0 when the dataset passes, 1 when it fails validation (the report is\n"
         "kept either way).\n\n"
         "Options:\n"
         "  -s, --schema FILE   the schema to check against\n"
         "      --json          print the report's summary as JSON\n" TOKEN_HELP COMMON_HELP,
         {{VEIL_VERB_USE, "datasets"}, {VEIL_VERB_USE, "keys"}}},
        {"data profile",
         cmd_data_profile,
         "infer a dataset's schema and scan it inside the trusted worker",
         "usage: veil data profile NAME[@VERSION] [-o FILE] [--json]\n\n"
         "Like veil data validate without a schema: the trusted worker infers each\n"
         "column's type, nullability and bounds, scans for personal data, and signs a\n"
         "report with the inferred schema, which -o writes as schema YAML to edit and\n"
         "pass to veil data validate. Bounds of sensitive columns are left out.\n\n"
         "Options:\n"
         "  -o, --output FILE   write the inferred schema here (- for standard output)\n"
         "      --json          print the report's summary as JSON\n" TOKEN_HELP COMMON_HELP,
         {{VEIL_VERB_USE, "datasets"}, {VEIL_VERB_USE, "keys"}}},
        {"data report",
         cmd_data_report,
         "show the latest worker report of a dataset version",
         "usage: veil data report NAME[@VERSION] [--kind K] [--verify] [--full] [--json]\n\n"
         "Opens the newest report the trusted worker signed for the version\n"
         "(validate, profile or features) and prints its summary.\n\n"
         "Options:\n"
         "  -k, --kind K   validate, profile or features (default: the newest of any)\n"
         "      --verify   check the report's signature, the attestation evidence that\n"
         "                 binds the signing key, and the worker's measurement, as a\n"
         "                 third party would (docs/formats/report-envelope.md)\n"
         "      --full     print the whole report\n"
         "      --json     print the report (with --full: the whole envelope) as JSON\n" TOKEN_HELP
                 COMMON_HELP,
         {{VEIL_VERB_READ, "datasets"}, {VEIL_VERB_USE, "keys"}}},
        {"data compliance",
         cmd_data_compliance,
         "say whether the workspace's compliance rules allow training on a dataset",
         "usage: veil data compliance NAME[@VERSION] [--json]\n\n"
         "Applies the compliance rules of veil.yaml (docs/operations.md) to the version\n"
         "as the training job will: with compliance.restricted_training: deidentified, a\n"
         "restricted dataset may be trained on only if it is the output of a feature\n"
         "pipeline whose signed build report says no direct identifier is left.\n\n"
         "Exit 0 when training is allowed, 1 when it is refused (the reason is printed).\n\n"
         "Options:\n"
         "  --json   print dataset, version, use, allowed and reason as JSON\n" TOKEN_HELP COMMON_HELP,
         {{VEIL_VERB_READ, "datasets"}}},
        {"features build",
         cmd_features_build,
         "fit a feature pipeline on a dataset inside the trusted worker",
         "usage: veil features build PIPELINE --input NAME[@VERSION] --output NAME\n"
         "                           [--schema FILE] [--json]\n\n"
         "The trusted worker fits the pipeline (docs/formats/pipeline.md) on the input\n"
         "inside the TEE: imputation, scaling, encodings, keyed pseudonymisation (with\n"
         "the compartment's pseudonymisation key from the KMS), generalisation and a\n"
         "k-anonymity check. It writes the transformed data as a new version of NAME and\n"
         "the fitted pipeline as a version of NAME.transform, both encrypted under keys\n"
         "that only reach the worker; this process never sees their plaintext. Its\n"
         "signed report (veil data report NAME --full) gives each feature's mutual\n"
         "information with the label; lineage links input, pipeline, transform and\n"
         "output with the worker's measurement.\n\n"
         "Options:\n"
         "  -i, --input NAME[@VERSION]   the dataset to fit on (CSV)\n"
         "  -o, --output NAME            the dataset that gets the output as a new version\n"
         "  -s, --schema FILE            the input's column types (default: inferred from\n"
         "                               every value; a code such as a ZIP is text only if\n"
         "                               some value has a leading zero)\n"
         "      --json                   print the new versions and the summary as JSON\n" TOKEN_HELP
                 COMMON_HELP,
         {{VEIL_VERB_MANAGE, "datasets"}, {VEIL_VERB_USE, "keys"}}},
        {"data budget set",
         cmd_data_budget_set,
         "set a dataset version's privacy budget",
         "usage: veil data budget set NAME[@VERSION] --epsilon E --delta D\n\n"
         "Sets the total (epsilon, delta) that every private training job on the version\n"
         "may spend together (docs/privacy.md). veil train charges each run's cost\n"
         "before it trains and refuses a run that would overspend; once a version has a\n"
         "budget, only private jobs may train on it. Setting it again replaces the total;\n"
         "it cannot go below what is already spent. The owner's decision: it needs\n"
         "manage on the dataset, and it is audited (budget.set).\n\n"
         "Options:\n"
         "  -e, --epsilon E   the total epsilon, above 0\n"
         "  -d, --delta D     the total delta, between 0 and 1\n" TOKEN_HELP COMMON_HELP,
         {{VEIL_VERB_MANAGE, "datasets"}}},
        {"data budget show",
         cmd_data_budget_show,
         "show a dataset version's privacy budget and what was charged to it",
         "usage: veil data budget show NAME[@VERSION] [--json]\n\n"
         "Prints the total, spent and remaining epsilon and delta of the version's\n"
         "privacy budget, and every charge: the job, the trial of a tuning job, what it\n"
         "cost and the noise it trained with. Exit 15 when the version has no budget.\n\n"
         "Options:\n"
         "  --json   print it as JSON\n" TOKEN_HELP COMMON_HELP,
         {{VEIL_VERB_READ, "datasets"}}},
        {"train",
         cmd_train,
         "train a model from a job file inside the trusted worker",
         "usage: veil train JOB.yaml [--json]\n"
         "       veil train --resume JOB_ID [--json]\n\n"
         "Runs a training job file (docs/formats/job.md) in the trusted worker: the data\n"
         "sets are decrypted only there, the model (a safetensors file and its manifest)\n"
         "comes back encrypted under a key only the worker gets, and this process never\n"
         "holds either in plaintext. A private job (a privacy block) trains with DP-SGD;\n"
         "the worker calibrates the noise to the job's epsilon with the RDP accountant,\n"
         "and each run is charged to the training data sets' privacy budgets (veil data\n"
         "budget) before it trains: a job that would overspend is refused with the\n"
         "figures. A data set with a budget takes only private jobs.\n\n"
         "Each epoch prints its loss, validation figures, epsilon so far and speed;\n"
         "checkpoints are stored encrypted as it goes. A job that fails keeps its last\n"
         "checkpoint, and --resume continues it exactly (veil job list shows the id).\n\n"
         "Exit 0 when the model is recorded; 25 when a policy, the compliance rules or a\n"
         "budget refuses the job; 28 when training diverged (the last checkpoint stays).\n\n"
         "Options:\n"
         "  -r, --resume JOB_ID   continue a failed or interrupted job from its checkpoint\n"
         "      --json            print the job, the model version and the signed report as\n"
         "                        JSON (and no progress)\n" TOKEN_HELP COMMON_HELP,
         {{VEIL_VERB_USE, "datasets"}, {VEIL_VERB_USE, "keys"}, {VEIL_VERB_MANAGE, "models"}}},
        {"model list",
         cmd_model_list,
         "list the models training made",
         "usage: veil model list [--json]\n\n"
         "One line per model you may see, with its latest version: kind, classification\n"
         "(the highest of the data it learnt from), test accuracy, privacy cost and the\n"
         "job that made it.\n\n"
         "Options:\n"
         "  --json   print them as JSON\n" TOKEN_HELP COMMON_HELP,
         {{VEIL_VERB_INSPECT, "models"}}},
        {"model inspect",
         cmd_model_inspect,
         "show a model version: metrics, privacy cost, lineage",
         "usage: veil model inspect NAME[@VERSION] [--verify] [--json]\n\n"
         "Shows what the worker's signed training report said of the version: its\n"
         "architecture, test metrics, the (epsilon, delta) it cost and how that was\n"
         "computed, the job that made it and its lineage (the data sets it was trained\n"
         "and evaluated on, each edge with the worker's measurement). The weights stay\n"
         "encrypted.\n\n"
         "Options:\n"
         "  --verify   also open the signed training report kept with the version and\n"
         "             check it describes this model file and job file, its signature,\n"
         "             the attestation evidence it came with and their binding (needs\n"
         "             use of the model's key); --json then includes the report\n"
         "  --json     print it as JSON\n" TOKEN_HELP COMMON_HELP,
         {{VEIL_VERB_READ, "models"}}},
        {"model compare",
         cmd_model_compare,
         "compare two model versions side by side",
         "usage: veil model compare A[@V] B[@V] [--json]\n\n"
         "Test metrics, privacy cost, kind, classification and job of two versions,\n"
         "side by side.\n\n"
         "Options:\n"
         "  --json   print both as JSON\n" TOKEN_HELP COMMON_HELP,
         {{VEIL_VERB_READ, "models"}}},
        {"model eval",
         cmd_model_eval,
         "evaluate a model version on a data set, in the trusted worker",
         "usage: veil model eval NAME[@VERSION] --dataset NAME[@VERSION] [--json]\n\n"
         "The worker decrypts the model and the data set (with its IDX labels,\n"
         "NAME.labels, for IDX images), takes the feature columns and classes from the\n"
         "model's manifest and reports, signed: accuracy, macro and per-class precision,\n"
         "recall and F1, ROC AUC for two classes, log loss and the confusion matrix.\n"
         "Classes are shown by index; their values stay in the encrypted model. The\n"
         "evaluation is a job (veil job status) with a lineage edge\n"
         "model -[evaluated_on]-> data set.\n\n"
         "The figures are exact, not differentially private: a data set with a privacy\n"
         "budget is evaluated on only by those who may manage it (take its plaintext\n"
         "out). The workspace's compliance rules apply as for training.\n\n"
         "Options:\n"
         "  -d, --dataset NAME[@VERSION]   the data to evaluate on (default: latest version)\n"
         "      --json                     print the job and the worker's report as JSON\n" TOKEN_HELP
                 COMMON_HELP,
         {{VEIL_VERB_USE, "models"}, {VEIL_VERB_USE, "datasets"}, {VEIL_VERB_USE, "keys"}}},
        {"job list",
         cmd_job_list,
         "list training jobs",
         "usage: veil job list [--state STATE] [--json]\n\n"
         "Newest first: id, kind (train or tune), name, state, progress, epsilon spent\n"
         "and the model each made.\n\n"
         "Options:\n"
         "  -s, --state STATE   only jobs queued, running, succeeded, failed or interrupted\n"
         "      --json          print them as JSON\n" TOKEN_HELP COMMON_HELP,
         {{VEIL_VERB_INSPECT, "jobs"}}},
        {"job status",
         cmd_job_status,
         "show a training job",
         "usage: veil job status JOB_ID [--json]\n\n"
         "The job's state, progress, epsilon spent, what was charged to which data set,\n"
         "its last checkpoint (veil train --resume continues from it), its model and,\n"
         "when it failed, why. --json includes the job file.\n\n"
         "Options:\n"
         "  --json   print it as JSON\n" TOKEN_HELP COMMON_HELP,
         {{VEIL_VERB_READ, "jobs"}}},
        {"job log",
         cmd_job_log,
         "show a training job's figures, epoch by epoch",
         "usage: veil job log JOB_ID [--json]\n\n"
         "The series the worker reported at each epoch: training loss, validation loss\n"
         "and accuracy, epsilon so far, samples per second.\n\n"
         "Options:\n"
         "  --json   print the points as JSON\n" TOKEN_HELP COMMON_HELP,
         {{VEIL_VERB_READ, "jobs"}}},
        /* (dp commands) */
        {"dp epsilon", cmd_dp_epsilon, "the epsilon a DP-SGD run spends",
         "usage: veil dp epsilon --sample-rate Q --steps T --noise SIGMA --delta D [--json]\n"
         "       veil dp epsilon --dataset-size N --batch-size B --epochs E --noise SIGMA\n"
         "                       --delta D [--json]\n\n"
         "Prints the epsilon that T steps of DP-SGD spend at delta D: each step samples\n"
         "every example with probability Q (Poisson) and adds Gaussian noise SIGMA times\n"
         "the clipping norm. The RDP accountant of Mironov, Talwar and Zhang (2019),\n"
         "over dp_accounting's 156 default orders, with its conversion to (epsilon,\n"
         "delta); also prints the order that gives the minimum. Needs no workspace.\n"
         "docs/privacy.md explains the accounting.\n\n"
         "Options:\n"
         "  --sample-rate Q     the probability that a step samples an example (0..1)\n"
         "  --steps T           the number of steps\n"
         "  --dataset-size N    instead of Q and T: the rows of the training data,\n"
         "  --batch-size B      the expected batch (Q = B/N),\n"
         "  --epochs E          and the epochs (T = E x ceil(N/B), as the trainer runs)\n"
         "  --noise SIGMA       the noise multiplier (>= 0)\n"
         "  --delta D           delta, between 0 and 1\n"
         "  --json              print the result and the run as JSON\n"
         "  -h, --help          show this help\n\n"
         "Numbers are plain decimals (0.0025, 1e-5): no sign, hex, nan or inf.\n"
         "Exit status: 0 done; 2 a missing or malformed option; 11 a value out of\n"
         "range (Q or D outside its interval, a batch larger than the data); 24 more\n"
         "than 10^12 steps.\n",
         NO_WORKSPACE},
        {"dp noise", cmd_dp_noise, "the noise multiplier for a target epsilon",
         "usage: veil dp noise --sample-rate Q --steps T --epsilon EPS --delta D [--json]\n"
         "       veil dp noise --dataset-size N --batch-size B --epochs E --epsilon EPS\n"
         "                     --delta D [--json]\n\n"
         "Prints the smallest noise multiplier (to 1 part in 10^6, rounded up for\n"
         "display) whose epsilon at delta D is at most EPS, and the epsilon it gives:\n"
         "the value to train with for that budget. Same accountant and run options as\n"
         "'veil dp epsilon'. Needs no workspace.\n\n"
         "Options:\n"
         "  --sample-rate Q     the probability that a step samples an example (0..1)\n"
         "  --steps T           the number of steps\n"
         "  --dataset-size N    instead of Q and T: the rows of the training data,\n"
         "  --batch-size B      the expected batch (Q = B/N),\n"
         "  --epochs E          and the epochs (T = E x ceil(N/B), as the trainer runs)\n"
         "  --epsilon EPS       the target epsilon (> 0)\n"
         "  --delta D           delta, between 0 and 1\n"
         "  --json              print the result and the run as JSON\n"
         "  -h, --help          show this help\n\n"
         "Numbers are plain decimals (0.0025, 1e-5): no sign, hex, nan or inf.\n"
         "Exit status: 0 done; 2 a missing or malformed option; 11 a value out of\n"
         "range, or a target no noise multiplier up to 10^12 reaches; 24 more than\n"
         "10^12 steps.\n",
         NO_WORKSPACE},
        {"attest measure", cmd_attest_measure, "print the measurement of the trusted worker",
         "usage: veil attest measure [--worker PATH] [--json]\n\n"
         "Prints the SHA-384 of the worker executable (default: the one veil starts):\n"
         "the measurement a simulated report of it carries, and what a release\n"
         "policy's 'measurements' list must hold for it to get keys. Needs no\n"
         "workspace. Builds are reproducible: the same source gives the same value.\n\n"
         "Options:\n"
         "  --worker PATH   measure this executable instead\n"
         "  --json          print it as JSON\n"
         "  -h, --help      show this help\n",
         NO_WORKSPACE},
        {"attest verify", cmd_attest_verify, "verify attestation evidence offline",
         "usage: veil attest verify FILE [--certs DIR] [--policy FILE] [options]\n\n"
         "Verifies the evidence in FILE down to its pinned root and prints its claims\n"
         "(TEE, measurement, debug, VMPL, TCB, report data). No network and no\n"
         "workspace are needed. With --policy, also evaluates that key-release policy\n"
         "and lists every clause that fails; the exit status is then 1 when it would\n"
         "refuse release. docs/attestation.md explains the checks.\n\n"
         "Options:\n"
         "  --tee T             sim, sev-snp, tdx or vtpm (default: from the evidence)\n"
         "  --certs DIR         SEV-SNP certificates: vcek.der (or vlek.der) and chain.pem\n"
         "                      (ASK+ARK; default: the pinned ones); for sim also\n"
         "                      ark.pem, a workspace's attest/sim/ folder. A TDX quote\n"
         "                      carries its own PCK chain.\n"
         "  --tpm-signature F   vtpm: the signature file of tpm2_quote -s\n"
         "  --tpm-pcrs F        vtpm: the PCR values of tpm2_quote -o\n"
         "  --ak F              vtpm: the AK public key (PEM) or its certificate\n"
         "  --ak-ca F           vtpm: the CA the AK certificate must chain to\n"
         "  --nonce HEX         vtpm: the qualifying data the quote must carry\n"
         "  --policy FILE       a key-release policy to evaluate (docs/formats/release-policy.md)\n"
         "  --at TIME           verify as of TIME (RFC 3339; default now)\n"
         "  --region R          the region to claim for the evidence's worker\n"
         "  --report-data HEX   the 64 bytes the evidence must carry as report data\n"
         "  --json              print the claims as JSON\n"
         "  -h, --help          show this help\n",
         NO_WORKSPACE},
        {"attest policy check", cmd_attest_policy_check, "evaluate a key-release policy against evidence",
         "usage: veil attest policy check --policy FILE EVIDENCE [options]\n\n"
         "Verifies EVIDENCE as 'veil attest verify' does, then evaluates the key-release\n"
         "policy FILE against its claims and prints every clause that fails. Exits 0\n"
         "when the policy would release keys, 1 when it would refuse.\n\n"
         "Options:\n"
         "  --policy FILE       the key-release policy (required)\n"
         "  --tee T             sim, sev-snp, tdx or vtpm (default: from the evidence)\n"
         "  --certs DIR         certificates, as for 'veil attest verify'\n"
         "  --tpm-signature F, --tpm-pcrs F, --ak F, --ak-ca F, --nonce HEX\n"
         "                      a vTPM quote's parts, as for 'veil attest verify'\n"
         "  --at TIME           evaluate as of TIME (RFC 3339; default now)\n"
         "  --region R          the region to claim for the evidence's worker\n"
         "  --report-data HEX   the 64 bytes the evidence must carry as report data\n"
         "  --json              print the result as JSON\n"
         "  -h, --help          show this help\n",
         NO_WORKSPACE},
        {"attest policy set",
         cmd_attest_policy_set,
         "set the key-release policy of a compartment or key",
         "usage: veil attest policy set FILE [--compartment C | --key K]\n\n"
         "Validates the key-release policy FILE (docs/formats/release-policy.md) and\n"
         "stores it as the next version of the policy of compartment C (default\n"
         "tenancy) or of key K. A data key is released to a worker only when the\n"
         "policy of its key, else of the nearest compartment above the key, allows the\n"
         "worker's verified evidence; with no policy nothing is released.\n\n"
         "Options:\n"
         "  --compartment C   the policy of compartment C\n"
         "  --key K           the policy of key K (it overrides its compartment's)\n" TOKEN_HELP COMMON_HELP,
         {{VEIL_VERB_MANAGE, "policies"}}},
        {"attest policy show",
         cmd_attest_policy_show,
         "print a key-release policy",
         "usage: veil attest policy show [--compartment C | --key K] [--version N] [--json]\n\n"
         "Prints the key-release policy of compartment C (default tenancy) or key K.\n\n"
         "Options:\n"
         "  --compartment C   of compartment C\n"
         "  --key K           of key K\n"
         "  --version N       that version (default: the current one)\n"
         "  --json            print it with its version and who set it\n" TOKEN_HELP COMMON_HELP,
         {{VEIL_VERB_READ, "policies"}}},
        {"attest evidence",
         cmd_attest_evidence,
         "get and verify evidence from this machine's trusted worker",
         "usage: veil attest evidence [-o FILE] [--nonce HEX] [--json]\n\n"
         "Starts the trusted worker, has it produce evidence bound to a nonce (random,\n"
         "or --nonce), verifies it as the key broker would and prints its claims;\n"
         "with -o, writes the raw evidence to FILE for 'veil attest verify'.\n\n"
         "Options:\n"
         "  -o, --output FILE   write the evidence here\n"
         "  --nonce HEX         32 bytes (64 hex digits) to bind instead of a random nonce\n"
         "  --json              print the claims as JSON\n" TOKEN_HELP COMMON_HELP,
         {{VEIL_VERB_INSPECT, "workspace"}}},
        {"policy operations", cmd_policy_operations, "list what each command needs",
         "usage: veil policy operations [--json]\n\n"
         "Prints, for every veil command, the verb and resource type it asks the\n"
         "authorization point for. Needs no workspace.\n"
         "  -h, --help   show this help\n",
         NO_WORKSPACE},
        {"version", cmd_version, "print the version",
         "usage: veil version\n\nPrints veil's version and the OpenSSL it runs on.\n", NO_WORKSPACE},
};
const size_t cli_ncommands = sizeof cli_commands / sizeof cli_commands[0];
