/* SPDX-License-Identifier: MIT */
/*
 * json.c - strict cJSON reading helpers and atomic writing (see sim/json.h).
 *
 * Messages have one shape: "FILE: PATH.KEY: problem". Numbers in messages use %.17g so a
 * reader sees exactly what was parsed.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "sim/error.h"
#include "sim/files.h"
#include "sim/json.h"

/* Longest key path shown in a message, in characters; longer ones end in "...". */
#define SHOWN_MAX_CHARS 120

/*
 * Returns a copy of @s fit for a one-line message: invalid UTF-8 becomes U+FFFD, control
 * characters become \xNN, and more than SHOWN_MAX_CHARS characters are cut. Keys and snippets
 * come from the input file, which may hold anything.
 */
static char *
printable (const char *s)
{
  g_autofree char *valid = g_utf8_make_valid (s, -1);
  if (g_utf8_strlen (valid, -1) > SHOWN_MAX_CHARS)
    {
      g_autofree char *cut = g_utf8_substring (valid, 0, SHOWN_MAX_CHARS);
      g_free (valid);
      valid = g_strconcat (cut, "...", NULL);
    }
  GString *out = g_string_sized_new (strlen (valid));
  for (const char *p = valid; *p; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      g_string_append_printf (out, "\\x%02x", (guchar) *p);
    else
      g_string_append_c (out, *p);
  return g_string_free (out, FALSE);
}

/* Formats "file: path.key" (or "file: key"), the path made printable. */
static char *
where_key (const AfdJsonWhere *where, const char *key)
{
  g_autofree char *path = afd_json_path (where->path, key);
  g_autofree char *shown = printable (path);
  return g_strdup_printf ("%s: %s", where->file, shown);
}

char *
afd_json_path (const char *parent, const char *key)
{
  if (parent == NULL || parent[0] == '\0')
    return g_strdup (key);
  return g_strdup_printf ("%s.%s", parent, key);
}

char *
afd_json_path_index (const char *parent, guint index)
{
  return g_strdup_printf ("%s[%u]", parent ? parent : "", index);
}

/* Turns a byte offset into a 1-based line and column. */
static void
offset_to_line_column (const char *text, gsize offset, guint *out_line, guint *out_column)
{
  guint line = 1, column = 1;
  for (gsize i = 0; i < offset && text[i] != '\0'; i++)
    {
      if (text[i] == '\n')
        {
          line++;
          column = 1;
        }
      else
        column++;
    }
  *out_line = line;
  *out_column = column;
}

/*
 * Returns the byte offset of the first "\u0000" escape inside a string of @text, or -1.
 * cJSON decodes it into a C string, which silently ends there ("a\u0000b" would read as "a").
 */
static gssize
find_nul_escape (const char *text)
{
  gboolean in_string = FALSE;
  for (const char *p = text; *p; p++)
    {
      if (!in_string)
        in_string = *p == '"';
      else if (*p == '"')
        in_string = FALSE;
      else if (*p == '\\')
        {
          if (g_str_has_prefix (p + 1, "u0000"))
            return p - text;
          if (p[1] != '\0')
            p++; /* skip the escaped character, so \\ and \" do not confuse the scan */
        }
    }
  return -1;
}

/* Returns the first control character of @s (0x00-0x1f, 0x7f), or 0 when there is none. */
static guchar
first_control (const char *s)
{
  for (const char *p = s; *p; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      return (guchar) *p;
  return 0;
}

/* Checks that @text (a key or a string value at @path) is UTF-8 without control characters. */
static gboolean
check_text (const char *text, gboolean is_key, const char *path, const char *name, int code,
            GError **error)
{
  const char *what = is_key ? "key " : "";
  g_autofree char *shown = printable (path[0] ? path : "top level");
  if (!g_utf8_validate (text, -1, NULL))
    {
      g_set_error (error, AFD_ERROR, code, "%s: %s: %sis not valid UTF-8", name, shown, what);
      return FALSE;
    }
  guchar c = first_control (text);
  if (c != 0)
    {
      g_set_error (error, AFD_ERROR, code,
                   "%s: %s: %smust not contain control characters (found \\x%02x)", name, shown,
                   what, c);
      return FALSE;
    }
  return TRUE;
}

/*
 * Checks every key and string of the tree under @node (at @path): UTF-8 without control
 * characters. Readers copy names, ids and specs into messages, tables and results, so text
 * cJSON accepts (raw control characters, any bytes) is refused once, here (fuzz findings).
 */
static gboolean
check_text_tree (const cJSON *node, const char *path, const char *name, int code,
                 GError **error)
{
  guint index = 0;
  for (const cJSON *item = node->child; item != NULL; item = item->next, index++)
    {
      const char *key = cJSON_IsObject (node) ? item->string : NULL;
      gboolean nested = cJSON_IsObject (item) || cJSON_IsArray (item);
      gboolean text = cJSON_IsString (item) && item->valuestring != NULL;
      if (key == NULL && !nested && !text)
        continue;
      g_autofree char *at = key ? afd_json_path (path, key) : afd_json_path_index (path, index);
      if ((key != NULL && !check_text (key, TRUE, at, name, code, error))
          || (text && !check_text (item->valuestring, FALSE, at, name, code, error))
          || (nested && !check_text_tree (item, at, name, code, error)))
        return FALSE;
    }
  return TRUE;
}

cJSON *
afd_json_parse_text (const char *text, const char *name, int code, GError **error)
{
  gsize len = strlen (text);
  gssize nul = find_nul_escape (text);
  if (nul >= 0)
    {
      guint line, column;
      offset_to_line_column (text, (gsize) nul, &line, &column);
      g_set_error (error, AFD_ERROR, code,
                   "%s: line %u, column %u: \\u0000 (NUL) in a string is not supported", name,
                   line, column);
      return NULL;
    }
  const char *end = NULL;
  /* The length includes the terminating NUL, which require_null_terminated checks for. */
  cJSON *root = cJSON_ParseWithLengthOpts (text, len + 1, &end, TRUE);
  if (root != NULL)
    {
      if (!check_text_tree (root, "", name, code, error))
        {
          cJSON_Delete (root);
          return NULL;
        }
      return root;
    }

  /* cJSON reports where parsing stopped; that is the first offending character. */
  gsize offset = end != NULL && end >= text ? (gsize) (end - text) : 0;
  if (offset > len)
    offset = len;
  guint line, column;
  offset_to_line_column (text, offset, &line, &column);
  g_autofree char *raw = g_strndup (text + offset, 16);
  for (char *p = raw; *p; p++)
    if (*p == '\n' || *p == '\r' || *p == '\t')
      *p = ' ';
  /* The 16 bytes may end inside a UTF-8 sequence or hold control bytes. */
  g_autofree char *near = printable (raw);
  if (offset >= len)
    g_set_error (error, AFD_ERROR, code, "%s: line %u, column %u: invalid JSON (unexpected end)",
                 name, line, column);
  else
    g_set_error (error, AFD_ERROR, code, "%s: line %u, column %u: invalid JSON near '%s'", name,
                 line, column, near);
  return NULL;
}

cJSON *
afd_json_parse_file (const char *path, int code, GError **error)
{
  g_autofree char *text = NULL;
  gsize len = 0;
  /* Regular files only, at most AFD_FILES_INPUT_MAX_BYTES (a FIFO or /dev/zero never hangs). */
  if (!afd_file_read (path, AFD_FILES_INPUT_MAX_BYTES, &text, &len, error))
    return NULL;
  if (memchr (text, '\0', len) != NULL)
    {
      g_set_error (error, AFD_ERROR, code, "%s: contains a NUL byte; not a JSON text file", path);
      return NULL;
    }
  return afd_json_parse_text (text, path, code, error);
}

gboolean
afd_json_check_object (const cJSON *node, const AfdJsonWhere *where, const char *const *allowed,
                       GError **error)
{
  g_autofree char *shown = printable (where->path && where->path[0] ? where->path : "top level");
  if (node == NULL || !cJSON_IsObject (node))
    {
      g_set_error (error, AFD_ERROR, where->code, "%s: %s: must be a JSON object", where->file,
                   shown);
      return FALSE;
    }
  /* Duplicates are found with a hash set: an object may hold any number of keys. */
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  for (const cJSON *item = node->child; item != NULL; item = item->next)
    {
      gboolean known = FALSE;
      for (guint i = 0; allowed != NULL && allowed[i] != NULL; i++)
        if (item->string != NULL && strcmp (item->string, allowed[i]) == 0)
          {
            known = TRUE;
            break;
          }
      if (!known)
        {
          g_autofree char *at = where_key (where, item->string ? item->string : "(null)");
          g_autoptr (GString) list = g_string_new (NULL);
          for (guint i = 0; allowed != NULL && allowed[i] != NULL; i++)
            g_string_append_printf (list, "%s%s", i ? ", " : "", allowed[i]);
          g_set_error (error, AFD_ERROR, where->code, "%s: unknown key (allowed: %s)", at,
                       list->len ? list->str : "none");
          return FALSE;
        }
      if (!g_hash_table_add (seen, item->string))
        {
          g_autofree char *at = where_key (where, item->string);
          g_set_error (error, AFD_ERROR, where->code, "%s: duplicate key", at);
          return FALSE;
        }
    }
  return TRUE;
}

/* Looks @key up; reports a missing required key. Sets *out_item to NULL when absent. */
static gboolean
lookup (const cJSON *obj, const AfdJsonWhere *where, const char *key, AfdJsonFlags flags,
        const cJSON **out_item, GError **error)
{
  const cJSON *item = obj ? cJSON_GetObjectItemCaseSensitive (obj, key) : NULL;
  if (item == NULL && (flags & AFD_JSON_REQUIRED))
    {
      g_autofree char *at = where_key (where, key);
      g_set_error (error, AFD_ERROR, where->code, "%s: missing required key", at);
      return FALSE;
    }
  *out_item = item;
  return TRUE;
}

/* Checks the sign/range flags on @value. */
static gboolean
check_number (const AfdJsonWhere *where, const char *key, AfdJsonFlags flags, double value,
              GError **error)
{
  g_autofree char *at = where_key (where, key);
  if (!isfinite (value))
    {
      g_set_error (error, AFD_ERROR, where->code, "%s: must be a finite number", at);
      return FALSE;
    }
  if ((flags & AFD_JSON_POSITIVE) && !(value > 0))
    {
      g_set_error (error, AFD_ERROR, where->code, "%s: must be > 0 (got %.17g)", at, value);
      return FALSE;
    }
  if ((flags & AFD_JSON_NONNEGATIVE) && !(value >= 0))
    {
      g_set_error (error, AFD_ERROR, where->code, "%s: must be >= 0 (got %.17g)", at, value);
      return FALSE;
    }
  if ((flags & AFD_JSON_FRACTION) && !(value > 0 && value <= 1))
    {
      g_set_error (error, AFD_ERROR, where->code, "%s: must be in (0, 1] (got %.17g)", at, value);
      return FALSE;
    }
  if ((flags & AFD_JSON_INTEGER) && value != floor (value))
    {
      g_set_error (error, AFD_ERROR, where->code, "%s: must be a whole number (got %.17g)", at,
                   value);
      return FALSE;
    }
  return TRUE;
}

gboolean
afd_json_get_number (const cJSON *obj, const AfdJsonWhere *where, const char *key,
                     AfdJsonFlags flags, double *inout_value, GError **error)
{
  const cJSON *item;
  if (!lookup (obj, where, key, flags, &item, error))
    return FALSE;
  if (item == NULL)
    return TRUE;
  if (!cJSON_IsNumber (item))
    {
      g_autofree char *at = where_key (where, key);
      g_set_error (error, AFD_ERROR, where->code, "%s: must be a number", at);
      return FALSE;
    }
  if (!check_number (where, key, flags, item->valuedouble, error))
    return FALSE;
  *inout_value = item->valuedouble;
  return TRUE;
}

gboolean
afd_json_get_int (const cJSON *obj, const AfdJsonWhere *where, const char *key,
                  AfdJsonFlags flags, gint64 min, gint64 max, gint64 *inout_value, GError **error)
{
  const cJSON *item;
  if (!lookup (obj, where, key, flags, &item, error))
    return FALSE;
  if (item == NULL)
    return TRUE;
  g_autofree char *at = where_key (where, key);
  if (!cJSON_IsNumber (item))
    {
      g_set_error (error, AFD_ERROR, where->code, "%s: must be an integer", at);
      return FALSE;
    }
  double v = item->valuedouble;
  if (!check_number (where, key, flags | AFD_JSON_INTEGER, v, error))
    return FALSE;
  /* Doubles hold integers exactly only up to 2^53; larger values are rejected as imprecise. */
  if (fabs (v) > 9007199254740992.0 || v < (double) min || v > (double) max)
    {
      g_set_error (error, AFD_ERROR, where->code,
                   "%s: must be an integer in [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
                   "] (got %.17g)",
                   at, min, max, v);
      return FALSE;
    }
  *inout_value = (gint64) v;
  return TRUE;
}

gboolean
afd_json_get_string (const cJSON *obj, const AfdJsonWhere *where, const char *key,
                     AfdJsonFlags flags, char **inout_value, GError **error)
{
  const cJSON *item;
  if (!lookup (obj, where, key, flags, &item, error))
    return FALSE;
  if (item == NULL)
    return TRUE;
  g_autofree char *at = where_key (where, key);
  if (!cJSON_IsString (item) || item->valuestring == NULL)
    {
      g_set_error (error, AFD_ERROR, where->code, "%s: must be a string", at);
      return FALSE;
    }
  if (item->valuestring[0] == '\0')
    {
      g_set_error (error, AFD_ERROR, where->code, "%s: must not be empty", at);
      return FALSE;
    }
  if (!g_utf8_validate (item->valuestring, -1, NULL))
    {
      g_set_error (error, AFD_ERROR, where->code, "%s: is not valid UTF-8", at);
      return FALSE;
    }
  /* Names, ids and specs end up in one-line messages and tables (fuzz finding). */
  for (const char *p = item->valuestring; *p; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      {
        g_set_error (error, AFD_ERROR, where->code,
                     "%s: must not contain control characters (found \\x%02x)", at, (guchar) *p);
        return FALSE;
      }
  g_free (*inout_value);
  *inout_value = g_strdup (item->valuestring);
  return TRUE;
}

gboolean
afd_json_get_bool (const cJSON *obj, const AfdJsonWhere *where, const char *key,
                   AfdJsonFlags flags, gboolean *inout_value, GError **error)
{
  const cJSON *item;
  if (!lookup (obj, where, key, flags, &item, error))
    return FALSE;
  if (item == NULL)
    return TRUE;
  if (!cJSON_IsBool (item))
    {
      g_autofree char *at = where_key (where, key);
      g_set_error (error, AFD_ERROR, where->code, "%s: must be true or false", at);
      return FALSE;
    }
  *inout_value = cJSON_IsTrue (item);
  return TRUE;
}

gboolean
afd_json_get_child (const cJSON *obj, const AfdJsonWhere *where, const char *key,
                    AfdJsonFlags flags, int type, const cJSON **out_child, GError **error)
{
  const cJSON *item;
  if (!lookup (obj, where, key, flags, &item, error))
    return FALSE;
  if (item != NULL && (item->type & 0xFF) != type)
    {
      g_autofree char *at = where_key (where, key);
      g_set_error (error, AFD_ERROR, where->code, "%s: must be a JSON %s", at,
                   type == cJSON_Array ? "array" : "object");
      return FALSE;
    }
  *out_child = item;
  return TRUE;
}

gboolean
afd_file_write_atomic (const char *path, const char *data, gsize len, GError **error)
{
  /* Temp file + fsync + rename, or straight into a device/FIFO (sim/files.h). */
  g_autoptr (AfdOutput) out = afd_output_open (path, error);
  if (out == NULL)
    return FALSE;
  afd_output_write (out, data, len);
  return afd_output_commit (out, error);
}

gboolean
afd_json_write_file (const char *path, const cJSON *root, GError **error)
{
  g_autofree char *text = cJSON_Print (root);
  if (text == NULL)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_IO, "cannot write %s: out of memory", path);
      return FALSE;
    }
  g_autoptr (GString) out = g_string_new (text);
  g_string_append_c (out, '\n');
  return afd_file_write_atomic (path, out->str, out->len, error);
}

cJSON *
afd_json_add_number (cJSON *obj, const char *key, double value)
{
  if (!isfinite (value))
    return cJSON_AddNullToObject (obj, key);
  return cJSON_AddNumberToObject (obj, key, value);
}
