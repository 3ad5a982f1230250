/* SPDX-License-Identifier: MIT */
/*
 * files.h - reading input files and writing output files without losing anything
 * (docs/reliability.md, "Outputs and special files").
 *
 * Readers: afd_file_read() opens without blocking (a FIFO never hangs), refuses anything but a
 * regular file and anything larger than a stated limit, in one message naming the file.
 *
 * Writers: every output goes through AfdOutput. An output that exists and is not a regular
 * file (a character or block device, a FIFO, a socket, /dev/stdout) is written directly,
 * never renamed over. Otherwise the data goes to a temporary file "<target>.tmp-XXXXXX" in the
 * target's own folder, renamed over the target when complete; a symbolic link is followed, so
 * the link stays a link and its target is replaced atomically.
 *
 * Before any work, afd_files_check_distinct() checks that no two outputs and no output and
 * input are the same file (by device and inode after following links; by resolved name for
 * files that do not exist yet).
 *
 * Temporary files and folders are registered while they exist; afd_files_install_signal_cleanup()
 * (called once from main()) removes them on SIGINT, SIGTERM and SIGHUP before the process dies
 * of the signal. SIGKILL cannot be caught: what it leaves is documented in docs/reliability.md.
 */
#ifndef AFD_SIM_FILES_H
#define AFD_SIM_FILES_H

#include <glib.h>

G_BEGIN_DECLS

/* Largest input file any reader accepts: 256 MiB (docs/reliability.md). */
#define AFD_FILES_INPUT_MAX_BYTES (G_GUINT64_CONSTANT (256) << 20)

/**
 * afd_file_read:
 * @path: the file
 * @max_bytes: largest accepted size
 * @out_data: (out) (transfer full): the contents, NUL-terminated
 * @out_len: (out) (optional): its length in bytes
 *
 * Returns: %FALSE with AFD_ERROR_IO: "PATH: no such file", "PATH: is a directory, expected a
 *   JSON file", "PATH: is a FIFO, not a regular file", "PATH: N bytes, more than the limit
 *   of M bytes for an input file", or the system's reason
 */
gboolean afd_file_read (const char *path, guint64 max_bytes, char **out_data, gsize *out_len,
                        GError **error);

/* One file named on a command line or in an experiment: the flag (or key) and the path. */
typedef struct {
  const char *flag; /* "--json", "--trace", "experiment file", ... */
  const char *path; /* (nullable): skipped when NULL */
} AfdFileUse;

/**
 * afd_files_check_distinct:
 * @outputs: files the command will write
 * @inputs: files it reads
 *
 * Two outputs that are the same existing non-regular file (/dev/null twice) are accepted.
 *
 * Returns: %FALSE with AFD_ERROR_USAGE "FLAG1 and FLAG2 name the same file (PATH)"
 */
gboolean afd_files_check_distinct (const AfdFileUse *outputs, guint n_outputs,
                                   const AfdFileUse *inputs, guint n_inputs, GError **error);

typedef struct _AfdOutput AfdOutput;

/**
 * afd_output_open:
 * @path: the output's name as the user gave it (shown in messages)
 *
 * Returns: (transfer full) (nullable): an output to write with afd_output_fd(), or %NULL with
 *   AFD_ERROR_IO "cannot write PATH: reason"
 */
AfdOutput *afd_output_open (const char *path, GError **error);

/* Returns: the descriptor to write to (owned by @self). */
int afd_output_fd (const AfdOutput *self);

/* Returns: (transfer none): the path given to afd_output_open(). */
const char *afd_output_path (const AfdOutput *self);

/**
 * afd_output_write:
 * Writes all of @data, retrying short writes; the first failure is kept for afd_output_close().
 */
void afd_output_write (AfdOutput *self, const char *data, gsize len);

/**
 * afd_output_fail:
 * @errno_value: the failure of a write done on afd_output_fd() by the caller
 *
 * Remembers the first failure; afd_output_close() reports it.
 */
void afd_output_fail (AfdOutput *self, int errno_value);

/**
 * afd_output_close:
 * Flushes (fsync) and closes the data, reporting any write failure, but leaves the temporary
 * file in place: afd_output_commit() then puts it into place. Several outputs closed first and
 * committed together give all or none of them. Does nothing on a second call.
 *
 * Returns: %FALSE with AFD_ERROR_IO "cannot write PATH: reason"
 */
gboolean afd_output_close (AfdOutput *self, GError **error);

/**
 * afd_output_commit:
 * Closes (when not yet closed) and renames the temporary file over the target.
 *
 * Returns: %FALSE with AFD_ERROR_IO "cannot write PATH: reason"; the target is then untouched
 */
gboolean afd_output_commit (AfdOutput *self, GError **error);

/* Removes the temporary file unless committed, and frees @self. */
void afd_output_free (AfdOutput *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AfdOutput, afd_output_free)

/**
 * afd_files_register_temp:
 * @path: a temporary file or folder that a signal must not leave behind
 *
 * A folder is removed with everything in it. Thread-safe.
 */
void afd_files_register_temp (const char *path);

/* Forgets @path (it was renamed into place or removed). Thread-safe. */
void afd_files_unregister_temp (const char *path);

/**
 * afd_files_install_signal_cleanup:
 *
 * Blocks SIGINT, SIGTERM and SIGHUP in the calling thread (and so in every thread it starts
 * later) and starts a thread that waits for them, removes every registered temporary file and
 * folder, then lets the signal kill the process. Call once, from main(), before any thread.
 */
void afd_files_install_signal_cleanup (void);

G_END_DECLS

#endif /* AFD_SIM_FILES_H */
