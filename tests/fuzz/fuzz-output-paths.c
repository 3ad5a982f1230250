/* SPDX-License-Identifier: MIT */
/*
 * fuzz-output-paths.c - libFuzzer target for sim/files.c: the output-path checks and the
 * output writer on fuzzed combinations of paths (issue #14).
 *
 * A scratch folder holds a fixed pool: two regular files, a symbolic link to each, a link to
 * a link, a dangling link, a FIFO, a folder, names that do not exist, and the same names
 * spelled through "./" and "sub/..". Each input byte picks a pool entry; the first byte splits
 * them into outputs and inputs. Rules checked:
 *   - afd_files_check_distinct() refuses exactly when an output is the same file as another
 *     output or an input (computed here independently: realpath(3) of the target, or of its
 *     folder for a name that does not exist), with AFD_ERROR_USAGE naming both flags; the
 *     FIFO as two outputs is allowed;
 *   - writing the first output (afd_file_write_atomic) never changes any other pool entry,
 *     keeps every symbolic link a link, keeps the FIFO a FIFO (it is skipped: opening it for
 *     writing would wait for a reader), and leaves no temporary file.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "sim/files.h"
#include "sim/json.h"
#include "tests/fuzz/fuzz-common.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const char *const pool[] = { "a.json",       "b.json",   "la",      "lb",
                                    "lla",          "dangling", "fifo",    "dir",
                                    "new1.json",    "new2.json", "./a.json", "sub/../b.json",
                                    "sub/../new1.json", "dir/x.json" };
#define N_POOL G_N_ELEMENTS (pool)
static char *root;

/* (Re)creates the pool in @root: the previous input may have replaced any of it. */
static void
make_pool (void)
{
  static const char *const removable[] = { "a.json", "b.json", "la", "lb", "lla", "dangling",
                                           "fifo", "new1.json", "new2.json", "dir/x.json",
                                           "missing.json" };
  for (guint i = 0; i < G_N_ELEMENTS (removable); i++)
    {
      g_autofree char *p = g_build_filename (root, removable[i], NULL);
      g_unlink (p);
    }
  g_autofree char *a = g_build_filename (root, "a.json", NULL);
  g_autofree char *b = g_build_filename (root, "b.json", NULL);
  if (!g_file_set_contents (a, "A", 1, NULL) || !g_file_set_contents (b, "B", 1, NULL))
    fuzz_fail ("cannot write the pool");
  const char *links[][2] = { { "a.json", "la" }, { "b.json", "lb" }, { "la", "lla" },
                             { "missing.json", "dangling" } };
  for (guint i = 0; i < G_N_ELEMENTS (links); i++)
    {
      g_autofree char *p = g_build_filename (root, links[i][1], NULL);
      if (symlink (links[i][0], p) != 0)
        fuzz_fail ("cannot link %s", p);
    }
  g_autofree char *fifo = g_build_filename (root, "fifo", NULL);
  g_autofree char *dir = g_build_filename (root, "dir", NULL);
  g_autofree char *sub = g_build_filename (root, "sub", NULL);
  if (mkfifo (fifo, 0600) != 0)
    fuzz_fail ("cannot make %s", fifo);
  g_mkdir (dir, 0700);
  g_mkdir (sub, 0700);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_glib ();
  root = g_strdup (fuzz_scratch_path ("pool"));
  g_mkdir_with_parents (root, 0700);
  return 0;
}

