/* SPDX-License-Identifier: MIT */
/*
 * trace.h - Chrome Trace Event Format writer, streamed to disk as events happen.
 *
 * The file is a JSON object {"displayTimeUnit": "ns", "otherData": {...}, "traceEvents": [...]}
 * loadable in Perfetto and chrome://tracing. Events are appended to a temporary file in the
 * target folder as they are reported (nothing is kept in memory); afd_trace_writer_close()
 * finishes the JSON and renames the file into place, so a crash never leaves a half file at
 * the target path. Timestamps are simulated nanoseconds, written in microseconds ("ts", "dur")
 * as the format requires. pid = GPU or node index, tid = stream index. Every event object is
 * built with cJSON. Every function except open and close accepts a %NULL writer and then does
 * nothing (freeing any @args), so an optional trace needs no checks at the call sites.
 */
#ifndef AFD_SIM_TRACE_H
#define AFD_SIM_TRACE_H

#include <cjson/cJSON.h>
#include <glib.h>

#include "sim/types.h"

G_BEGIN_DECLS

typedef struct _AfdTraceWriter AfdTraceWriter;

/**
 * afd_trace_writer_open:
 * @path: the final file name
 *
 * Returns: (transfer full) (nullable): a writer, or %NULL with AFD_ERROR_IO
 */
AfdTraceWriter *afd_trace_writer_open (const char *path, GError **error);

/* Names a process (pid) and a thread (pid, tid): metadata events ("ph": "M"). */
void afd_trace_writer_process_name (AfdTraceWriter *self, guint pid, const char *name);
void afd_trace_writer_thread_name (AfdTraceWriter *self, guint pid, guint tid, const char *name);

/**
 * afd_trace_writer_complete:
 * @args: (transfer full) (nullable): a cJSON object of extra fields (flops, bytes, op kind)
 *
 * Writes a complete event ("ph": "X") from @start_ns lasting @dur_ns.
 */
void afd_trace_writer_complete (AfdTraceWriter *self, guint pid, guint tid, const char *name,
                                const char *category, AfdTime start_ns, AfdTime dur_ns,
                                cJSON *args);

/**
 * afd_trace_writer_counter:
 * Writes a counter sample ("ph": "C") named @name on process @pid: series @series = @value.
 */
void afd_trace_writer_counter (AfdTraceWriter *self, guint pid, const char *name,
                               const char *series, AfdTime time_ns, double value);

/**
 * afd_trace_writer_flow:
 * Writes a flow arrow from (@from_pid, @from_tid) at @from_ns to (@to_pid, @to_tid) at @to_ns
 * ("ph": "s" then "f" with binding point "e"), for a cross-GPU dependency. @id is unique per
 * arrow.
 */
void afd_trace_writer_flow (AfdTraceWriter *self, guint64 id, const char *name, guint from_pid,
                            guint from_tid, AfdTime from_ns, guint to_pid, guint to_tid,
                            AfdTime to_ns);

/**
 * afd_trace_writer_instant:
 * Writes an instant marker ("ph": "i", scope process) — used for faults and phase changes.
 */
void afd_trace_writer_instant (AfdTraceWriter *self, guint pid, const char *name,
                               AfdTime time_ns, cJSON *args);

/**
 * afd_trace_writer_close:
 * Finishes the JSON, flushes, and renames the file into place. The writer is freed either way.
 *
 * Returns: %FALSE with AFD_ERROR_IO if any write failed (the target is then untouched)
 */
gboolean afd_trace_writer_close (AfdTraceWriter *self, GError **error);

/**
 * afd_trace_writer_finish:
 * Finishes the JSON and flushes it to the temporary file, but does not put it into place:
 * afd_output_commit() on the result does (several traces committed together give all or
 * none of them). The writer is freed either way.
 *
 * Returns: (transfer full) (nullable): the closed output, or %NULL with AFD_ERROR_IO
 */
struct _AfdOutput *afd_trace_writer_finish (AfdTraceWriter *self, GError **error);

/* Frees without renaming: the temporary file is removed and the target untouched. */
void afd_trace_writer_abort (AfdTraceWriter *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AfdTraceWriter, afd_trace_writer_abort)

G_END_DECLS

#endif /* AFD_SIM_TRACE_H */
