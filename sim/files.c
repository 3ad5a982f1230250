/* SPDX-License-Identifier: MIT */
/*
 * files.c - bounded reading of inputs, outputs that never clobber what they must not, and
 * removal of temporary files on SIGINT/SIGTERM/SIGHUP (see sim/files.h).
 *
 * File identity is (st_dev, st_ino) after following links (stat(2)); a file that does not
 * exist yet is identified by its resolved name: realpath(3) of its folder plus its base name,
 * after following a dangling symbolic link.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "sim/error.h"
#include "sim/files.h"

/* Symbolic links followed before giving up, as the kernel's own limit (MAXSYMLINKS). */
#define LINK_HOPS_MAX 40

/* Names a non-regular file type for messages. */
static const char *
type_name (mode_t mode)
{
  if (S_ISDIR (mode))
    return "a directory";
  if (S_ISFIFO (mode))
    return "a FIFO";
  if (S_ISCHR (mode))
    return "a character device";
  if (S_ISBLK (mode))
    return "a block device";
  if (S_ISSOCK (mode))
    return "a socket";
  return "not a regular file";
}

gboolean
afd_file_read (const char *path, guint64 max_bytes, char **out_data, gsize *out_len,
               GError **error)
{
  /* O_NONBLOCK: opening a FIFO for reading must not wait for a writer. */
  int fd = g_open (path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved = errno;
      if (saved == ENOENT)
        g_set_error (error, AFD_ERROR, AFD_ERROR_IO, "%s: no such file", path);
      else
        g_set_error (error, AFD_ERROR, AFD_ERROR_IO, "%s: %s", path, g_strerror (saved));
      return FALSE;
    }
  struct stat st;
  if (fstat (fd, &st) != 0)
    {
      int saved = errno;
      close (fd);
      g_set_error (error, AFD_ERROR, AFD_ERROR_IO, "%s: %s", path, g_strerror (saved));
      return FALSE;
    }
  if (S_ISDIR (st.st_mode))
    {
      close (fd);
      g_set_error (error, AFD_ERROR, AFD_ERROR_IO, "%s: is a directory, expected a JSON file",
                   path);
      return FALSE;
    }
  if (!S_ISREG (st.st_mode))
    {
      close (fd);
      g_set_error (error, AFD_ERROR, AFD_ERROR_IO, "%s: is %s, not a regular file", path,
                   type_name (st.st_mode));
      return FALSE;
    }
  if ((guint64) st.st_size > max_bytes)
    {
      close (fd);
      g_set_error (error, AFD_ERROR, AFD_ERROR_IO,
                   "%s: %" G_GUINT64_FORMAT " bytes, more than the limit of %" G_GUINT64_FORMAT
                   " bytes for an input file",
                   path, (guint64) st.st_size, max_bytes);
      return FALSE;
    }
  /* The file may grow while read: read at most max_bytes + 1 to notice. */
  gsize cap = (gsize) st.st_size + 1, len = 0;
  char *data = g_malloc (cap + 1);
  for (;;)
    {
      if (len == cap)
        {
          if (len > max_bytes)
            break;
          cap = MIN (cap * 2, (gsize) max_bytes + 1);
          data = g_realloc (data, cap + 1);
        }
      ssize_t n = read (fd, data + len, cap - len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;
          close (fd);
          g_free (data);
          g_set_error (error, AFD_ERROR, AFD_ERROR_IO, "%s: %s", path, g_strerror (saved));
          return FALSE;
        }
      if (n == 0)
        break;
      len += (gsize) n;
    }
  close (fd);
  if (len > max_bytes)
    {
      g_free (data);
      g_set_error (error, AFD_ERROR, AFD_ERROR_IO,
                   "%s: more than the limit of %" G_GUINT64_FORMAT " bytes for an input file",
                   path, max_bytes);
      return FALSE;
    }
  data[len] = '\0';
  *out_data = data;
  if (out_len != NULL)
    *out_len = len;
  return TRUE;
}

/* Paths that name one of this process's descriptors: always written directly. */
static gboolean
is_descriptor_path (const char *path)
{
  return strcmp (path, "/dev/stdout") == 0 || strcmp (path, "/dev/stderr") == 0
         || g_str_has_prefix (path, "/dev/fd/") || g_str_has_prefix (path, "/proc/self/fd/");
}

/*
 * Follows symbolic links from @path to the file they name (which may not exist).
 * Returns: (transfer full): the target's path, or a copy of @path when it is no link
 */
static char *
follow_links (const char *path)
{
  char *cur = g_strdup (path);
  for (guint hop = 0; hop < LINK_HOPS_MAX; hop++)
    {
      g_autoptr (GError) local = NULL;
      g_autofree char *next = g_file_read_link (cur, &local);
      if (next == NULL)
        return cur;
      if (!g_path_is_absolute (next))
        {
          g_autofree char *dir = g_path_get_dirname (cur);
          char *joined = g_build_filename (dir, next, NULL);
          g_free (next);
          next = joined;
        }
      g_free (cur);
      cur = g_steal_pointer (&next);
    }
  return cur;
}