/* The identity of pool entry @i as this target sees it (independently of sim/files.c). */
static char *
identity (guint i, gboolean *out_exists, gboolean *out_regular)
{
  g_autofree char *p = g_build_filename (root, pool[i], NULL);
  struct stat st;
  *out_exists = stat (p, &st) == 0;
  *out_regular = *out_exists && S_ISREG (st.st_mode);
  char buf[PATH_MAX];
  if (*out_exists)
    return g_strdup (realpath (p, buf));
  if (strcmp (pool[i], "dangling") == 0)
    return g_build_filename (root, "missing.json", NULL);
  g_autofree char *dir = g_path_get_dirname (p);
  g_autofree char *base = g_path_get_basename (p);
  if (realpath (dir, buf) == NULL)
    return g_strdup (p);
  return g_build_filename (buf, base, NULL);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size < 2 || size > 9)
    return 0;
  make_pool ();
  guint n = (guint) size - 1;
  guint n_out = 1 + data[0] % n;
  g_autofree char **paths = g_new0 (char *, n);
  g_autofree guint *idx = g_new0 (guint, n);
  AfdFileUse uses[8];
  static const char *const flags[] = { "--o0", "--o1", "--o2", "--o3",
                                       "--o4", "--o5", "--o6", "--o7" };
  for (guint i = 0; i < n; i++)
    {
      idx[i] = data[1 + i] % N_POOL;
      paths[i] = g_build_filename (root, pool[idx[i]], NULL);
      uses[i] = (AfdFileUse) { flags[i], paths[i] };
    }

  /* Expected: refused iff an output equals a later output (both not the FIFO) or an input. */
  gboolean expect_refused = FALSE;
  for (guint i = 0; i < n_out && !expect_refused; i++)
    for (guint j = 0; j < n && !expect_refused; j++)
      {
        if (j == i || (j < n_out && j < i))
          continue;
        gboolean ei, ri, ej, rj;
        g_autofree char *a = identity (idx[i], &ei, &ri);
        g_autofree char *b = identity (idx[j], &ej, &rj);
        if (j < n_out && ei && !ri)
          continue;
        expect_refused = ei == ej && strcmp (a, b) == 0;
      }
  g_autoptr (GError) error = NULL;
  gboolean ok = afd_files_check_distinct (uses, n_out, uses + n_out, n - n_out, &error);
  fuzz_assert (ok == !expect_refused, "check_distinct %s, expected %s (%s)",
               ok ? "accepted" : "refused", expect_refused ? "refused" : "accepted",
               error ? error->message : "");
  if (!ok)
    {
      fuzz_assert (g_error_matches (error, AFD_ERROR, AFD_ERROR_USAGE) && fuzz_is_one_line (error->message)
                       && strstr (error->message, " name the same file ") != NULL,
                   "bad refusal: %s", error->message);
      for (guint i = 0; i < n; i++)
        g_free (paths[i]);
      return 0;
    }

  /* Write the first output unless it is the FIFO (no reader) or the folder. */
  const char *first = pool[idx[0]];
  if (strcmp (first, "fifo") != 0 && strcmp (first, "dir") != 0)
    {
      g_autofree char *before_a = NULL, *before_b = NULL;
      gboolean ea, ra;
      g_autofree char *target = identity (idx[0], &ea, &ra);
      g_autofree char *pa = g_build_filename (root, "a.json", NULL);
      g_autofree char *pb = g_build_filename (root, "b.json", NULL);
      g_file_get_contents (pa, &before_a, NULL, NULL);
      g_file_get_contents (pb, &before_b, NULL, NULL);
      g_autoptr (GError) werr = NULL;
      if (afd_file_write_atomic (paths[0], "NEW", 3, &werr))
        {
          g_autofree char *got = NULL;
          fuzz_assert (g_file_get_contents (target, &got, NULL, NULL) && strcmp (got, "NEW") == 0,
                       "%s: the target %s does not hold the data", first, target);
        }
      /* Every other file keeps its content; every link stays a link; the FIFO stays. */
      g_autofree char *after_a = NULL, *after_b = NULL;
      g_file_get_contents (pa, &after_a, NULL, NULL);
      g_file_get_contents (pb, &after_b, NULL, NULL);
      fuzz_assert (strcmp (target, pa) == 0 || g_strcmp0 (before_a, after_a) == 0, "a.json changed");
      fuzz_assert (strcmp (target, pb) == 0 || g_strcmp0 (before_b, after_b) == 0, "b.json changed");
      static const char *const links[] = { "la", "lb", "lla", "dangling" };
      for (guint i = 0; i < G_N_ELEMENTS (links); i++)
        {
          g_autofree char *p = g_build_filename (root, links[i], NULL);
          fuzz_assert (g_file_test (p, G_FILE_TEST_IS_SYMLINK), "%s is no longer a link", links[i]);
        }
      g_autofree char *fifo = g_build_filename (root, "fifo", NULL);
      struct stat st;
      fuzz_assert (stat (fifo, &st) == 0 && S_ISFIFO (st.st_mode), "the FIFO was replaced");
      g_autoptr (GDir) d = g_dir_open (root, 0, NULL);
      const char *name;
      while (d != NULL && (name = g_dir_read_name (d)) != NULL)
        fuzz_assert (strstr (name, ".tmp-") == NULL, "temporary file %s left", name);
    }
  for (guint i = 0; i < n; i++)
    g_free (paths[i]);
  return 0;
}
