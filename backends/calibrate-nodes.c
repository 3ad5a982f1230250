/* SPDX-License-Identifier: MIT */
/*
 * calibrate-nodes.c - `afdsim calibrate --two-nodes`: fork one process per node group, pass
 * the NCCL id between them, collect their results with deadlines (calibrate-nodes.h).
 *
 * Protocol on each group's result pipe, one line per message: "P text" (progress; also the
 * liveness signal), "R json" (the result, unformatted JSON on one line) or "E code text" (a
 * GError of domain AFD_ERROR). A group that closes its pipe without R or E has crashed.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "backends/calibrate-nodes.h"
#include "sim/error.h"

#define NODES 2

/* The parent's view of one node group. */
typedef struct {
  pid_t pid;
  int fd;          /* read end of the result pipe, -1 once closed */
  GString *buf;    /* bytes not yet split into lines */
  gint64 last_us;  /* monotonic time of the last message */
  cJSON *result;   /* the R message */
  GError *error;   /* the E message, or a crash */
  guint first_gpu; /* in the parent's numbering */
} Node;

/* Writes all of @text to @fd (a child's result pipe); errors are ignored (the parent notices
 * the missing message). */
static void
write_all (int fd, const char *text, size_t len)
{
  while (len > 0)
    {
      ssize_t k = write (fd, text, len);
      if (k < 0 && errno == EINTR)
        continue;
      if (k <= 0)
        return;
      text += k;
      len -= (size_t) k;
    }
}

/* A child's progress callback: one "P" line on its result pipe. */
static void
child_progress (const char *line, gpointer user_data)
{
  g_autofree char *msg = g_strdup_printf ("P %s\n", line);
  g_strdelimit (msg + 2, "\n", ' ');
  msg[strlen (msg) - 1] = '\n';
  write_all (GPOINTER_TO_INT (user_data), msg, strlen (msg));
}

/* Sets CUDA_VISIBLE_DEVICES to GPUs @first … @first + @count − 1 of the inherited list (or of
 * all devices when none is set). */
static void
child_select_gpus (guint first, guint count)
{
  const char *inherited = g_getenv ("CUDA_VISIBLE_DEVICES");
  g_auto (GStrv) list = inherited && *inherited ? g_strsplit (inherited, ",", -1) : NULL;
  g_autoptr (GString) vis = g_string_new (NULL);
  for (guint i = first; i < first + count; i++)
    {
      if (vis->len)
        g_string_append_c (vis, ',');
      if (list != NULL && i < g_strv_length (list))
        g_string_append (vis, list[i]);
      else
        g_string_append_printf (vis, "%u", i);
    }
  g_setenv ("CUDA_VISIBLE_DEVICES", vis->str, TRUE);
}

/* The child's whole life: environment, measurement, one R or E line, _exit. */
static void G_GNUC_NORETURN
child_main (const AfdCudaCalibrateOptions *options, guint node, guint per_node, int id_fd,
            int out_fd, const char *log_dir)
{
  g_autofree char *hostid = g_strdup_printf ("afd-node%u", node);
  g_autofree char *log = g_strdup_printf ("%s/nccl-node%u.log", log_dir, node);
  child_select_gpus (node * per_node, per_node);
  g_setenv ("NCCL_HOSTID", hostid, TRUE);
  g_setenv ("NCCL_NVLS_ENABLE", "0", TRUE);
  g_setenv ("NCCL_DEBUG", "INFO", TRUE);
  g_setenv ("NCCL_DEBUG_FILE", log, TRUE);
  AfdCudaCalibrateOptions opts = *options;
  opts.progress = child_progress;
  opts.progress_data = GINT_TO_POINTER (out_fd);
  AfdCudaNodeGroup group = { .node = node, .nodes = NODES, .gpus_per_node = per_node,
                             .id_fd = id_fd, .nccl_log_path = log };
  g_autofree char *hello = g_strdup_printf ("started: NCCL_HOSTID=%s CUDA_VISIBLE_DEVICES=%s",
                                            hostid, g_getenv ("CUDA_VISIBLE_DEVICES"));
  child_progress (hello, opts.progress_data);
  GError *error = NULL;
  cJSON *result = afd_cuda_calibrate_node (&opts, &group, &error);
  g_autofree char *msg = NULL;
  if (result != NULL)
    {
      char *json = cJSON_PrintUnformatted (result);
      msg = g_strdup_printf ("R %s\n", json);
      cJSON_free (json);
      cJSON_Delete (result);
    }
  else
    {
      msg = g_strdup_printf ("E %d %s\n", error->code, error->message);
      g_strdelimit (msg + 2, "\n", ' ');
      msg[strlen (msg) - 1] = '\n';
    }
  write_all (out_fd, msg, strlen (msg));
  close (out_fd);
  fflush (NULL);
  _exit (result != NULL ? 0 : 1);
}

