/* SPDX-License-Identifier: MIT */
/*
 * sweep.h - a grid of run configurations (docs/user/sweep.md): axes from the command line or
 * from the "sweep" block of an experiment file, their Cartesian product, the identity of each
 * point, running points on local threads and MPI ranks, and the resumable JSONL output.
 *
 * A point is a flat set of assignments (key -> JSON scalar) over the experiment keys of
 * docs/user/experiment-format.md: workload keys (cluster, model, strategy, label, batch,
 * context, phase, routing, seed, network, costs), the pseudo-keys total_gpus and ratio (A:B,
 * resolved into attn_gpus/moe_gpus when the point runs), what-if overrides of the input files
 * ("cluster.PATH", "gpu.PATH", "model.PATH": a dotted JSON path inside the cluster, GPU spec
 * or model file) and, for every other key, a strategy option. Its canonical configuration is a
 * JSON object with a fixed key order; its id is the first 16 hex digits of the SHA-256 of
 * that text, so a resume with different axes is detected line by line.
 *
 * Points are numbered in Cartesian order (the first axis varies slowest). Output lines are
 * written in point order whatever the number of workers or ranks, each with one write(2), so
 * the file is always a prefix of the full output plus at most one partial last line, which a
 * resume truncates. Only sim/mpi-sweep.c talks to MPI; sim/mpi-stub.c replaces it otherwise.
 * Nothing here prints, except the progress line afd_sweep_run() draws when asked to.
 */
#ifndef AFD_SIM_SWEEP_H
#define AFD_SIM_SWEEP_H

#include <cjson/cJSON.h>
#include <glib.h>

#include "sim/strategy.h"

G_BEGIN_DECLS

/* Largest number of points one sweep may have (issue #8, docs/reliability.md "Limits"): a
 * larger one is refused before any value is materialised, with its estimated size. */
#define AFD_SWEEP_MAX_POINTS 1000000

/* Estimated memory of one point's records (axis values as JSON nodes, the point's
 * configuration and its result row), bytes; measured about 2.1 GB for 6.5 million values
 * under ASan, about a third without. */
#define AFD_SWEEP_POINT_BYTES 256.0

typedef struct _AfdSweep AfdSweep;

/**
 * afd_sweep_new:
 * @classes: (array zero-terminated=1) (transfer none): every strategy class
 *   (AfdPlugins.strategy_list; static lifetime): their parameter tables type the options'
 *   values, and the first is the default strategy
 *
 * Returns: (transfer full): a sweep with the experiment defaults and no axes (one point)
 */
AfdSweep *afd_sweep_new (const AfdStrategyClass *const *classes);

/* Frees the sweep and removes the files it materialised for what-if overrides. */
void afd_sweep_free (AfdSweep *self);

/**
 * afd_sweep_set:
 * @flag: the flag or file position shown in messages ("--total-gpus", "FILE: sweep.axes")
 * @key: an assignment key (see the file comment)
 * @text: one value, as text ("16", "zipf:1.2", "3e12")
 *
 * Sets a value shared by every point.
 *
 * Returns: %FALSE with AFD_ERROR_USAGE naming @flag and the value
 */
gboolean afd_sweep_set (AfdSweep *self, const char *flag, const char *key, const char *text,
                        GError **error);

/**
 * afd_sweep_add_axis:
 * @text: comma-separated values; integer keys also take ranges "A..B" and "A..B/STEP"
 *
 * Adds an axis over @key. Each value becomes one assignment of @key.
 *
 * Returns: %FALSE with AFD_ERROR_USAGE naming @flag and the bad item
 */
gboolean afd_sweep_add_axis (AfdSweep *self, const char *flag, const char *key, const char *text,
                             GError **error);

/**
 * afd_sweep_add_axis_assignments:
 * @name: the axis name shown in messages and docs ("runs", "points")
 * @values: (transfer none): a non-empty array of objects, each a set of assignments
 *
 * Adds an axis whose values each assign several keys at once (a strategy with its options,
 * or one explicit point).
 *
 * Returns: %FALSE with AFD_ERROR_CONFIG naming @where, the index and the key
 */
