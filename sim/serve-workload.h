/* SPDX-License-Identifier: MIT */
/*
 * serve-workload.h - the requests `afdsim serve` replays: arrival times and prompt and output
 * lengths, generated from one seed or read from a trace CSV (docs/user/serve.md).
 *
 * Arrivals are a Poisson process (exponential gaps of mean 1/rate) or a Gamma renewal process
 * of the same mean and a given coefficient of variation CV (shape k = 1/CV², scale
 * 1/(rate·k); CV = 1 is Poisson, CV > 1 burstier). Lengths are fixed, uniform on [A, B] or
 * lognormal (median M, log-σ S), clipped to [1, AFD_SERVE_MAX_TOKENS]. Every random source has
 * its own GRand stream derived from the seed (afd_rng_seed_for: "serve.arrivals",
 * "serve.prompt", "serve.output"), so changing one distribution leaves the others' draws alone.
 *
 * A trace CSV has a header row naming its columns: either arrival_s,prompt_tokens,
 * output_tokens (seconds since the trace's start, tokens) or the public Azure LLM inference
 * traces' TIMESTAMP,ContextTokens,GeneratedTokens (TIMESTAMP "YYYY-MM-DD HH:MM:SS[.frac]",
 * UTC; arrivals are taken relative to the earliest row). Other columns are ignored. Every bad
 * row is an AFD_ERROR_CONFIG naming the file, the line and the column. Rows are sorted by
 * arrival time (a stable sort: ties keep the file's order). Nothing here prints.
 */
#ifndef AFD_SIM_SERVE_WORKLOAD_H
#define AFD_SIM_SERVE_WORKLOAD_H

#include <glib.h>

#include "sim/types.h"

G_BEGIN_DECLS

/* Longest prompt or output a request may have, tokens. */
#define AFD_SERVE_MAX_TOKENS 1048576
/* Most requests one workload may hold. */
#define AFD_SERVE_MAX_REQUESTS 10000000

/* One request: when it arrives and how many tokens it brings and asks for. */
typedef struct {
  AfdTime arrival_ns;     /* arrival since the run's start, ns */
  guint32 prompt_tokens;  /* >= 1 */
  guint32 output_tokens;  /* >= 1; the first comes out of the prefill */
} AfdServeRequest;

typedef enum {
  AFD_SERVE_LENGTH_FIXED = 0, /* a */
  AFD_SERVE_LENGTH_UNIFORM,   /* integers on [a, b] */
  AFD_SERVE_LENGTH_LOGNORMAL, /* round(exp(ln a + b·Z)), Z ~ N(0, 1): median a, log-σ b */
} AfdServeLengthKind;

typedef struct {
  AfdServeLengthKind kind;
  double a, b;
} AfdServeLength;

typedef enum {
  AFD_SERVE_ARRIVAL_POISSON = 0,
  AFD_SERVE_ARRIVAL_GAMMA, /* cv */
} AfdServeArrivalKind;

/* What to generate. */
typedef struct {
  AfdServeArrivalKind arrival;
  double cv;           /* Gamma: coefficient of variation of the gaps, > 0 */
  double rate_per_s;   /* mean arrivals per second, > 0 */
  guint64 n_requests;  /* requests to generate, >= 1 */
  AfdServeLength prompt;
  AfdServeLength output;
  guint64 seed;
} AfdServeWorkloadSpec;

/**
 * afd_serve_length_parse:
 * @what: the flag or key for messages ("--prompt")
 * @text: "N" or "fixed:N", "uniform:A:B", "lognormal:MEDIAN:SIGMA"
 *
 * Returns: %FALSE with @code naming @what when @text is malformed or out of range
 */
gboolean afd_serve_length_parse (const char *what, const char *text, int code,
                                 AfdServeLength *out_length, GError **error);

/**
 * afd_serve_arrival_parse:
 * @text: "poisson" or "gamma:CV" (CV > 0)
 *
 * Returns: %FALSE with @code naming @what
 */
gboolean afd_serve_arrival_parse (const char *what, const char *text, int code,
                                  AfdServeArrivalKind *out_kind, double *out_cv, GError **error);

/* Writes @length as it was given ("lognormal:1024:0.5") into @out. */
void afd_serve_length_describe (const AfdServeLength *length, GString *out);

/* Latest arrival a workload may have: 1e9 s (about 31 years), far inside the simulated-time
 * horizon (AFD_TIME_HORIZON_NS), so the serving that follows cannot overflow the clock. */
#define AFD_SERVE_MAX_ARRIVAL_S 1e9

/**
 * afd_serve_workload_generate:
 *
 * Returns: (transfer full) (nullable) (element-type AfdServeRequest): the requests in arrival
 *   order (the first arrives after one gap from time 0), or %NULL with AFD_ERROR_USAGE when
 *   the arrivals run past AFD_SERVE_MAX_ARRIVAL_S (a tiny rate or a huge count)
 */
GArray *afd_serve_workload_generate (const AfdServeWorkloadSpec *spec, GError **error);

/**
 * afd_serve_workload_load_csv:
 * @path: the trace file
 *
 * Returns: (transfer full) (nullable) (element-type AfdServeRequest): the requests in arrival
 *   order, or %NULL with AFD_ERROR_IO (unreadable) or AFD_ERROR_CONFIG ("FILE:LINE: column
 *   'prompt_tokens': ...")
 */
GArray *afd_serve_workload_load_csv (const char *path, GError **error);

G_END_DECLS

#endif /* AFD_SIM_SERVE_WORKLOAD_H */