/* The identity of one file: (dev, ino) when it exists, else its resolved name. */
typedef struct {
  gboolean exists;
  gboolean regular;
  dev_t dev;
  ino_t ino;
  char *name; /* (nullable) resolved name when it does not exist */
} Identity;

static void
identify (const char *path, Identity *out)
{
  memset (out, 0, sizeof *out);
  struct stat st;
  if (stat (path, &st) == 0)
    {
      out->exists = TRUE;
      out->regular = S_ISREG (st.st_mode);
      out->dev = st.st_dev;
      out->ino = st.st_ino;
      return;
    }
  g_autofree char *target = follow_links (path);
  g_autofree char *dir = g_path_get_dirname (target);
  g_autofree char *base = g_path_get_basename (target);
  char *real = realpath (dir, NULL);
  out->name = g_build_filename (real != NULL ? real : dir, base, NULL);
  free (real);
}

static gboolean
same_file (const Identity *a, const Identity *b)
{
  if (a->exists != b->exists)
    return FALSE;
  if (a->exists)
    return a->dev == b->dev && a->ino == b->ino;
  return strcmp (a->name, b->name) == 0;
}

gboolean
afd_files_check_distinct (const AfdFileUse *outputs, guint n_outputs, const AfdFileUse *inputs,
                          guint n_inputs, GError **error)
{
  guint n = n_outputs + n_inputs;
  g_autofree Identity *ids = g_new0 (Identity, MAX (n, 1u));
  for (guint i = 0; i < n; i++)
    {
      const AfdFileUse *u = i < n_outputs ? &outputs[i] : &inputs[i - n_outputs];
      if (u->path != NULL)
        identify (u->path, &ids[i]);
    }
  gboolean ok = TRUE;
  for (guint i = 0; ok && i < n_outputs; i++)
    {
      if (outputs[i].path == NULL)
        continue;
      for (guint j = 0; ok && j < n; j++)
        {
          const AfdFileUse *u = j < n_outputs ? &outputs[j] : &inputs[j - n_outputs];
          if (j == i || u->path == NULL || (j < n_outputs && j < i))
            continue;
          /* Two outputs into one device (/dev/null, a terminal) are fine. */
          if (j < n_outputs && ids[i].exists && !ids[i].regular)
            continue;
          if (same_file (&ids[i], &ids[j]))
            {
              if (strcmp (outputs[i].path, u->path) == 0)
                g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                             "%s and %s name the same file (%s)%s", outputs[i].flag, u->flag,
                             u->path, j < n_outputs ? "" : ": writing it would destroy the input");
              else
                g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                             "%s and %s name the same file (%s and %s)%s", outputs[i].flag,
                             u->flag, outputs[i].path, u->path,
                             j < n_outputs ? "" : ": writing it would destroy the input");
              ok = FALSE;
            }
        }
    }
  for (guint i = 0; i < n; i++)
    g_free (ids[i].name);
  return ok;
}

/* ---- temporary files removed on signals ---- */

static GMutex temp_lock;
static GPtrArray *temp_paths; /* char*, guarded by temp_lock */

void
afd_files_register_temp (const char *path)
{
  g_mutex_lock (&temp_lock);
  if (temp_paths == NULL)
    temp_paths = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (temp_paths, g_strdup (path));
  g_mutex_unlock (&temp_lock);
}

void
afd_files_unregister_temp (const char *path)
{
  g_mutex_lock (&temp_lock);
  for (guint i = 0; temp_paths != NULL && i < temp_paths->len; i++)
    if (strcmp (temp_paths->pdata[i], path) == 0)
      {
        g_ptr_array_remove_index (temp_paths, i);
        break;
      }
  g_mutex_unlock (&temp_lock);
}

