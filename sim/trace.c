/* SPDX-License-Identifier: MIT */
/*
 * trace.c - Chrome Trace Event Format writer, streamed to a temporary file (see sim/trace.h).
 *
 * The file goes through sim/files.h: a temporary file "<target>.tmp-XXXXXX" in the target's
 * own folder renamed into place at the end (a device or FIFO is written directly). Each event
 * is one cJSON object printed unformatted into a buffer written out every WRITE_CHUNK_BYTES.
 * The first failed write or close is remembered and reported by afd_trace_writer_close() as
 * AFD_ERROR_IO; later calls do nothing. Every function accepts a %NULL writer and then does nothing, so callers can
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
#include "sim/files.h"
#include "sim/trace.h"

/* Buffered bytes written out at once. */
#define WRITE_CHUNK_BYTES (64 * 1024)

struct _AfdTraceWriter {
  AfdOutput *out;
  GString *buf; /* not yet written */
  guint64 n_events;
};

/* Writes out the buffer. */
static void
flush_buffer (AfdTraceWriter *self)
{
  afd_output_write (self->out, self->buf->str, self->buf->len);
  g_string_truncate (self->buf, 0);
}

/* Buffers @len bytes, writing out every WRITE_CHUNK_BYTES. */
static void
write_bytes (AfdTraceWriter *self, const char *data, gsize len)
{
  g_string_append_len (self->buf, data, (gssize) len);
  if (self->buf->len >= WRITE_CHUNK_BYTES)
    flush_buffer (self);
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
  AfdOutput *out = afd_output_open (path, error);
  if (out == NULL)
    {
      g_prefix_error (error, "trace: ");
      return NULL;
    }
  AfdTraceWriter *self = g_new0 (AfdTraceWriter, 1);
  self->out = out;
  self->buf = g_string_sized_new (WRITE_CHUNK_BYTES + 4096);
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

/* Frees the writer's memory (not its output). */
static void
writer_free (AfdTraceWriter *self)
{
  g_string_free (self->buf, TRUE);
  g_free (self);
}

AfdOutput *
afd_trace_writer_finish (AfdTraceWriter *self, GError **error)
{
  g_return_val_if_fail (self != NULL, NULL);
  static const char tail[] = "\n]}\n";
  write_bytes (self, tail, sizeof tail - 1);
  flush_buffer (self);
  AfdOutput *out = self->out;
  writer_free (self);
  if (!afd_output_close (out, error))
    {
      g_prefix_error (error, "trace: ");
      afd_output_free (out);
      return NULL;
    }
  return out;
}

gboolean
afd_trace_writer_close (AfdTraceWriter *self, GError **error)
{
  g_autoptr (AfdOutput) out = afd_trace_writer_finish (self, error);
  return out != NULL && afd_output_commit (out, error);
}

void
afd_trace_writer_abort (AfdTraceWriter *self)
{
  if (self == NULL)
    return;
  afd_output_free (self->out);
  writer_free (self);
}
