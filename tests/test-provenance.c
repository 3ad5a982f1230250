/* SPDX-License-Identifier: MIT */
/* Tests for sim/provenance.c, the one provenance writer, and its experiment form. */
#include "config.h"

#include <criterion/criterion.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "sim/error.h"
#include "sim/experiment.h"
#include "sim/json.h"
#include "sim/provenance.h"
#include "tests/test-helpers.h"

/* The block's keys, in order. */
static char *
keys_of (const cJSON *o)
{
  g_autoptr (GString) s = g_string_new (NULL);
  for (const cJSON *c = o->child; c != NULL; c = c->next)
    g_string_append_printf (s, "%s%s", s->len ? " " : "", c->string);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

/* The same keys in the same order for every command; the command line is recorded with
 * argv[0] as "afdsim" and words that need it shell-quoted. */
Test (provenance, keys_and_command_line)
{
  g_autoptr (cJSON) a = cJSON_CreateObject ();
  cJSON *p = afd_provenance_add (a, "roofline");
  g_autofree char *keys = keys_of (p);
  cr_assert_str_eq (keys, "version git_revision features command command_line inputs");
  cr_assert_str_eq (cJSON_GetObjectItem (p, "version")->valuestring, PACKAGE_VERSION);
  cr_assert_str_eq (cJSON_GetObjectItem (p, "command")->valuestring, "roofline");
  cr_assert_str_eq (cJSON_GetObjectItem (p, "command_line")->valuestring, "");
  cr_assert_eq (cJSON_GetArraySize (cJSON_GetObjectItem (p, "inputs")), 0);

  char a0[] = "/usr/bin/afdsim", a1[] = "run", a2[] = "--json", a3[] = "my out.json",
       a4[] = "--set", a5[] = "x='y'";
  char *argv[] = { a0, a1, a2, a3, a4, a5, NULL };
  afd_provenance_set_command_line (6, argv);
  cr_assert_str_eq (afd_provenance_command_line (),
                    "afdsim run --json 'my out.json' --set 'x='\\''y'\\'''");
  g_autoptr (cJSON) b = cJSON_CreateObject ();
  cJSON *q = afd_provenance_add (b, "run");
  cr_assert_str_eq (cJSON_GetObjectItem (q, "command_line")->valuestring,
                    afd_provenance_command_line ());
}

/* An input is hashed whole (SHA-256 of "abc" is the FIPS 180-2 example); an unreadable one
 * is an I/O error naming it. */
Test (provenance, inputs_with_sha256)
{
  g_autofree char *dir = g_dir_make_tmp ("afd-prov-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "in.json", NULL);
  cr_assert (g_file_set_contents (path, "abc", 3, NULL));
  g_autoptr (cJSON) root = cJSON_CreateObject ();
  cJSON *p = afd_provenance_add (root, "run");
  g_autoptr (GError) error = NULL;
  cr_assert (afd_provenance_add_input (p, path, &error));
  afd_assert_no_error (error);
  const cJSON *in = cJSON_GetArrayItem (cJSON_GetObjectItem (p, "inputs"), 0);
  cr_assert_str_eq (cJSON_GetObjectItem (in, "path")->valuestring, path);
  cr_assert_str_eq (cJSON_GetObjectItem (in, "sha256")->valuestring,
                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  g_remove (path);
  cr_assert_not (afd_provenance_add_input (p, path, &error));
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_IO);
  afd_assert_error_contains (error, "in.json");
  cr_assert_eq (cJSON_GetArraySize (cJSON_GetObjectItem (p, "inputs")), 1);
  g_rmdir (dir);
}

/* An experiment's block: its file, cluster and model as data-folder paths, then the seed. */
Test (provenance, experiment_inputs)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AfdExperiment) exp = afd_experiment_load ("seeds-headline", &error);
  afd_assert_no_error (error);
  g_autoptr (cJSON) root = cJSON_CreateObject ();
  cJSON *p = afd_experiment_add_provenance (exp, root, "validate", &error);
  afd_assert_no_error (error);
  g_autofree char *keys = keys_of (p);
  cr_assert_str_eq (keys, "version git_revision features command command_line inputs seed");
  const cJSON *inputs = cJSON_GetObjectItem (p, "inputs");
  cr_assert_eq (cJSON_GetArraySize (inputs), 3);
  static const char *const paths[] = { "experiments/seeds-headline/experiment.json",
                                       "topologies/clusters/a100-4x4-hdr.json",
                                       "models/llm/masep-4l.json" };
  for (int i = 0; i < 3; i++)
    {
      const cJSON *in = cJSON_GetArrayItem (inputs, i);
      cr_assert_str_eq (cJSON_GetObjectItem (in, "path")->valuestring, paths[i]);
      cr_assert_eq (strlen (cJSON_GetObjectItem (in, "sha256")->valuestring), 64);
    }
}
