/* SPDX-License-Identifier: MIT */
/*
 * trace.c - Chrome Trace Event Format writer, streamed to a temporary file (see sim/trace.h).
 *
 * The temporary file "<path>.tmp-XXXXXX" is created in the target's own folder, so the final
 * rename(2) is atomic. Each event is one cJSON object printed unformatted and written at
 * once; nothing is buffered beyond stdio's buffer. The first failed write, flush or close is
 * remembered and reported by afd_trace_writer_close() as AFD_ERROR_IO; later calls do
 * nothing. Every function accepts a %NULL writer and then does nothing, so callers can
 * pass an optional writer around without checking.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "sim/error.h"
#include "sim/trace.h"

struct _AfdTraceWriter {
  FILE *file;
  char *path;     /* final name */
  char *tmp_path; /* where the events go until close */
  guint64 n_events;
  int first_errno; /* 0 while every write succeeded */
};

/* Remembers the first failure's errno. */
static void
note_failure (AfdTraceWriter *self)
{
  if (self->first_errno == 0)
    self->first_errno = errno != 0 ? errno : EIO;
}

/* Writes @len bytes unless a write already failed. */
static void
write_bytes (AfdTraceWriter *self, const char *data, gsize len)
{
  if (self->first_errno != 0)
    return;
  errno = 0;
  if (fwrite (data, 1, len, self->file) != len)
    note_failure (self);
}

/* Writes @event as one element of traceEvents and frees it. */
static void
emit (AfdTraceWriter *self, cJSON *event)
{
  char *text = cJSON_PrintUnformatted (event);
  cJSON_Delete (event);
  g_assert (text != NULL);
  if (self->n_events++ > 0)
    write_bytes (self, ",\n", 2);
  write_bytes (self, text, strlen (text));
  cJSON_free (text);
}

/* Simulated nanoseconds to the format's microseconds. */
static double
to_us (AfdTime ns)
{
  return (double) ns / 1000.0;
}

/* Starts an event object with the fields every event has. */
static cJSON *
new_event (const char *name, const char *ph, guint pid)
{
  cJSON *ev = cJSON_CreateObject ();
  cJSON_AddStringToObject (ev, "name", name);
  cJSON_AddStringToObject (ev, "ph", ph);
  cJSON_AddNumberToObject (ev, "pid", pid);
  return ev;
}

AfdTraceWriter *
afd_trace_writer_open (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_autofree char *tmp_path = g_strdup_printf ("%s.tmp-XXXXXX", path);
  int fd = g_mkstemp_full (tmp_path, O_WRONLY | O_CLOEXEC, 0666);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, AFD_ERROR, AFD_ERROR_IO, "%s: cannot create trace file: %s", path,
                   g_strerror (saved));
      return NULL;
    }
  FILE *file = fdopen (fd, "w");
  if (file == NULL)
    {
      int saved = errno;
      close (fd);
      g_unlink (tmp_path);
      g_set_error (error, AFD_ERROR, AFD_ERROR_IO, "%s: cannot open trace file: %s", path,
                   g_strerror (saved));
      return NULL;
    }
  AfdTraceWriter *self = g_new0 (AfdTraceWriter, 1);
  self->file = file;
  self->path = g_strdup (path);
  self->tmp_path = g_steal_pointer (&tmp_path);
  static const char head[] = "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"generator\":\"afdsim "
                             PACKAGE_VERSION "\"},\"traceEvents\":[\n";
  write_bytes (self, head, sizeof head - 1);
  return self;
}

void
afd_trace_writer_process_name (AfdTraceWriter *self, guint pid, const char *name)
{
  if (self == NULL)
    return;
  cJSON *ev = new_event ("process_name", "M", pid);
  cJSON *args = cJSON_AddObjectToObject (ev, "args");
  cJSON_AddStringToObject (args, "name", name);
  emit (self, ev);
}

void
afd_trace_writer_thread_name (AfdTraceWriter *self, guint pid, guint tid, const char *name)
{
  if (self == NULL)
    return;
  cJSON *ev = new_event ("thread_name", "M", pid);
  cJSON_AddNumberToObject (ev, "tid", tid);
  cJSON *args = cJSON_AddObjectToObject (ev, "args");
  cJSON_AddStringToObject (args, "name", name);
  emit (self, ev);
}

