/* SPDX-License-Identifier: MIT */
/*
 * json.h - cJSON at the edges: strict reading of input files and atomic writing of results.
 *
 * Every reader in afdsim parses a file, validates it with these helpers, copies what it needs
 * into typed structs and deletes the tree, all in one function. Every message names the file,
 * the key (as a JSON path such as "gpus[3].hbm_bytes") and the problem. Unknown keys and
 * duplicate keys are errors (AFD_ERROR_CONFIG unless the caller picks another code).
 * Nothing here keeps a cJSON pointer past the call.
 */
#ifndef AFD_SIM_JSON_H
#define AFD_SIM_JSON_H

#include <cjson/cJSON.h>
#include <glib.h>

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC (cJSON, cJSON_Delete)

/* Constraints on a value read with afd_json_get_number()/afd_json_get_int(). */
typedef enum {
  AFD_JSON_OPTIONAL = 0,
  AFD_JSON_REQUIRED = 1 << 0,    /* missing key is an error */
  AFD_JSON_POSITIVE = 1 << 1,    /* value > 0 */
  AFD_JSON_NONNEGATIVE = 1 << 2, /* value >= 0 */
  AFD_JSON_FRACTION = 1 << 3,    /* 0 < value <= 1 */
  AFD_JSON_INTEGER = 1 << 4,     /* value has no fractional part */
} AfdJsonFlags;

/* Where a value sits, for messages: the file, the JSON path of the object, the error code. */
typedef struct {
  const char *file; /* borrowed; shown first in every message */
  const char *path; /* borrowed; JSON path of the object being read, "" for the root */
  int code;         /* AfdError code for validation problems (e.g. AFD_ERROR_CONFIG) */
} AfdJsonWhere;

/**
 * afd_json_parse_file:
 * @path: file to read
 * @code: AfdError code used for a syntax error (I/O problems are AFD_ERROR_IO)
 *
 * Returns: (transfer full) (nullable): the parsed tree, or %NULL with @error set to
 *   "PATH: line L, column C: invalid JSON near '…'"
 */
cJSON *afd_json_parse_file (const char *path, int code, GError **error);

/**
 * afd_json_parse_text:
 * @text: NUL-terminated JSON text
 * @name: what to call the text in messages (a file name, "--json argument", …)
 *
 * Returns: (transfer full) (nullable): the parsed tree, or %NULL with @error set
 */
cJSON *afd_json_parse_text (const char *text, const char *name, int code, GError **error);

/**
 * afd_json_check_object:
 * @node: the value that must be an object
 * @allowed: %NULL-terminated list of the keys the object may have
 *
 * Checks that @node is an object whose keys are all in @allowed and none repeats.
 *
 * Returns: %FALSE with @error naming the first offending key
 */
gboolean afd_json_check_object (const cJSON *node, const AfdJsonWhere *where,
                                const char *const *allowed, GError **error);

/**
 * afd_json_get_number:
 * @inout_value: default on entry; the value on success when the key is present
 *
 * Reads a finite number under @key of @obj and checks @flags.
 *
 * Returns: %FALSE with @error set if the key is missing but required, not a number, or
 *   outside the constraint
 */
gboolean afd_json_get_number (const cJSON *obj, const AfdJsonWhere *where, const char *key,
                              AfdJsonFlags flags, double *inout_value, GError **error);

/**
 * afd_json_get_int:
 * @min: smallest accepted value
 * @max: largest accepted value
 * @inout_value: default on entry; the value on success when the key is present
 *
 * Returns: %FALSE with @error set if missing but required, not an integer, or out of range
 */
gboolean afd_json_get_int (const cJSON *obj, const AfdJsonWhere *where, const char *key,
                           AfdJsonFlags flags, gint64 min, gint64 max, gint64 *inout_value,
                           GError **error);

/**
 * afd_json_get_string:
 * @inout_value: (inout) (transfer full): default on entry (may be %NULL); replaced by a
 *   g_strdup()ed copy when the key is present
 *
 * Returns: %FALSE with @error set if missing but required, not a string, or empty
 */
gboolean afd_json_get_string (const cJSON *obj, const AfdJsonWhere *where, const char *key,
                              AfdJsonFlags flags, char **inout_value, GError **error);

/**
 * afd_json_get_bool:
 * Returns: %FALSE with @error set if missing but required, or not true/false
 */
gboolean afd_json_get_bool (const cJSON *obj, const AfdJsonWhere *where, const char *key,
                            AfdJsonFlags flags, gboolean *inout_value, GError **error);

/**
 * afd_json_get_child:
 * @type: cJSON_Object or cJSON_Array
 * @out_child: (out) (transfer none) (nullable): the child, %NULL when absent and optional
 *
 * Returns: %FALSE with @error set if missing but required or of the wrong type
 */
gboolean afd_json_get_child (const cJSON *obj, const AfdJsonWhere *where, const char *key,
                             AfdJsonFlags flags, int type, const cJSON **out_child,
                             GError **error);

/**
 * afd_json_path:
 * Returns: (transfer full): "@parent.@key" (or "@key" when @parent is empty)
 */
char *afd_json_path (const char *parent, const char *key);

/**
 * afd_json_path_index:
 * Returns: (transfer full): "@parent[@index]"
 */
char *afd_json_path_index (const char *parent, guint index);

/**
 * afd_json_write_file:
 * @root: tree to write (formatted, with a trailing newline)
 *
 * Writes atomically through afd_file_write_atomic() (sim/files.h), so readers see either the
 * old file or the whole new one.
 *
 * Returns: %FALSE with @error (AFD_ERROR_IO) naming @path
 */
gboolean afd_json_write_file (const char *path, const cJSON *root, GError **error);

/**
 * afd_file_write_atomic:
 * Writes @len bytes of @data to @path with the output writer of sim/files.h: through a
 * temporary file renamed over the target (symbolic links followed, so a link stays a link),
 * or straight into an existing device, FIFO or /dev/stdout (never renamed over).
 *
 * Returns: %FALSE with @error (AFD_ERROR_IO) naming @path
 */
gboolean afd_file_write_atomic (const char *path, const char *data, gsize len, GError **error);

/**
 * afd_json_add_number:
 * Adds @value under @key; a non-finite value is written as null (JSON has no NaN).
 *
 * Returns: (transfer none): the added item
 */
cJSON *afd_json_add_number (cJSON *obj, const char *key, double value);

G_END_DECLS

#endif /* AFD_SIM_JSON_H */
