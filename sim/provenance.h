/* SPDX-License-Identifier: MIT */
/*
 * provenance.h - the one "provenance" block of every JSON result afdsim writes (run, compare,
 * validate, run --backend cuda, roofline and its subcommands).
 *
 * Every block starts with the same keys, in this order (docs/user/output-format.md):
 *   "version"       PACKAGE_VERSION
 *   "git_revision"  the commit the binary was built from (AFD_GIT_REVISION)
 *   "features"      the optional parts built in (AFD_FEATURES: "cuda nccl mpi" or "")
 *   "command"       the command that wrote it ("run", "validate", "roofline", …)
 *   "command_line"  the command line as typed, words shell-quoted where needed ("" when the
 *                   program did not record one: a library caller)
 *   "inputs"        [{"path", "sha256"}]: each input file's SHA-256, its path relative to the
 *                   data folder when it is a shipped file ([] for a command without files)
 * then the command's own keys (seed, cost model, network, …).
 * The command line is recorded once, by main(); nothing else here keeps state.
 */
#ifndef AFD_SIM_PROVENANCE_H
#define AFD_SIM_PROVENANCE_H

#include <cjson/cJSON.h>
#include <glib.h>

G_BEGIN_DECLS

/* Records the command line of this process (argv[0] is written as "afdsim"); main() only. */
void afd_provenance_set_command_line (int argc, char **argv);

/* Returns: (transfer none): the recorded command line, "" when none was recorded. */
const char *afd_provenance_command_line (void);

/**
 * afd_provenance_add:
 * @root: the result object; the block is added under "provenance"
 * @command: the command that writes the result
 *
 * Returns: (transfer none): the block, with version, git_revision, features, command,
 *   command_line and an empty inputs list; add the inputs with afd_provenance_add_input()
 *   and then the command's own keys
 */
cJSON *afd_provenance_add (cJSON *root, const char *command);

/**
 * afd_provenance_add_input:
 * @provenance: a block from afd_provenance_add()
 * @path: an input file; read whole to hash it
 *
 * Appends {"path", "sha256"} to the block's "inputs".
 *
 * Returns: %FALSE with AFD_ERROR_IO naming @path when it cannot be read
 */
gboolean afd_provenance_add_input (cJSON *provenance, const char *path, GError **error);

G_END_DECLS

#endif /* AFD_SIM_PROVENANCE_H */
