/* SPDX-License-Identifier: MIT */
/*
 * nccl-probe.c - time NCCL collectives the way nccl-tests does, in the two ways nccl-tests
 * drives GPUs, to measure what the published tables carry besides NCCL itself.
 *
 *   nccl-probe --mode single|threads --gpus G --op all-reduce|all-to-all
 *              [--min BYTES] [--max BYTES] [--iters N] [--warmup N]
 *
 * single:  one host thread drives all G GPUs (ncclCommInitAll; each iteration is one
 *          ncclGroupStart/End around the G ranks' calls), as `all_reduce_perf -g G` does;
 * threads: one host thread per GPU (ncclCommInitRank), as one process per GPU does.
 * Timing follows nccl-tests' method: after the warm-up, `iters` iterations are enqueued
 * back to back, every stream is synchronised, and the wall-clock time divided by `iters` is
 * the time of one iteration (threads: the slowest thread's, started behind a barrier).
 * Sizes are per-rank buffers (all-to-all: everything one rank sends, bytes/G per peer),
 * doubling from --min (0 allowed: NCCL returns at once, so the row is the harness alone) to
 * --max. busbw = bytes/time × 2(G-1)/G (all-reduce) or (G-1)/G (all-to-all).
 * NCCL's own environment (NCCL_ALGO, NCCL_PROTO, NCCL_MIN_NCHANNELS, NCCL_MAX_NCHANNELS,
 * ...) applies as usual and is echoed in the header. Output: a tab-separated table on
 * stdout; any CUDA/NCCL failure prints one line naming the call and exits 1.
 *
 * A measurement tool for docs/models/collectives.md (no GLib: it runs on GPU machines that
 * lack it); not linked into afdsim.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The toolkit's headers are not -Wundef / -Wstrict-prototypes clean (as in cuda-check.h). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wundef"
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <cuda_runtime.h>
#include <nccl.h>
#pragma GCC diagnostic pop

#define MAX_GPUS 16

#define CUDA_OK(call)                                                                         \
  do                                                                                          \
    {                                                                                         \
      cudaError_t e_ = (call);                                                                \
      if (e_ != cudaSuccess)                                                                  \
        die ("%s: %s", #call, cudaGetErrorString (e_));                                       \
    }                                                                                         \
  while (0)
#define NCCL_OK(call)                                                                         \
  do                                                                                          \
    {                                                                                         \
      ncclResult_t r_ = (call);                                                               \
      if (r_ != ncclSuccess)                                                                  \
        die ("%s: %s", #call, ncclGetErrorString (r_));                                       \
    }                                                                                         \
  while (0)

typedef enum { OP_ALL_REDUCE, OP_ALL_TO_ALL } Op;

typedef struct {
  int gpus, iters, warmup, threads;
  Op op;
  size_t min_bytes, max_bytes;
  ncclComm_t comms[MAX_GPUS];
  cudaStream_t streams[MAX_GPUS];
  void *send[MAX_GPUS], *recv[MAX_GPUS];
  ncclUniqueId id;
  pthread_barrier_t barrier;
  double thread_time_s[MAX_GPUS];
} Probe;

static void die (const char *fmt, ...) __attribute__ ((format (printf, 1, 2), noreturn));

static void
die (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  fputs ("nccl-probe: ", stderr);
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
  va_end (ap);
  exit (1);
}

static double
now_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static long long
parse_count (const char *flag, const char *text, long long lo, long long hi)
{
  char *end = NULL;
  errno = 0;
  long long v = strtoll (text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < lo || v > hi)
    die ("%s: '%s' is not an integer in [%lld, %lld]", flag, text, lo, hi);
  return v;
}

/* Enqueues rank @r's part of one iteration of @bytes (the caller groups it). */
static void
enqueue_rank (Probe *p, int r, size_t bytes)
{
  if (p->op == OP_ALL_REDUCE)
    {
      NCCL_OK (ncclAllReduce (p->send[r], p->recv[r], bytes / sizeof (float), ncclFloat,
                              ncclSum, p->comms[r], p->streams[r]));
      return;
    }
  size_t per_peer = bytes / (size_t) p->gpus / sizeof (float);
  for (int peer = 0; peer < p->gpus; peer++)
    {
      size_t off = (size_t) peer * per_peer * sizeof (float);
      NCCL_OK (ncclSend ((char *) p->send[r] + off, per_peer, ncclFloat, peer, p->comms[r],
                         p->streams[r]));
      NCCL_OK (ncclRecv ((char *) p->recv[r] + off, per_peer, ncclFloat, peer, p->comms[r],
                         p->streams[r]));
    }
}

