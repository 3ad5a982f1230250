/* SPDX-License-Identifier: MIT */
/*
 * error.h - the project's one GError domain.
 *
 * Anything caused by input (files, JSON, command line, missing GPUs) is reported as a GError
 * in this domain; broken internal invariants are g_assert()s. Only main() prints errors.
 */
#ifndef AFD_SIM_ERROR_H
#define AFD_SIM_ERROR_H

#include <glib.h>

G_BEGIN_DECLS

#define AFD_ERROR (afd_error_quark ())
GQuark afd_error_quark (void);

typedef enum {
  AFD_ERROR_CONFIG,              /* experiment/model JSON invalid or inconsistent */
  AFD_ERROR_TOPOLOGY,            /* topology JSON invalid, disconnected, bad units */
  AFD_ERROR_IO,                  /* file could not be read or written */
  AFD_ERROR_UNKNOWN_PLUGIN,      /* name not in a registry */
  AFD_ERROR_BACKEND_UNAVAILABLE, /* backend not built in, or no device at run time */
  AFD_ERROR_BACKEND_FAILED,      /* CUDA/NCCL call failed */
  AFD_ERROR_USAGE,               /* bad command line: unknown command/flag, bad number */
  AFD_ERROR_INFEASIBLE,          /* a placement that cannot run (memory, heads, divisibility) */
  AFD_ERROR_LIMIT,               /* a configuration beyond the simulator's resource budget */
} AfdError;

/**
 * afd_error_exit_status:
 * @error: (nullable): an error from any afdsim call
 *
 * Returns: the process exit status main() uses for @error: 0 for %NULL, 2 for
 *   %AFD_ERROR_USAGE, 1 for everything else
 */
int afd_error_exit_status (const GError *error);

G_END_DECLS

#endif /* AFD_SIM_ERROR_H */
