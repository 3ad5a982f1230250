/* SPDX-License-Identifier: MIT */
/* Tests for sim/trace.c: the written JSON's structure, atomic rename, abort, write errors. */
#include <criterion/criterion.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>

#include "sim/error.h"
#include "sim/json.h"
#include "sim/gpu-set.h"
#include "sim/trace.h"
#include "tests/test-helpers.h"

/* Returns the number of entries in @dir. */
static guint
count_entries (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  cr_assert_not_null (d);
  guint n = 0;
  while (g_dir_read_name (d) != NULL)
    n++;
  return n;
}

/* Removes @dir and the files in it. */
static void
remove_dir (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      g_unlink (p);
    }
  g_rmdir (dir);
}

/* Parses the file at @path; fails the test if it is not JSON. */
static cJSON *
parse_file (const char *path)
{
  g_autofree char *text = NULL;
  cr_assert (g_file_get_contents (path, &text, NULL, NULL), "cannot read %s", path);
  cJSON *root = cJSON_Parse (text);
  cr_assert_not_null (root, "%s is not JSON", path);
  return root;
}

/* Returns the number of events in @events with "ph" equal to @ph. */
static guint
count_ph (const cJSON *events, const char *ph)
{
  guint n = 0;
  const cJSON *ev;
  cJSON_ArrayForEach (ev, events)
  {
    const cJSON *p = cJSON_GetObjectItemCaseSensitive (ev, "ph");
    if (cJSON_IsString (p) && strcmp (p->valuestring, ph) == 0)
      n++;
  }
  return n;
}

/* Checks the invariants every written trace must hold; returns traceEvents. */
static const cJSON *
check_structure (const cJSON *root)
{
  const cJSON *unit = cJSON_GetObjectItemCaseSensitive (root, "displayTimeUnit");
  cr_assert (cJSON_IsString (unit) && strcmp (unit->valuestring, "ns") == 0);
  cr_assert (cJSON_IsObject (cJSON_GetObjectItemCaseSensitive (root, "otherData")));
  const cJSON *events = cJSON_GetObjectItemCaseSensitive (root, "traceEvents");
  cr_assert (cJSON_IsArray (events));
  const cJSON *ev;
  cJSON_ArrayForEach (ev, events)
  {
    const char *ph = cJSON_GetStringValue (cJSON_GetObjectItemCaseSensitive (ev, "ph"));
    cr_assert_not_null (ph);
    cr_assert (strchr ("XMCsfi", ph[0]) != NULL && ph[1] == '\0', "unexpected ph %s", ph);
    cr_assert (cJSON_IsString (cJSON_GetObjectItemCaseSensitive (ev, "name")));
    cr_assert (cJSON_IsNumber (cJSON_GetObjectItemCaseSensitive (ev, "pid")));
    if (ph[0] == 'X')
      {
        cr_assert (cJSON_IsNumber (cJSON_GetObjectItemCaseSensitive (ev, "ts")));
        cr_assert (cJSON_IsNumber (cJSON_GetObjectItemCaseSensitive (ev, "dur")));
        cr_assert (cJSON_IsNumber (cJSON_GetObjectItemCaseSensitive (ev, "tid")));
        cr_assert (cJSON_IsString (cJSON_GetObjectItemCaseSensitive (ev, "cat")));
      }
    if (ph[0] == 'M')
      cr_assert (cJSON_IsString (cJSON_GetObjectItemCaseSensitive (
        cJSON_GetObjectItemCaseSensitive (ev, "args"), "name")));
  }
  /* Every flow start has exactly one finish with the same id and category. */
  const cJSON *s;
  cJSON_ArrayForEach (s, events)
  {
    if (strcmp (cJSON_GetStringValue (cJSON_GetObjectItemCaseSensitive (s, "ph")), "s") != 0)
      continue;
    double id = cJSON_GetNumberValue (cJSON_GetObjectItemCaseSensitive (s, "id"));
    guint finishes = 0;
    const cJSON *f;
    cJSON_ArrayForEach (f, events)
    {
      if (strcmp (cJSON_GetStringValue (cJSON_GetObjectItemCaseSensitive (f, "ph")), "f") != 0
          || cJSON_GetNumberValue (cJSON_GetObjectItemCaseSensitive (f, "id")) != id)
        continue;
      finishes++;
      cr_assert_str_eq (cJSON_GetStringValue (cJSON_GetObjectItemCaseSensitive (f, "bp")), "e");
      cr_assert_str_eq (cJSON_GetStringValue (cJSON_GetObjectItemCaseSensitive (f, "cat")),
                        cJSON_GetStringValue (cJSON_GetObjectItemCaseSensitive (s, "cat")));
    }
    cr_assert_eq (finishes, 1, "flow %g has %u finishes", id, finishes);
  }
  return events;
}