void
afd_trace_writer_complete (AfdTraceWriter *self, guint pid, guint tid, const char *name,
                           const char *category, AfdTime start_ns, AfdTime dur_ns, cJSON *args)
{
  if (self == NULL)
    {
      cJSON_Delete (args);
      return;
    }
  cJSON *ev = new_event (name, "X", pid);
  cJSON_AddStringToObject (ev, "cat", category != NULL ? category : "");
  cJSON_AddNumberToObject (ev, "tid", tid);
  cJSON_AddNumberToObject (ev, "ts", to_us (start_ns));
  cJSON_AddNumberToObject (ev, "dur", to_us (dur_ns));
  cJSON_AddItemToObject (ev, "args", args != NULL ? args : cJSON_CreateObject ());
  emit (self, ev);
}

void
afd_trace_writer_counter (AfdTraceWriter *self, guint pid, const char *name, const char *series,
                          AfdTime time_ns, double value)
{
  if (self == NULL)
    return;
  cJSON *ev = new_event (name, "C", pid);
  cJSON_AddNumberToObject (ev, "ts", to_us (time_ns));
  cJSON *args = cJSON_AddObjectToObject (ev, "args");
  cJSON_AddNumberToObject (args, series, value);
  emit (self, ev);
}

void
afd_trace_writer_flow (AfdTraceWriter *self, guint64 id, const char *name, guint from_pid,
                       guint from_tid, AfdTime from_ns, guint to_pid, guint to_tid, AfdTime to_ns)
{
  if (self == NULL)
    return;
  cJSON *s = new_event (name, "s", from_pid);
  cJSON_AddStringToObject (s, "cat", "flow");
  cJSON_AddNumberToObject (s, "id", (double) id);
  cJSON_AddNumberToObject (s, "tid", from_tid);
  cJSON_AddNumberToObject (s, "ts", to_us (from_ns));
  emit (self, s);
  cJSON *f = new_event (name, "f", to_pid);
  cJSON_AddStringToObject (f, "cat", "flow");
  cJSON_AddNumberToObject (f, "id", (double) id);
  cJSON_AddStringToObject (f, "bp", "e");
  cJSON_AddNumberToObject (f, "tid", to_tid);
  cJSON_AddNumberToObject (f, "ts", to_us (to_ns));
  emit (self, f);
}

void
afd_trace_writer_instant (AfdTraceWriter *self, guint pid, const char *name, AfdTime time_ns,
                          cJSON *args)
{
  if (self == NULL)
    {
      cJSON_Delete (args);
      return;
    }
  cJSON *ev = new_event (name, "i", pid);
  cJSON_AddStringToObject (ev, "s", "p");
  cJSON_AddNumberToObject (ev, "tid", 0);
  cJSON_AddNumberToObject (ev, "ts", to_us (time_ns));
  if (args != NULL)
    cJSON_AddItemToObject (ev, "args", args);
  emit (self, ev);
}

/* Frees the writer's memory (the file must be closed already). */
static void
writer_free (AfdTraceWriter *self)
{
  g_free (self->path);
  g_free (self->tmp_path);
  g_free (self);
}

gboolean
afd_trace_writer_close (AfdTraceWriter *self, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  static const char tail[] = "\n]}\n";
  write_bytes (self, tail, sizeof tail - 1);
  errno = 0;
  if (fflush (self->file) != 0)
    note_failure (self);
  errno = 0;
  if (fclose (self->file) != 0)
    note_failure (self);
  self->file = NULL;
  if (self->first_errno == 0 && g_rename (self->tmp_path, self->path) != 0)
    note_failure (self);
  if (self->first_errno != 0)
    {
      g_unlink (self->tmp_path);
      g_set_error (error, AFD_ERROR, AFD_ERROR_IO, "%s: cannot write trace: %s", self->path,
                   g_strerror (self->first_errno));
      writer_free (self);
      return FALSE;
    }
  writer_free (self);
  return TRUE;
}

void
afd_trace_writer_abort (AfdTraceWriter *self)
{
  if (self == NULL)
    return;
  if (self->file != NULL)
    fclose (self->file);
  g_unlink (self->tmp_path);
  writer_free (self);
}