/* Handles one complete line from @n. */
static void
node_line (Node *n, guint index, const char *line, const AfdCudaCalibrateOptions *options)
{
  if (g_str_has_prefix (line, "P "))
    {
      if (options->progress != NULL)
        {
          g_autofree char *l = g_strdup_printf ("node %u: %s", index, line + 2);
          options->progress (l, options->progress_data);
        }
    }
  else if (g_str_has_prefix (line, "R ") && n->result == NULL && n->error == NULL)
    {
      n->result = cJSON_Parse (line + 2);
      if (n->result == NULL)
        n->error = g_error_new_literal (AFD_ERROR, AFD_ERROR_BACKEND_FAILED,
                                        "its result is not valid JSON");
    }
  else if (g_str_has_prefix (line, "E ") && n->error == NULL)
    {
      char *end = NULL;
      gint64 code = g_ascii_strtoll (line + 2, &end, 10);
      if (end == line + 2 || code < 0 || code > AFD_ERROR_LIMIT)
        code = AFD_ERROR_BACKEND_FAILED;
      n->error = g_error_new_literal (AFD_ERROR, (gint) code,
                                      end && *end == ' ' ? end + 1 : line + 2);
    }
}

/* Reads what @n's pipe holds; closes it at end of file. */
static void
node_read (Node *n, guint index, const AfdCudaCalibrateOptions *options)
{
  char chunk[65536];
  ssize_t k = read (n->fd, chunk, sizeof chunk);
  if (k < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (k <= 0)
    {
      close (n->fd);
      n->fd = -1;
      if (n->result == NULL && n->error == NULL)
        n->error = g_error_new_literal (AFD_ERROR, AFD_ERROR_BACKEND_FAILED,
                                        "it ended without a result (crashed?)");
      return;
    }
  n->last_us = g_get_monotonic_time ();
  g_string_append_len (n->buf, chunk, k);
  char *nl;
  while ((nl = memchr (n->buf->str, '\n', n->buf->len)) != NULL)
    {
      *nl = '\0';
      node_line (n, index, n->buf->str, options);
      g_string_erase (n->buf, 0, nl - n->buf->str + 1);
    }
}

/* Ends the children still running: SIGTERM, up to 2 s of grace, then SIGKILL; reaps them. */
static void
stop_children (Node *nodes)
{
  for (guint i = 0; i < NODES; i++)
    if (nodes[i].pid > 0)
      kill (nodes[i].pid, SIGTERM);
  gint64 grace_us = g_get_monotonic_time () + 2000000;
  for (guint i = 0; i < NODES; i++)
    while (nodes[i].pid > 0)
      {
        pid_t r = waitpid (nodes[i].pid, NULL, WNOHANG);
        if (r == nodes[i].pid || (r < 0 && errno != EINTR))
          nodes[i].pid = 0;
        else if (g_get_monotonic_time () > grace_us)
          {
            kill (nodes[i].pid, SIGKILL);
            waitpid (nodes[i].pid, NULL, 0);
            nodes[i].pid = 0;
          }
        else
          g_usleep (10000);
      }
}

/* Removes the NCCL logs and their folder. */
static void
remove_log_dir (const char *dir)
{
  for (guint i = 0; i < NODES; i++)
    {
      g_autofree char *log = g_strdup_printf ("%s/nccl-node%u.log", dir, i);
      g_remove (log);
    }
  g_rmdir (dir);
}

cJSON *
afd_calibrate_two_nodes (const AfdCudaCalibrateOptions *options, GError **error)
{
  g_return_val_if_fail (options != NULL, NULL);
  if (options->gpus < 2 || options->gpus % 2 != 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_USAGE,
                   "--two-nodes needs an even number of GPUs (--gpus 2, 4, …), not %u",
                   options->gpus);
      return NULL;
    }
  guint per_node = options->gpus / NODES;
  g_autofree char *log_dir = g_dir_make_tmp ("afdsim-two-nodes-XXXXXX", error);
  if (log_dir == NULL)
    return NULL;
  int id_pipe[2];
  int res[NODES][2];
  if (pipe (id_pipe) != 0)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_IO, "pipe: %s", g_strerror (errno));
      remove_log_dir (log_dir);
      return NULL;
    }
  Node nodes[NODES];
  memset (nodes, 0, sizeof nodes);
  g_autoptr (GError) start_error = NULL;
  fflush (stdout);
  fflush (stderr);
  for (guint i = 0; i < NODES; i++)
    {
      nodes[i].fd = -1;
      nodes[i].first_gpu = i * per_node;
      nodes[i].buf = g_string_new (NULL);
      pid_t pid = -1;
      if (pipe (res[i]) != 0 || (pid = fork ()) < 0)
        {
          g_set_error (&start_error, AFD_ERROR, AFD_ERROR_IO, "cannot start node group %u: %s",
                       i, g_strerror (errno));
          break;
        }
      if (pid == 0)
        {
          for (guint j = 0; j < i; j++)
            if (nodes[j].fd >= 0)
              close (nodes[j].fd);
          close (res[i][0]);
          close (i == 0 ? id_pipe[0] : id_pipe[1]);
          child_main (options, i, per_node, i == 0 ? id_pipe[1] : id_pipe[0], res[i][1],
                      log_dir);
        }
      close (res[i][1]);
      nodes[i].pid = pid;
      nodes[i].fd = res[i][0];
      nodes[i].last_us = g_get_monotonic_time ();
    }
  close (id_pipe[0]);
  close (id_pipe[1]);
  double silence_s = 2.0 * options->timeout_s + 30.0;
  guint failed = NODES, silent = NODES;
  gint64 settle_us = 0; /* after a failure, time for the others to report theirs */
  while (start_error == NULL)
    {
      struct pollfd pf[NODES];
      guint map[NODES], count = 0;
      for (guint i = 0; i < NODES; i++)
        if (nodes[i].fd >= 0)
          {
            pf[count] = (struct pollfd){ .fd = nodes[i].fd, .events = POLLIN };
            map[count++] = i;
          }
      if (count == 0)
        break;
      int r = poll (pf, count, 200);
      for (guint c = 0; r > 0 && c < count; c++)
        if (pf[c].revents != 0)
          node_read (&nodes[map[c]], map[c], options);
      gint64 now = g_get_monotonic_time ();
      /* The lowest group's error wins (group 1's is often only "group 0 ended"): after the
       * first failure the others get up to 1 s to report theirs. */
      for (guint i = 0; i < NODES && failed == NODES; i++)
        if (nodes[i].error != NULL)
          settle_us = settle_us ? settle_us : now + 1000000;
      if (settle_us != 0)
        {
          gboolean open = FALSE;
          for (guint i = 0; i < NODES; i++)
            open |= nodes[i].fd >= 0 && nodes[i].error == NULL;
          if (!open || now > settle_us)
            {
              for (guint i = 0; i < NODES && failed == NODES; i++)
                if (nodes[i].error != NULL)
                  failed = i;
              break;
            }
          continue;
        }
      for (guint i = 0; i < NODES && silent == NODES; i++)
        if (nodes[i].fd >= 0 && now - nodes[i].last_us > (gint64) (silence_s * 1e6))
          silent = i;
      if (silent != NODES)
        break;
    }
  stop_children (nodes);
  for (guint i = 0; i < NODES; i++)
    if (nodes[i].fd >= 0)
      close (nodes[i].fd);
  remove_log_dir (log_dir);
  cJSON *result = NULL;
  if (start_error != NULL)
    g_propagate_error (error, g_steal_pointer (&start_error));
  else if (failed != NODES || silent != NODES)
    {
      guint i = failed != NODES ? failed : silent;
      guint a = nodes[i].first_gpu, b = a + per_node - 1;
      if (failed != NODES)
        g_set_error (error, AFD_ERROR, nodes[i].error->code, "node group %u (GPUs %u-%u): %s",
                     i, a, b, nodes[i].error->message);
      else
        g_set_error (error, AFD_ERROR, AFD_ERROR_BACKEND_FAILED,
                     "node group %u (GPUs %u-%u) did not report within %.0f s (both groups "
                     "stopped)",
                     i, a, b, silence_s);
    }
  else if (nodes[0].result == NULL)
    g_set_error (error, AFD_ERROR, AFD_ERROR_BACKEND_FAILED,
                 "node group 0 (GPUs 0-%u) ended without a result", per_node - 1);
  else
    result = g_steal_pointer (&nodes[0].result);
  for (guint i = 0; i < NODES; i++)
    {
      cJSON_Delete (nodes[i].result);
      g_clear_error (&nodes[i].error);
      if (nodes[i].buf != NULL)
        g_string_free (nodes[i].buf, TRUE);
    }
  return result;
}