gboolean afd_sweep_add_axis_assignments (AfdSweep *self, const char *name, const cJSON *values,
                                         const char *where, GError **error);

/**
 * afd_sweep_load:
 * @path: an experiment file with a "sweep" block: experiment keys (docs/user/experiment-format.md)
 *   are the base of every point; "sweep": {"axes": {KEY: [values] or "A..B" or "a,b"},
 *   "points": [{assignments}], "total_gpus": N}
 *
 * Returns: %FALSE with AFD_ERROR_CONFIG naming the file, the key and the problem
 */
gboolean afd_sweep_load (AfdSweep *self, const char *path, GError **error);

/* Returns: the number of points: the product of the axes' lengths (1 with no axis). */
guint64 afd_sweep_point_count (const AfdSweep *self);

/* Returns: the number of axes. */
guint afd_sweep_axis_count (const AfdSweep *self);

/**
 * afd_sweep_point_config:
 * @index: 0 <= @index < afd_sweep_point_count()
 *
 * Returns: (transfer full): the canonical configuration of point @index: cluster, model,
 *   strategy, [label], batch, context, phase, routing, seed, network, costs, [total_gpus],
 *   [ratio], "options" {sorted}, "set" {sorted overrides}
 */
cJSON *afd_sweep_point_config (const AfdSweep *self, guint64 index);

/**
 * afd_sweep_config_id:
 * @config: (transfer none): a canonical configuration
 *
 * Returns: (transfer full): 16 lowercase hex digits, the start of SHA-256 of the unformatted
 *   JSON text of @config
 */
char *afd_sweep_config_id (const cJSON *config);

/**
 * afd_sweep_run_point:
 * @plugins: (transfer none): registry lookups from the composition root
 *
 * Runs point @index (thread-safe: any number of threads may call it on one sweep). Failures of
 * the point itself are part of the result, never a GError: "status" is "ok", "infeasible"
 * (AFD_ERROR_INFEASIBLE, e.g. a ratio that does not divide the cluster or a placement that
 * does not fit) or "error" (anything else), with "message".
 *
 * Returns: (transfer full): the result object: index, id, status, [message], config and, when
 *   ok, the run's headline metrics, "gpus", "roles" {role: count} and "hfu_by_role"
 */
cJSON *afd_sweep_run_point (AfdSweep *self, guint64 index, const AfdPlugins *plugins);

/**
 * afd_sweep_resume:
 * @path: the JSONL output of an earlier run of the same sweep (need not exist)
 * @out_done: (out): the number of complete, valid lines, i.e. the points already done
 *
 * Checks that line j holds point j with this sweep's id for point j, and truncates a partial
 * last line (a line without its newline, left by a killed run).
 *
 * Returns: %FALSE with AFD_ERROR_CONFIG naming the file and line when a line is corrupt or
 *   belongs to a different sweep, AFD_ERROR_IO when the file cannot be read or truncated
 */
gboolean afd_sweep_resume (const AfdSweep *self, const char *path, guint64 *out_done,
                           GError **error);

/* How afd_sweep_run() runs. */
typedef struct {
  const char *output;  /* JSONL file, appended to (resumed) */
  const char *csv;     /* (nullable) CSV written atomically from the JSONL at the end */
  guint jobs;          /* local worker threads, >= 1 */
  gboolean progress;   /* draw "\r done/total  rate pts/s  ETA" on stderr (rank 0 only) */
  guint rank, size;    /* MPI rank and number of ranks (0, 1 without MPI) */
} AfdSweepRunOptions;

/**
 * afd_sweep_check_files:
 * @sweep_file: (nullable): the SWEEP.json read
 *
 * Checks before any work that --output and --csv are distinct files and neither is the
 * sweep file or a cluster, model, routing or profile file the sweep reads (sim/files.h).
 *
 * Returns: %FALSE with AFD_ERROR_USAGE naming both flags
 */
