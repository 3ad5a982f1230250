/* SPDX-License-Identifier: MIT */
/*
 * fuzz-llm.c - libFuzzer target for sim/llm.c: afd_llm_load_file on arbitrary bytes written to
 * a scratch file, then every derived quantity of a loaded model.
 *
 * Rules checked: a refused file gives AFD_ERROR_CONFIG or _IO with one line naming the file; a
 * loaded model has a name, at least one layer, consistent layer counts (MoE + dense = all),
 * finite non-negative parameter counts with active <= total, finite non-negative KV sizes, and
 * a deep copy that frees cleanly.
 */
#include <math.h>

#include "sim/llm.h"
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

/* TRUE when @v is finite and >= 0. */
static gboolean
count_ok (double v)
{
  return isfinite (v) && v >= 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *path = fuzz_write_file ("model.json", data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdLlm) llm = afd_llm_load_file (path, &error);
  if (llm == NULL)
    {
      fuzz_check_error (error, path, codes);
      return 0;
    }
  fuzz_assert (error == NULL, "success with an error set");
  fuzz_assert (llm->name && llm->name[0] && g_utf8_validate (llm->name, -1, NULL), "bad name");
  fuzz_assert (llm->n_layers >= 1 && llm->hidden_size >= 1, "empty model");
  fuzz_assert (afd_llm_n_moe_layers (llm) + afd_llm_n_dense_layers (llm) == llm->n_layers,
               "MoE %u + dense %u blocks != %u layers", afd_llm_n_moe_layers (llm),
               afd_llm_n_dense_layers (llm), llm->n_layers);
  guint moe = 0;
  for (guint l = 0; l < llm->n_layers && l < 100000; l++)
    moe += afd_llm_layer_is_moe (llm, l) ? 1 : 0;
  fuzz_assert (llm->n_layers >= 100000 || moe == afd_llm_n_moe_layers (llm),
               "layer_is_moe disagrees with n_moe_layers");
  guint m = afd_llm_ffn_matrices (llm);
  fuzz_assert (m == 2 || m == 3, "%u FFN matrices", m);
  fuzz_assert (count_ok (afd_llm_kv_elements_per_token_layer (llm))
                 && count_ok (afd_llm_kv_bytes_per_token (llm)),
               "KV size negative or not finite");
  AfdLlmParams p;
  afd_llm_params (llm, &p);
  fuzz_assert (count_ok (p.total) && count_ok (p.active) && count_ok (p.mtp), "params not finite");
  fuzz_assert (p.active <= p.total * (1 + 1e-12), "active %g > total %g", p.active, p.total);
  g_autoptr (AfdLlm) copy = afd_llm_copy (llm);
  fuzz_assert (strcmp (copy->name, llm->name) == 0 && copy->n_layers == llm->n_layers,
               "copy differs");
  return 0;
}
