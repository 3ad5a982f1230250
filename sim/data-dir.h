/* SPDX-License-Identifier: MIT */
/*
 * data-dir.h - where afdsim finds its shipped data (models/llm, topologies, experiments).
 *
 * Search order, first match wins (a folder matches when it holds topologies/):
 *   1. $AFDSIM_DATA_DIR (an error if set but not a data folder);
 *   2. <folder of the running binary>/afdsim-data-uninstalled (the build tree; made by make);
 *   3. <folder of the running binary>/../share/afdsim (a relocated install);
 *   4. the configured $(pkgdatadir) (a normal install).
 * No source-tree path is compiled in. Names resolve to files inside a kind's folder, case-
 * insensitively (an unknown name suggests the nearest shipped ones); anything that looks like
 * a path (contains '/' or ends in .json) is used as a file as it is.
 */
#ifndef AFD_SIM_DATA_DIR_H
#define AFD_SIM_DATA_DIR_H

#include <glib.h>

G_BEGIN_DECLS

/**
 * afd_data_dir:
 * Returns: (transfer none) (nullable): the data folder (cached for the process), or %NULL
 *   with AFD_ERROR_IO listing where it looked
 */
const char *afd_data_dir (GError **error);

/**
 * afd_data_resolve:
 * @kind: a folder under the data folder, e.g. "topologies/clusters", "models/llm",
 *   "experiments" (an experiment NAME means experiments/NAME/experiment.json)
 * @what: how to call one item in messages ("cluster", "model")
 * @name_or_file: a shipped name or a path to a JSON file
 *
 * Returns: (transfer full) (nullable): a readable file path, or %NULL with an error that
 *   names @name_or_file and the folder searched (AFD_ERROR_CONFIG for unknown names,
 *   AFD_ERROR_IO for a path that does not exist)
 */
char *afd_data_resolve (const char *kind, const char *what, const char *name_or_file,
                        GError **error);

/**
 * afd_data_list:
 * Returns: (transfer full) (element-type utf8): the sorted names shipped under @kind
 *   (file names without .json; for "experiments", folder names that hold experiment.json)
 */
GPtrArray *afd_data_list (const char *kind, GError **error);

/**
 * afd_data_did_you_mean:
 * @names: %NULL-terminated known names
 * @typed: what the user typed
 *
 * Returns: (transfer full) (nullable): "did you mean A, B?" naming up to three of @names
 *   near @typed, nearest first (Levenshtein distance, case-insensitive, at most a third of
 *   the longer name and at least 2; or one name inside the other, e.g. "h800" in
 *   "h800-x40"), or %NULL when none is near
 */
char *afd_data_did_you_mean (const char *const *names, const char *typed);

G_END_DECLS

#endif /* AFD_SIM_DATA_DIR_H */