gboolean afd_sweep_check_files (const AfdSweep *self, const char *sweep_file,
                                const AfdSweepRunOptions *opts, GError **error);

/* What afd_sweep_run() did. */
typedef struct {
  guint64 total;      /* points in the sweep */
  guint64 resumed;    /* points found done in the output file */
  guint64 computed;   /* points run now, on every rank */
  guint64 ok, infeasible, failed; /* statuses of the points run now */
  double wall_s;      /* wall-clock seconds of the run (never written to the output) */
  char *first_error;  /* (owned, nullable) message of the first point with status "error" */
} AfdSweepStats;

/* Frees the strings inside @stats. */
void afd_sweep_stats_clear (AfdSweepStats *stats);

/**
 * afd_sweep_run:
 * @out_stats: (out caller-allocates) (optional)
 *
 * Runs every point not yet in @opts->output: points are spread round-robin over MPI ranks and
 * run on @opts->jobs threads per rank; rank 0 writes one line per point, in point order, each
 * with a single write(2), and fdatasync(2)s at most once a second and at the end. Points with
 * status "error" do not stop the sweep.
 *
 * Returns: %FALSE with @error when the output cannot be resumed or written
 */
gboolean afd_sweep_run (AfdSweep *self, const AfdPlugins *plugins, const AfdSweepRunOptions *opts,
                        AfdSweepStats *out_stats, GError **error);

/**
 * afd_sweep_csv_write: (sim/sweep-csv.c)
 * @jsonl: a sweep's JSONL output
 * @csv: the CSV to write (atomically)
 *
 * One row per line, in file (= point) order: index, id, status, the configuration keys, one
 * column per strategy option and override present in any line, then gpus, roles, the metrics
 * and message (docs/user/sweep.md lists them).
 *
 * Returns: %FALSE with AFD_ERROR_IO or AFD_ERROR_CONFIG naming the file and line
 */
gboolean afd_sweep_csv_write (const char *jsonl, const char *csv, GError **error);

/* MPI transport (sim/mpi-sweep.c with --with-mpi, sim/mpi-stub.c otherwise). Only the main
 * thread calls these. */

/**
 * afd_sweep_mpi_init:
 * @out_rank: (out): this process's rank (0 when not started by mpirun/srun)
 * @out_size: (out): the number of ranks (1 when not started by mpirun/srun)
 *
 * Initialises MPI when the environment says the process was started by mpirun or srun
 * (OMPI_COMM_WORLD_SIZE, PMI_SIZE or PMIX_RANK set); otherwise does nothing.
 *
 * Returns: %FALSE with AFD_ERROR_BACKEND_UNAVAILABLE when started under several ranks by a
 *   binary built without MPI
 */
gboolean afd_sweep_mpi_init (guint *out_rank, guint *out_size, GError **error);

/* Finalises MPI if afd_sweep_mpi_init() initialised it. */
void afd_sweep_mpi_finalize (void);

/* Returns: %TRUE when this binary was built with MPI. */
gboolean afd_sweep_mpi_built (void);

/* Broadcasts *@value from rank 0 to every rank (no-op with one rank). */
void afd_sweep_mpi_bcast_u64 (guint64 *value);

/* Sends one result line (point @index) to rank 0. */
void afd_sweep_mpi_send_line (guint64 index, const char *line);

/**
 * afd_sweep_mpi_poll_line:
 * @out_line: (out) (transfer full): the line received
 *
 * Returns: %TRUE when a line from another rank was waiting (rank 0; never blocks)
 */
gboolean afd_sweep_mpi_poll_line (guint64 *out_index, char **out_line);

/* Aborts every rank (after a write error on rank 0). */
void afd_sweep_mpi_abort (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AfdSweep, afd_sweep_free)

G_END_DECLS

#endif /* AFD_SIM_SWEEP_H */