/* Every event kind is written as the format expects, times in microseconds. */
Test (trace, writes_every_event_kind)
{
  g_autofree char *dir = g_dir_make_tmp ("afd-trace-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "t.json", NULL);
  g_autoptr (GError) error = NULL;
  AfdTraceWriter *w = afd_trace_writer_open (path, &error);
  afd_assert_no_error (error);
  afd_trace_writer_process_name (w, 0, "gpu0");
  afd_trace_writer_thread_name (w, 0, 1, "comm");
  cJSON *args = cJSON_CreateObject ();
  cJSON_AddNumberToObject (args, "flops", 2e12);
  afd_trace_writer_complete (w, 0, 1, "gemm", "compute", 1500, 2250, args);
  afd_trace_writer_counter (w, 3, "link util", "util", 4000, 0.75);
  afd_trace_writer_flow (w, 7, "dep", 0, 1, 3000, 1, 0, 5000);
  afd_trace_writer_instant (w, 0, "fault", 6000, NULL);
  cr_assert_not (g_file_test (path, G_FILE_TEST_EXISTS), "nothing at the target before close");
  cr_assert (afd_trace_writer_close (w, &error));
  afd_assert_no_error (error);
  cr_assert_eq (count_entries (dir), 1, "no temporary file left behind");

  g_autoptr (cJSON) root = parse_file (path);
  const cJSON *events = check_structure (root);
  cr_assert_eq (cJSON_GetArraySize (events), 7);
  cr_assert_eq (count_ph (events, "M"), 2);
  cr_assert_eq (count_ph (events, "X"), 1);
  cr_assert_eq (count_ph (events, "C"), 1);
  cr_assert_eq (count_ph (events, "s"), 1);
  cr_assert_eq (count_ph (events, "f"), 1);
  cr_assert_eq (count_ph (events, "i"), 1);
  const cJSON *x = cJSON_GetArrayItem (events, 2);
  cr_assert_str_eq (cJSON_GetStringValue (cJSON_GetObjectItem (x, "name")), "gemm");
  cr_assert_float_eq (cJSON_GetNumberValue (cJSON_GetObjectItem (x, "ts")), 1.5, 1e-12);
  cr_assert_float_eq (cJSON_GetNumberValue (cJSON_GetObjectItem (x, "dur")), 2.25, 1e-12);
  cr_assert_eq (cJSON_GetNumberValue (cJSON_GetObjectItem (x, "tid")), 1);
  cr_assert_float_eq (cJSON_GetNumberValue (
                        cJSON_GetObjectItem (cJSON_GetObjectItem (x, "args"), "flops")),
                      2e12, 1);
  const cJSON *c = cJSON_GetArrayItem (events, 3);
  cr_assert_float_eq (cJSON_GetNumberValue (
                        cJSON_GetObjectItem (cJSON_GetObjectItem (c, "args"), "util")),
                      0.75, 1e-12);
  const cJSON *i = cJSON_GetArrayItem (events, 6);
  cr_assert_str_eq (cJSON_GetStringValue (cJSON_GetObjectItem (i, "s")), "p");
  remove_dir (dir);
}

/* A GPU set reports every op as an X event, names its GPUs and streams, and draws one flow per
 * cross-stream wait. */
Test (trace, gpu_set_reports_ops)
{
  g_autofree char *dir = g_dir_make_tmp ("afd-trace-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "ops.json", NULL);
  g_autoptr (GError) error = NULL;
  AfdTraceWriter *w = afd_trace_writer_open (path, &error);
  afd_assert_no_error (error);
  {
    g_autoptr (AfdEngine) engine = afd_engine_new (1);
    g_autoptr (AfdGpuSet) set = afd_gpu_set_new (engine, w);
    for (guint g = 0; g < 2; g++)
      {
        g_autofree char *name = g_strdup_printf ("gpu%u", g);
        afd_gpu_set_add_gpu (set, name);
        afd_gpu_set_add_stream (set, g, "compute");
        afd_gpu_set_add_stream (set, g, "comm");
      }
    AfdOpSpec a = { .gpu = 0, .stream = 0, .duration_ns = 100, .name = "attn",
                    .category = "compute", .flops = 1e9 };
    guint ia = afd_gpu_set_enqueue (set, &a, NULL, 0);
    AfdOpSpec b = { .gpu = 0, .stream = 1, .duration_ns = 40, .name = "send",
                    .category = "comm", .bytes = 4096 };
    guint ib = afd_gpu_set_enqueue (set, &b, &ia, 1);
    AfdOpSpec c = { .gpu = 1, .stream = 0, .duration_ns = 60, .name = "moe",
                    .category = "compute" };
    guint waits[] = { ib, ia };
    afd_gpu_set_enqueue (set, &c, waits, 2);
    afd_gpu_set_enqueue (set, &c, NULL, 0);
    afd_engine_run (engine, AFD_TIME_MAX, 0);
    cr_assert_eq (afd_gpu_set_n_unfinished (set), 0);
  }
  cr_assert (afd_trace_writer_close (w, &error));
  afd_assert_no_error (error);
  g_autoptr (cJSON) root = parse_file (path);
  const cJSON *events = check_structure (root);
  cr_assert_eq (count_ph (events, "M"), 2 + 4, "one process and two thread names per GPU");
  cr_assert_eq (count_ph (events, "X"), 4);
  cr_assert_eq (count_ph (events, "s"), 3, "attn->send, send->moe, attn->moe");
  cr_assert_eq (count_ph (events, "f"), 3);
  remove_dir (dir);
}

/* Abort removes the temporary file and leaves the target untouched. */
Test (trace, abort_leaves_no_file)
{
  g_autofree char *dir = g_dir_make_tmp ("afd-trace-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "t.json", NULL);
  g_autoptr (GError) error = NULL;
  AfdTraceWriter *w = afd_trace_writer_open (path, &error);
  afd_assert_no_error (error);
  afd_trace_writer_process_name (w, 0, "gpu0");
  cr_assert_eq (count_entries (dir), 1, "the temporary file lives in the target's folder");
  afd_trace_writer_abort (w);
  cr_assert_eq (count_entries (dir), 0);
  /* The autoptr cleanup aborts too. */
  {
    g_autoptr (AfdTraceWriter) w2 = afd_trace_writer_open (path, &error);
    afd_assert_no_error (error);
  }
  cr_assert_eq (count_entries (dir), 0);
  remove_dir (dir);
}

/* A target in a missing folder is an AFD_ERROR_IO naming the path. */
Test (trace, unwritable_path)
{
  g_autoptr (GError) error = NULL;
  AfdTraceWriter *w = afd_trace_writer_open ("/nonexistent-afd-dir/sub/t.json", &error);
  cr_assert_null (w);
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_IO);
  afd_assert_error_contains (error, "/nonexistent-afd-dir/sub/t.json");
}

/* A failing write (file size limit, like a full disk) is reported by close as AFD_ERROR_IO,
 * and neither the target nor the temporary file remains. */
Test (trace, write_error_reported_by_close)
{
  g_autofree char *dir = g_dir_make_tmp ("afd-trace-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "t.json", NULL);
  g_autoptr (GError) error = NULL;
  /* Criterion runs each test in its own process, so the limit stays here. */
  signal (SIGXFSZ, SIG_IGN);
  struct rlimit lim = { 4096, 4096 };
  cr_assert_eq (setrlimit (RLIMIT_FSIZE, &lim), 0);
  AfdTraceWriter *w = afd_trace_writer_open (path, &error);
  afd_assert_no_error (error);
  for (guint i = 0; i < 1000; i++)
    afd_trace_writer_complete (w, 0, 0, "op", "compute", i * 10, 10, NULL);
  cr_assert_not (afd_trace_writer_close (w, &error));
  afd_assert_error (error, AFD_ERROR, AFD_ERROR_IO);
  afd_assert_error_contains (error, "t.json");
  cr_assert_eq (count_entries (dir), 0);
  remove_dir (dir);
}
