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
	"  -h, --help           show this help\n"

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
         "  --key-rotation DURATION  KEK rotation period, e.g. 30d (default 30d; 'off')\n" SECRET_HELP
                 COMMON_HELP},
        {"data upload", cmd_data_upload, "encrypt a file and store it as a dataset version",
         "usage: veil data upload FILE --name NAME --owner OWNER [options]\n\n"
         "Encrypts FILE on this machine while streaming it (AES-256-GCM under a fresh\n"
         "data key wrapped by OWNER's key), stores the ciphertext, and records a new\n"
         "version of dataset NAME in the catalog with its lineage.\n\n"
         "Options:\n"
         "  -n, --name NAME             dataset name\n"
         "  -o, --owner OWNER           owner; their key encryption key is created on first use\n"
         "  -c, --classification C      public, internal, confidential or restricted\n"
         "                              (default: confidential)\n"
         "  -t, --tag KEY=VALUE         a tag; repeat for more\n"
         "      --json                  print the new version as JSON\n" SECRET_HELP COMMON_HELP},
        {"data download", cmd_data_download, "decrypt a dataset version to a file",
         "usage: veil data download NAME[@VERSION] -o FILE [options]\n\n"
         "Verifies and decrypts a dataset version (default: the latest) into FILE.\n"
         "FILE appears only when every byte has verified: a damaged or tampered object\n"
         "leaves no output at all. FILE must not exist unless --force is given.\n"
         "'-o -' writes to standard output (no such guarantee: check the exit code).\n\n"
         "Options:\n"
         "  -o, --output FILE   where to write the plaintext\n"
         "  -f, --force         replace FILE if it exists\n" SECRET_HELP COMMON_HELP},
        {"data list", cmd_data_list, "list datasets",
         "usage: veil data list [--json]\n\nLists every dataset with its latest version.\n" COMMON_HELP},
        {"data inspect", cmd_data_inspect, "show a dataset version, its versions and lineage",
         "usage: veil data inspect NAME[@VERSION] [--json]\n\n"
         "Shows a dataset version (default: the latest): size, hashes, object and key\n"
         "references, tags, all versions, and its lineage edges.\n" COMMON_HELP},
        {"key create", cmd_key_create, "create a key encryption key",
         "usage: veil key create NAME\n\nCreates version 1 of the key encryption key NAME.\n" SECRET_HELP
                 COMMON_HELP},
        {"key list", cmd_key_list, "list key encryption keys",
         "usage: veil key list [--json]\n\nLists key encryption keys with versions and use.\n" SECRET_HELP
                 COMMON_HELP},
        {"key rotate", cmd_key_rotate, "add a new version of a key",
         "usage: veil key rotate NAME [--rewrap]\n\n"
         "Adds a version to key NAME; new data keys are wrapped under it. Old versions\n"
         "stay usable for decryption. With --rewrap, every data key wrapped under an\n"
         "older version is re-wrapped under the new one (the data is not touched).\n" SECRET_HELP
                 COMMON_HELP},
        {"key retire", cmd_key_retire, "destroy an old key version",
         "usage: veil key retire NAME --version N\n\n"
         "Destroys version N of key NAME. Refused while data keys are still wrapped\n"
         "under it: run 'veil key rotate NAME --rewrap' first.\n" SECRET_HELP COMMON_HELP},
        {"key status", cmd_key_status, "check keys against the rotation period",
         "usage: veil key status [--json]\n\n"
         "Lists each key with the age of its current version and how many data keys\n"
         "are still wrapped under older versions. Exits with 1 when a key's current\n"
         "version is older than key_rotation in veil.yaml. Data keys on old versions\n"
         "are reported (re-wrap them with 'veil key rotate NAME --rewrap').\n" SECRET_HELP COMMON_HELP},
        {"audit log", cmd_audit_log, "print audit events",
         "usage: veil audit log [--since TIME] [--json]\n\n"
         "Prints audit events, oldest first. TIME is 2026-11-22 or 2026-11-22T13:00:00Z.\n" COMMON_HELP},
        {"audit verify", cmd_audit_verify, "verify the whole audit log",
         "usage: veil audit verify [--public-key HEX|FILE] [--json]\n\n"
         "Recomputes every leaf and tree head, checks every signature and that each\n"
         "head extends the one before, and that every dataset version in the catalog\n"
         "has its upload event. Exits with 1 and names the first bad entry when\n"
         "anything does not match.\n\n"
         "The signatures are checked against the log key held by the key store (this\n"
         "needs the passphrase), or against --public-key, the key 'veil init' printed\n"
         "(an auditor's own record of it); never against audit/log.pub alone, which\n"
         "whoever replaced the log could have replaced too.\n" SECRET_HELP COMMON_HELP},
        {"audit proof", cmd_audit_proof, "prove an event is in the log, or that the log only grew",
         "usage: veil audit proof inclusion INDEX [--size N] [-o FILE]\n"
         "       veil audit proof consistency OLD NEW [-o FILE]\n\n"
         "Writes a self-contained JSON proof relative to signed tree heads, which anyone\n"
         "can check with the log's public key alone ('veil audit check-proof').\n" COMMON_HELP},
        {"audit check-proof", cmd_audit_check_proof, "check a proof with a public key alone",
         "usage: veil audit check-proof FILE --public-key HEX|FILE\n\n"
         "Verifies a proof made by 'veil audit proof'. Needs no workspace: only the\n"
         "proof and the log's public key (audit/log.pub in the workspace).\n"
         "  -h, --help   show this help\n"},
        {"backup", cmd_backup, "write a consistent snapshot of the workspace",
         "usage: veil backup DEST\n\n"
         "Writes a consistent snapshot of the workspace to the new folder DEST: catalog\n"
         "and key store (SQLite online backup), objects, audit log and configuration.\n"
         "Everything in it is ciphertext or wrapped keys. DEST must not exist.\n" COMMON_HELP},
        {"restore", cmd_restore, "restore a backup into a new workspace",
         "usage: veil restore BACKUP DIR\n\n"
         "Creates workspace DIR from a folder written by 'veil backup', then verifies\n"
         "the catalog, every object and the audit log. DIR must not exist.\n" COMMON_HELP},
        {"gc", cmd_gc, "apply lifecycle rules and remove unreferenced objects",
         "usage: veil gc [--dry-run]\n\n"
         "Applies the lifecycle rules in veil.yaml (lifecycle.keep_versions,\n"
         "lifecycle.expire_days): each expired version is marked deleted, its data key\n"
         "destroyed (crypto-shredding) and its object removed, each step audited. Also\n"
         "removes objects no version refers to and temporary files of killed processes.\n\n"
         "Options:\n"
         "  -n, --dry-run   only print what would be removed\n" SECRET_HELP COMMON_HELP},
        {"version", cmd_version, "print the version",
         "usage: veil version\n\nPrints veil's version and the OpenSSL it runs on.\n"},
};
const size_t cli_ncommands = sizeof cli_commands / sizeof cli_commands[0];