/* One iteration from thread @t: every rank in single mode, rank t in threads mode. */
static void
iteration (Probe *p, int t, size_t bytes)
{
  int first = p->threads ? t : 0, last = p->threads ? t + 1 : p->gpus;
  NCCL_OK (ncclGroupStart ());
  for (int r = first; r < last; r++)
    enqueue_rank (p, r, bytes);
  NCCL_OK (ncclGroupEnd ());
}

static void
sync_streams (Probe *p, int t)
{
  int first = p->threads ? t : 0, last = p->threads ? t + 1 : p->gpus;
  for (int r = first; r < last; r++)
    CUDA_OK (cudaStreamSynchronize (p->streams[r]));
}

typedef struct {
  Probe *p;
  int t;
  size_t bytes;
} Job;

/* Warm-up then timed loop of one size, from thread @t; its time per iteration. */
static double
time_size (Probe *p, int t, size_t bytes)
{
  if (p->threads)
    CUDA_OK (cudaSetDevice (t));
  for (int i = 0; i < p->warmup; i++)
    iteration (p, t, bytes);
  sync_streams (p, t);
  if (p->threads)
    pthread_barrier_wait (&p->barrier);
  double t0 = now_s ();
  for (int i = 0; i < p->iters; i++)
    iteration (p, t, bytes);
  sync_streams (p, t);
  return (now_s () - t0) / p->iters;
}

static void *
thread_main (void *arg)
{
  Job *job = arg;
  Probe *p = job->p;
  CUDA_OK (cudaSetDevice (job->t));
  if (job->bytes == (size_t) -1)
    {
      NCCL_OK (ncclCommInitRank (&p->comms[job->t], p->gpus, p->id, job->t));
      return NULL;
    }
  p->thread_time_s[job->t] = time_size (p, job->t, job->bytes);
  return NULL;
}

/* Runs @bytes (or, with (size_t) -1, communicator set-up) on one thread per GPU. */
static double
run_threads (Probe *p, size_t bytes)
{
  pthread_t th[MAX_GPUS];
  Job jobs[MAX_GPUS];
  for (int t = 0; t < p->gpus; t++)
    {
      jobs[t] = (Job){ p, t, bytes };
      if (pthread_create (&th[t], NULL, thread_main, &jobs[t]) != 0)
        die ("pthread_create failed");
    }
  double worst = 0;
  for (int t = 0; t < p->gpus; t++)
    {
      pthread_join (th[t], NULL);
      if (p->thread_time_s[t] > worst)
        worst = p->thread_time_s[t];
    }
  return worst;
}

static void
usage (void)
{
  fputs ("usage: nccl-probe --mode single|threads --gpus G --op all-reduce|all-to-all\n"
         "                  [--min BYTES] [--max BYTES] [--iters N] [--warmup N]\n",
         stderr);
  exit (2);
}