/* Removes @path: a file, or a folder with everything in it. */
static void
remove_tree (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      GDir *d = g_dir_open (path, 0, NULL);
      const char *name;
      while (d != NULL && (name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          remove_tree (child);
        }
      if (d != NULL)
        g_dir_close (d);
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

static sigset_t cleanup_signals;

/* The thread that waits for SIGINT/SIGTERM/SIGHUP, cleans up and dies of the signal. */
static gpointer
signal_thread (gpointer data)
{
  (void) data;
  int sig = 0;
  while (sigwait (&cleanup_signals, &sig) != 0)
    ;
  g_mutex_lock (&temp_lock);
  /* Newest first: files inside a registered folder go before it. */
  for (guint i = temp_paths != NULL ? temp_paths->len : 0; i-- > 0;)
    remove_tree (temp_paths->pdata[i]);
  /* Keep the lock: nothing may register a new file now. Die of the signal itself. */
  signal (sig, SIG_DFL);
  sigset_t one;
  sigemptyset (&one);
  sigaddset (&one, sig);
  pthread_sigmask (SIG_UNBLOCK, &one, NULL);
  raise (sig);
  _exit (128 + sig);
  return NULL;
}

void
afd_files_install_signal_cleanup (void)
{
  static gsize done = 0;
  if (!g_once_init_enter (&done))
    return;
  sigemptyset (&cleanup_signals);
  /* A signal ignored at start (nohup, a background job's SIGINT) stays ignored. */
  int sigs[] = { SIGINT, SIGTERM, SIGHUP };
  for (guint i = 0; i < G_N_ELEMENTS (sigs); i++)
    {
      struct sigaction old;
      if (sigaction (sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
        continue;
      sigaddset (&cleanup_signals, sigs[i]);
    }
  pthread_sigmask (SIG_BLOCK, &cleanup_signals, NULL);
  g_thread_unref (g_thread_new ("afd-signals", signal_thread, NULL));
  g_once_init_leave (&done, 1);
}

/* ---- outputs ---- */

struct _AfdOutput {
  char *path;     /* as given */
  char *target;   /* the file replaced: @path with links followed */
  char *tmp_path; /* (nullable) NULL when written directly */
  int fd;         /* -1 once closed */
  int first_errno;
  gboolean closed, committed;
};

AfdOutput *
afd_output_open (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_autofree char *target = is_descriptor_path (path) ? g_strdup (path) : follow_links (path);
  struct stat st;
  gboolean exists = stat (target, &st) == 0;
  if (exists && S_ISDIR (st.st_mode))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_IO, "cannot write %s: is a directory", path);
      return NULL;
    }
  AfdOutput *self = g_new0 (AfdOutput, 1);
  self->path = g_strdup (path);
  self->fd = -1;
  if (is_descriptor_path (path) || (exists && !S_ISREG (st.st_mode)))
    {
      /* A device, FIFO or descriptor: write into it, never rename over it. */
      self->fd = g_open (target, O_WRONLY | O_NOCTTY | O_CLOEXEC, 0);
      if (self->fd < 0)
        {
          int saved = errno;
          g_set_error (error, AFD_ERROR, AFD_ERROR_IO, "cannot write %s: %s", path,
                       g_strerror (saved));
          afd_output_free (self);
          return NULL;
        }
      self->target = g_steal_pointer (&target);
      return self;
    }
  self->tmp_path = g_strdup_printf ("%s.tmp-XXXXXX", target);
  self->fd = g_mkstemp_full (self->tmp_path, O_WRONLY | O_CLOEXEC, 0666);
  if (self->fd < 0)
    {
      int saved = errno;
      g_set_error (error, AFD_ERROR, AFD_ERROR_IO, "cannot write %s: %s", path,
                   g_strerror (saved));
      g_clear_pointer (&self->tmp_path, g_free);
      afd_output_free (self);
      return NULL;
    }
  afd_files_register_temp (self->tmp_path);
  /* The temporary file was made 0666 & ~umask (g_mkstemp_full passes the mode to open(2));
   * a replaced output keeps its own mode. */
  if (exists && fchmod (self->fd, st.st_mode & 07777) != 0)
    afd_output_fail (self, errno);
  self->target = g_steal_pointer (&target);
  return self;
}

int
afd_output_fd (const AfdOutput *self)
{
  return self->fd;
}

const char *
afd_output_path (const AfdOutput *self)
{
  return self->path;
}

void
afd_output_fail (AfdOutput *self, int errno_value)
{
  if (self->first_errno == 0)
    self->first_errno = errno_value != 0 ? errno_value : EIO;
}

void
afd_output_write (AfdOutput *self, const char *data, gsize len)
{
  while (self->first_errno == 0 && self->fd >= 0 && len > 0)
    {
      ssize_t n = write (self->fd, data, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          afd_output_fail (self, n < 0 ? errno : ENOSPC);
          return;
        }
      data += n;
      len -= (gsize) n;
    }
}

gboolean
afd_output_close (AfdOutput *self, GError **error)
{
  if (!self->closed)
    {
      self->closed = TRUE;
      /* A device or FIFO may not support fsync (EINVAL, EROFS): that is no failure. */
      if (self->first_errno == 0 && fsync (self->fd) != 0 && self->tmp_path != NULL)
        afd_output_fail (self, errno);
      if (close (self->fd) != 0)
        afd_output_fail (self, errno);
      self->fd = -1;
    }
  if (self->first_errno != 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_IO, "cannot write %s: %s", self->path,
                   g_strerror (self->first_errno));
      return FALSE;
    }
  return TRUE;
}

gboolean
afd_output_commit (AfdOutput *self, GError **error)
{
  if (!afd_output_close (self, error))
    return FALSE;
  if (self->tmp_path != NULL && !self->committed && g_rename (self->tmp_path, self->target) != 0)
    {
      int saved = errno;
      g_set_error (error, AFD_ERROR, AFD_ERROR_IO, "cannot write %s: %s", self->path,
                   g_strerror (saved));
      return FALSE;
    }
  if (self->tmp_path != NULL)
    afd_files_unregister_temp (self->tmp_path);
  self->committed = TRUE;
  return TRUE;
}

void
afd_output_free (AfdOutput *self)
{
  if (self == NULL)
    return;
  if (self->fd >= 0)
    close (self->fd);
  if (self->tmp_path != NULL && !self->committed)
    {
      g_unlink (self->tmp_path);
      afd_files_unregister_temp (self->tmp_path);
    }
  g_free (self->path);
  g_free (self->target);
  g_free (self->tmp_path);
  g_free (self);
}
