/* SPDX-License-Identifier: MIT */
/* error.c - the afdsim GError domain and its exit-status mapping. */
#include "config.h"

#include "sim/error.h"

G_DEFINE_QUARK (afdsim-error-quark, afd_error)

int
afd_error_exit_status (const GError *error)
{
  if (error == NULL)
    return 0;
  if (error->domain == AFD_ERROR && error->code == AFD_ERROR_USAGE)
    return 2;
  if (error->domain == G_OPTION_ERROR)
    return 2;
  return 1;
}
