/* SPDX-License-Identifier: MIT */
/*
 * fuzz-common.h - shared helpers of the libFuzzer targets in tests/fuzz/fuzz-*.c.
 *
 * Every target feeds arbitrary bytes to one afdsim reader and checks the rules of the house
 * for input errors: the reader returns a GError in the AFD_ERROR domain with one of the codes
 * it documents, the message names the file, is valid UTF-8 and is one line; it never crashes,
 * leaks, trips a sanitizer or logs a GLib warning/critical (those are made fatal). A broken
 * rule calls abort(), which libFuzzer reports as a crash with the input that caused it.
 * Readers that only take a path get the bytes through a file in /dev/shm (or $TMPDIR).
 */
#ifndef AFD_TESTS_FUZZ_COMMON_H
#define AFD_TESTS_FUZZ_COMMON_H

#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/error.h"

/* Reports a broken rule with the message that broke it, then crashes for libFuzzer. */
#define fuzz_fail(...)                                                                   \
  do                                                                                     \
    {                                                                                    \
      fprintf (stderr, "fuzz rule broken at %s:%d: ", __FILE__, __LINE__);             \
      fprintf (stderr, __VA_ARGS__);                                                     \
      fputc ('\n', stderr);                                                              \
      abort ();                                                                          \
    }                                                                                    \
  while (0)

#define fuzz_assert(cond, ...)                                                           \
  do                                                                                     \
    {                                                                                    \
      if (!(cond))                                                                       \
        fuzz_fail (__VA_ARGS__);                                                         \
    }                                                                                    \
  while (0)

/* Makes GLib warnings and criticals (g_return_if_fail, g_warning) fatal: each is a bug. */
static inline void
fuzz_init_glib (void)
{
  g_log_set_always_fatal (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  /* Shipped names (GPU models in cluster files, ...) resolve against the source tree. */
  if (g_getenv ("AFDSIM_DATA_DIR") == NULL && g_file_test (AFD_FUZZ_SRCDIR "/topologies",
                                                            G_FILE_TEST_IS_DIR))
    g_setenv ("AFDSIM_DATA_DIR", AFD_FUZZ_SRCDIR, TRUE);
}

/* Returns: (transfer full): the bytes up to the first NUL, NUL-terminated. */
static inline char *
fuzz_text (const uint8_t *data, size_t size)
{
  const uint8_t *nul = memchr (data, '\0', size);
  return g_strndup ((const char *) data, nul ? (gsize) (nul - data) : size);
}

static char *fuzz_scratch_dir = NULL;
static GHashTable *fuzz_scratch_paths = NULL;

/* Removes the scratch files and folder when the fuzzer exits. */
static inline void
fuzz_scratch_cleanup (void)
{
  if (fuzz_scratch_paths != NULL)
    {
      GHashTableIter it;
      gpointer path;
      g_hash_table_iter_init (&it, fuzz_scratch_paths);
      while (g_hash_table_iter_next (&it, NULL, &path))
        {
          /* A test may leave a folder where a file was. */
          if (remove (path) != 0)
            (void) rmdir (path);
        }
    }
  if (fuzz_scratch_dir != NULL)
    (void) rmdir (fuzz_scratch_dir);
}

/* Returns: (transfer none): a per-process path NAME in a scratch folder (made once). */
static inline const char *
fuzz_scratch_path (const char *name)
{
  char *dir = fuzz_scratch_dir;
  GHashTable *paths = fuzz_scratch_paths;
  if (dir == NULL)
    {
      /* tests/fuzz/run.sh names a folder it removes at the end, even after a crash. */
      const char *base = g_getenv ("AFD_FUZZ_SCRATCH");
      if (base == NULL || base[0] == '\0')
        base = g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR) ? "/dev/shm" : g_get_tmp_dir ();
      dir = g_strdup_printf ("%s/afd-fuzz-%d", base, (int) getpid ());
      if (g_mkdir_with_parents (dir, 0700) != 0)
        fuzz_fail ("cannot create %s", dir);
      paths = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      fuzz_scratch_dir = dir;
      fuzz_scratch_paths = paths;
      atexit (fuzz_scratch_cleanup);
    }
  char *path = g_hash_table_lookup (paths, name);
  if (path == NULL)
    {
      path = g_build_filename (dir, name, NULL);
      g_hash_table_insert (paths, g_strdup (name), path);
    }
  return path;
}

/* Writes @size bytes to the scratch file NAME and returns its path (transfer none). */
static inline const char *
fuzz_write_file (const char *name, const uint8_t *data, size_t size)
{
  const char *path = fuzz_scratch_path (name);
  FILE *f = fopen (path, "wb");
  if (f == NULL)
    fuzz_fail ("cannot write %s", path);
  if (size > 0 && fwrite (data, 1, size, f) != size)
    fuzz_fail ("short write to %s", path);
  fclose (f);
  return path;
}

/* TRUE when @s is valid UTF-8 without line breaks: a message main() can print as one line. */
static inline gboolean
fuzz_is_one_line (const char *s)
{
  return g_utf8_validate (s, -1, NULL) && strchr (s, '\n') == NULL && strchr (s, '\r') == NULL;
}

/*
 * Checks a reader's error: AFD_ERROR domain, a code in @codes (terminated by -1), a message
 * that names @file (when non-NULL) and is a single valid UTF-8 line.
 */
static inline void
fuzz_check_error (const GError *error, const char *file, const int *codes)
{
  fuzz_assert (error != NULL, "reader failed without setting an error");
  fuzz_assert (error->domain == AFD_ERROR, "error outside AFD_ERROR: %s", error->message);
  gboolean known = FALSE;
  for (guint i = 0; codes[i] >= 0; i++)
    known = known || error->code == codes[i];
  fuzz_assert (known, "unexpected error code %d: %s", error->code, error->message);
  fuzz_assert (file == NULL || strstr (error->message, file) != NULL,
               "message does not name the file %s: %s", file, error->message);
  fuzz_assert (fuzz_is_one_line (error->message), "message is not one valid UTF-8 line: %s",
               error->message);
}

#endif /* AFD_TESTS_FUZZ_COMMON_H */
