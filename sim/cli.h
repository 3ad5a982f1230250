/* SPDX-License-Identifier: MIT */
/*
 * cli.h - strict command-line number parsing.
 *
 * Commands (cli/) parse their flags with GOption, as strings, and convert numbers with the
 * afd_cli_parse_*() helpers (the run options and sweep axes of sim/ use them too), which reject negative or out-of-range values, NaN, infinities,
 * overflow and trailing junk with one message naming the flag. All command-line problems are
 * AFD_ERROR_USAGE (exit status 2). This module prints nothing.
 */
#ifndef AFD_SIM_CLI_H
#define AFD_SIM_CLI_H

#include <glib.h>

G_BEGIN_DECLS

/**
 * afd_cli_parse_int:
 * @flag: the flag name shown in messages ("--pending")
 * @text: (nullable): the text to convert; %NULL leaves @out_value untouched and succeeds
 * @min: smallest accepted value (inclusive)
 * @max: largest accepted value (inclusive)
 *
 * Accepts decimal integers with an optional exponent form for convenience ("2e7", exact
 * integers only).
 *
 * Returns: %FALSE with AFD_ERROR_USAGE naming @flag
 */
gboolean afd_cli_parse_int (const char *flag, const char *text, gint64 min, gint64 max,
                            gint64 *out_value, GError **error);

/**
 * afd_cli_parse_double:
 * @min: smallest accepted value (inclusive)
 * @max: largest accepted value (inclusive)
 *
 * Returns: %FALSE with AFD_ERROR_USAGE naming @flag for junk, NaN, infinities, overflow,
 *   or values outside [@min, @max]
 */
gboolean afd_cli_parse_double (const char *flag, const char *text, double min, double max,
                               double *out_value, GError **error);

/**
 * afd_cli_parse_bytes:
 *
 * Parses a byte count: an integer with an optional binary suffix K, M, G, T (also KiB,
 * MiB, GiB, TiB; 1K = 1024 B, as nccl-tests reads -b/-e) or a plain "B".
 *
 * Returns: %FALSE with AFD_ERROR_USAGE naming @flag
 */
gboolean afd_cli_parse_bytes (const char *flag, const char *text, guint64 min, guint64 max,
                              guint64 *out_value, GError **error);

G_END_DECLS

#endif /* AFD_SIM_CLI_H */