int
main (int argc, char **argv)
{
  static Probe p = { .gpus = 0, .iters = 20, .warmup = 5, .threads = -1, .op = -1,
                     .min_bytes = 0, .max_bytes = 64 << 20 };
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
      if (strcmp (a, "-h") == 0 || strcmp (a, "--help") == 0)
        usage ();
      if (v == NULL)
        die ("%s needs a value", a);
      i++;
      if (strcmp (a, "--mode") == 0)
        p.threads = strcmp (v, "threads") == 0 ? 1 : strcmp (v, "single") == 0 ? 0 : -2;
      else if (strcmp (a, "--gpus") == 0)
        p.gpus = (int) parse_count (a, v, 1, MAX_GPUS);
      else if (strcmp (a, "--op") == 0)
        p.op = strcmp (v, "all-reduce") == 0 ? OP_ALL_REDUCE
               : strcmp (v, "all-to-all") == 0 ? OP_ALL_TO_ALL : (Op) -2;
      else if (strcmp (a, "--min") == 0)
        p.min_bytes = (size_t) parse_count (a, v, 0, 1LL << 34);
      else if (strcmp (a, "--max") == 0)
        p.max_bytes = (size_t) parse_count (a, v, 0, 1LL << 34);
      else if (strcmp (a, "--iters") == 0)
        p.iters = (int) parse_count (a, v, 1, 1000000);
      else if (strcmp (a, "--warmup") == 0)
        p.warmup = (int) parse_count (a, v, 0, 1000000);
      else
        die ("unknown option '%s' (--help lists them)", a);
    }
  if (p.threads < 0)
    die ("--mode: give single or threads");
  if ((int) p.op < 0)
    die ("--op: give all-reduce or all-to-all");
  if (p.gpus == 0)
    die ("--gpus: give the number of GPUs");
  if (p.min_bytes > p.max_bytes)
    die ("--min %zu is above --max %zu", p.min_bytes, p.max_bytes);
  int have = 0;
  CUDA_OK (cudaGetDeviceCount (&have));
  if (have < p.gpus)
    die ("--gpus %d: this machine has %d GPU(s)", p.gpus, have);

  size_t buf = p.max_bytes > 0 ? p.max_bytes : 4;
  for (int r = 0; r < p.gpus; r++)
    {
      CUDA_OK (cudaSetDevice (r));
      CUDA_OK (cudaStreamCreateWithFlags (&p.streams[r], cudaStreamNonBlocking));
      CUDA_OK (cudaMalloc (&p.send[r], buf));
      CUDA_OK (cudaMalloc (&p.recv[r], buf));
      CUDA_OK (cudaMemset (p.send[r], 0, buf));
      CUDA_OK (cudaMemset (p.recv[r], 0, buf));
      CUDA_OK (cudaDeviceSynchronize ());
    }
  if (p.threads)
    {
      NCCL_OK (ncclGetUniqueId (&p.id));
      if (pthread_barrier_init (&p.barrier, NULL, (unsigned) p.gpus) != 0)
        die ("pthread_barrier_init failed");
      run_threads (&p, (size_t) -1);
    }
  else
    {
      int devs[MAX_GPUS];
      for (int r = 0; r < p.gpus; r++)
        devs[r] = r;
      NCCL_OK (ncclCommInitAll (p.comms, p.gpus, devs));
    }

  int version = 0;
  NCCL_OK (ncclGetVersion (&version));
  struct cudaDeviceProp prop;
  CUDA_OK (cudaGetDeviceProperties (&prop, 0));
  const char *env[] = { "NCCL_ALGO", "NCCL_PROTO", "NCCL_MIN_NCHANNELS", "NCCL_MAX_NCHANNELS",
                        "NCCL_NVLS_ENABLE" };
  printf ("# nccl-probe mode=%s gpus=%d op=%s iters=%d warmup=%d nccl=%d device=%s",
          p.threads ? "threads" : "single", p.gpus,
          p.op == OP_ALL_REDUCE ? "all-reduce" : "all-to-all", p.iters, p.warmup, version,
          prop.name);
  for (size_t k = 0; k < sizeof env / sizeof env[0]; k++)
    printf (" %s=%s", env[k], getenv (env[k]) ? getenv (env[k]) : "-");
  printf ("\n#mode\tgpus\top\tbytes\ttime_us\tbusbw_GBps\n");
  double factor = p.op == OP_ALL_REDUCE ? 2.0 * (p.gpus - 1) / p.gpus
                                        : (double) (p.gpus - 1) / p.gpus;
  for (size_t bytes = p.min_bytes;;)
    {
      /* all-to-all: whole floats per peer */
      size_t unit = p.op == OP_ALL_TO_ALL ? sizeof (float) * (size_t) p.gpus : sizeof (float);
      size_t b = bytes / unit * unit;
      double t = p.threads ? run_threads (&p, b) : time_size (&p, 0, b);
      printf ("%s\t%d\t%s\t%zu\t%.2f\t%.3f\n", p.threads ? "threads" : "single", p.gpus,
              p.op == OP_ALL_REDUCE ? "all-reduce" : "all-to-all", b, t * 1e6,
              t > 0 ? b / t * factor / 1e9 : 0.0);
      fflush (stdout);
      if (bytes >= p.max_bytes)
        break;
      bytes = bytes == 0 ? 1024 : bytes * 2;
      if (bytes > p.max_bytes)
        bytes = p.max_bytes;
    }
  for (int r = 0; r < p.gpus; r++)
    {
      NCCL_OK (ncclCommDestroy (p.comms[r]));
      CUDA_OK (cudaSetDevice (r));
      CUDA_OK (cudaFree (p.send[r]));
      CUDA_OK (cudaFree (p.recv[r]));
    }
  return 0;
}
