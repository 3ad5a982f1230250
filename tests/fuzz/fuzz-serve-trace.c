/* SPDX-License-Identifier: MIT */
/*
 * fuzz-serve-trace.c - libFuzzer target for sim/serve-workload.c: afd_serve_workload_load_csv
 * on arbitrary bytes written to a scratch file, and the --prompt/--output/--arrival parsers on
 * the same bytes as text.
 *
 * Rules checked: a loaded trace has at least one request, sorted by arrival, every arrival in
 * [0, AFD_SERVE_MAX_ARRIVAL_S] and every length in [1, AFD_SERVE_MAX_TOKENS]; a refused file
 * gives AFD_ERROR_CONFIG or _IO with one line naming the file. A parsed length spec is in
 * range; a refused one is AFD_ERROR_USAGE naming the flag.
 */
#include <string.h>

#include "sim/serve-workload.h"
#include "tests/fuzz/fuzz-common.h"

static const int codes[] = { AFD_ERROR_CONFIG, AFD_ERROR_IO, -1 };

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_glib ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *path = fuzz_write_file ("trace.csv", data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) r = afd_serve_workload_load_csv (path, &error);
  if (r == NULL)
    fuzz_check_error (error, path, codes);
  else
    {
      fuzz_assert (error == NULL && r->len >= 1, "success without requests");
      for (guint i = 0; i < r->len; i++)
        {
          const AfdServeRequest *q = &g_array_index (r, AfdServeRequest, i);
          fuzz_assert (q->arrival_ns >= 0 && q->arrival_ns <= AFD_SERVE_MAX_ARRIVAL_S * 1e9,
                       "arrival out of range");
          fuzz_assert (i == 0 || q[-1].arrival_ns <= q->arrival_ns, "not sorted");
          fuzz_assert (q->prompt_tokens >= 1 && q->prompt_tokens <= AFD_SERVE_MAX_TOKENS
                         && q->output_tokens >= 1 && q->output_tokens <= AFD_SERVE_MAX_TOKENS,
                       "length out of range");
        }
    }
  /* The same bytes as a length spec and an arrival spec (up to the first NUL). */
  g_autofree char *text = g_strndup ((const char *) data, MIN (size, 256));
  AfdServeLength len;
  g_autoptr (GError) lerr = NULL;
  if (afd_serve_length_parse ("--prompt", text, AFD_ERROR_USAGE, &len, &lerr))
    fuzz_assert (len.a >= 1 && len.a <= AFD_SERVE_MAX_TOKENS, "length spec out of range");
  else
    fuzz_assert (g_error_matches (lerr, AFD_ERROR, AFD_ERROR_USAGE)
                   && strstr (lerr->message, "--prompt") != NULL,
                 "length error without the flag");
  AfdServeArrivalKind kind;
  double cv;
  g_autoptr (GError) aerr = NULL;
  if (afd_serve_arrival_parse ("--arrival", text, AFD_ERROR_USAGE, &kind, &cv, &aerr))
    fuzz_assert (cv > 0 && cv <= 100, "cv out of range");
  else
    fuzz_assert (g_error_matches (aerr, AFD_ERROR, AFD_ERROR_USAGE), "arrival error code");
  return 0;
}
