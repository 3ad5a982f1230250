/* SPDX-License-Identifier: MIT */
/*
 * collective.c - the analytic collective model and the tuner shared with flow mode.
 *
 * Formulas (docs/models/collectives.md, after NCCL's src/graph/tuning.cc summarised in
 * /work/shared/reference/hardware.md §5.2 and the nccl-tests bus factors of §2.1):
 *   ring all-reduce    t = base + (2(n-1) - 2(N-1))·α_intra + 2(N-1)·α_inter
 *                          + 2(n-1)/n · S / (B_ring · f_proto)
 *   ring AG / RS       the same with n-1 steps, N-1 network steps and (n-1)/n · S
 *   chain bcast/reduce n-1 steps, S / (B_ring · f_proto)
 *   tree all-reduce    base + 2((ppn-1)·α_intra + ⌈log2 N⌉·α_inter) + 2S / B_tree
 *                      + (k-1)·2·min(S, c·chunk) / B_tree across nodes (LL128, Simple),
 *                      B_tree = B_ring·e_tree·f, k = 2⌈log2 N⌉, chunk: NCCL's tree chunk
 *   NVLS all-reduce    base + α_nvls + (S + (stages-1)·min(S, loop)) / (B_nvlink · e_nvls),
 *                      loop = nvls channels × ranks × NCCL's NVLS chunk, stages 3
 *   hierarchical AR    intra RS + inter ring AR of S/ppn per GPU NIC + intra AG
 *   direct all-to-all  p2p + (n-1)·peer + path + max(intra/B_up, inter/B_nic) / f
 *   NVLS-Tree AR       α_nvl + 2⌈log2 N⌉·α_net + (S + (stages-1)·min(S, round)) / B_nt,
 *                      B_nt = min(B_nvlink·e_nvls, B_node_out·(1 if N <= 2 else 1/2)),
 *                      stages = 2 + 2⌈log2 N⌉
 * NCCL's refinements (tuning.cc, enqueue.cc): LL bus bandwidth ≤ llMaxBw, ring LL128 ≤ C·36.7
 * GB/s (Hopper), tree ≤ C·perChMaxTreeBw, tree LL ×1/3.8 and LL128 ×120/128, tree bandwidth ×
 * treeCorrectionFactor(S), bandwidth × (channels run / C) with channels run = clamp(⌊S / (nt ·
 * threshold)⌋, 1, C); the tuner selects at all C channels.
 * with B_ring = B_up on one node and min(B_up, B_node_out) across nodes, B_up = NVLink line
 * rate × scale_up_efficiency (per GPUs of the group on one node where the GPU file gives
 * nvlink_efficiency_by_gpus, afd_gpu_spec_nvlink_efficiency()),
 * B_node_out = Σ member NIC uplinks × scale_out_efficiency,
 * α = NCCL hardware latency of the step's tier + the route's link latency.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "sim/collective-private.h"
#include "sim/error.h"

static const char *const op_names[AFD_COLL_OP_COUNT] = {
  "all-reduce", "all-gather", "reduce-scatter", "broadcast",
  "reduce",     "all-to-all", "all-to-all-v",   "send-recv",
};
static const char *const op_aliases[AFD_COLL_OP_COUNT] = {
  "allreduce", "allgather", "reducescatter", "bcast",
  "reduce",    "alltoall",  "alltoallv",     "sendrecv",
};
static const char *const algo_names[AFD_ALGO_COUNT] = {
  "auto", "ring", "tree", "hierarchical", "nvls", "direct", "two-stage", "nvls-tree",
};
static const char *const proto_names[AFD_PROTO_COUNT] = { "auto", "ll", "ll128", "simple" };

const char *
afd_collective_op_name (AfdCollectiveOp op)
{
  return (int) op >= 0 && op < AFD_COLL_OP_COUNT ? op_names[op] : NULL;
}

const char *
afd_collective_algo_name (AfdCollectiveAlgo algo)
{
  return (int) algo >= 0 && algo < AFD_ALGO_COUNT ? algo_names[algo] : NULL;
}

const char *
afd_protocol_name (AfdProtocol proto)
{
  return (int) proto >= 0 && proto < AFD_PROTO_COUNT ? proto_names[proto] : NULL;
}

gboolean
afd_collective_op_from_name (const char *name, AfdCollectiveOp *out_op)
{
  for (int i = 0; name != NULL && i < AFD_COLL_OP_COUNT; i++)
    if (strcmp (name, op_names[i]) == 0 || strcmp (name, op_aliases[i]) == 0)
      {
        *out_op = (AfdCollectiveOp) i;
        return TRUE;
      }
  return FALSE;
}

gboolean
afd_collective_algo_from_name (const char *name, AfdCollectiveAlgo *out_algo)
{
  for (int i = 0; name != NULL && i < AFD_ALGO_COUNT; i++)
    if (strcmp (name, algo_names[i]) == 0)
      {
        *out_algo = (AfdCollectiveAlgo) i;
        return TRUE;
      }
  return FALSE;
}

gboolean
afd_protocol_from_name (const char *name, AfdProtocol *out_proto)
{
  for (int i = 0; name != NULL && i < AFD_PROTO_COUNT; i++)
    if (strcmp (name, proto_names[i]) == 0)
      {
        *out_proto = (AfdProtocol) i;
        return TRUE;
      }
  return FALSE;
}

double
afd_collective_bus_factor (AfdCollectiveOp op, guint ranks)
{
  double n = ranks;
  switch (op)
    {
    case AFD_COLL_ALL_REDUCE:
      return 2.0 * (n - 1) / n;
    case AFD_COLL_ALL_GATHER:
    case AFD_COLL_REDUCE_SCATTER:
    case AFD_COLL_ALL_TO_ALL:
    case AFD_COLL_ALL_TO_ALL_V:
      return (n - 1) / n;
    default:
      return 1.0;
    }
}

void
afd_collective_params_init (AfdCollectiveParams *p)
{
  memset (p, 0, sizeof *p);
  /* NCCL tuning.cc (hardware.md §5.2), microseconds -> seconds; columns LL, LL128, Simple. */
  static const double base[3][3] = { { 6.8, 14.0, 8.4 }, { 6.6, 14.0, 8.4 }, { 0, 0, 0 } };
  static const double nvl[3][3] = { { 0.6, 1.25, 4.0 }, { 0.6, 1.9, 3.4 }, { 0, 0, 25.0 } };
  static const double net[3][3] = { { 5.0, 8.5, 14.0 }, { 2.7, 4.0, 14.0 }, { 0, 0, 18.0 } };
  static const AfdCollectiveAlgo rows[3] = { AFD_ALGO_TREE, AFD_ALGO_RING, AFD_ALGO_NVLS };
  for (int r = 0; r < 3; r++)
    for (int k = 0; k < 3; k++)
      {
        p->base_latency_s[rows[r]][AFD_PROTO_LL + k] = base[r][k] * 1e-6;
        p->intra_latency_s[rows[r]][AFD_PROTO_LL + k] = nvl[r][k] * 1e-6;
        p->inter_latency_s[rows[r]][AFD_PROTO_LL + k] = net[r][k] * 1e-6;
      }
  /* NVLSTree: base 0, NVLINK 25 µs, NET 20.9 µs (Simple only). */
  p->intra_latency_s[AFD_ALGO_NVLS_TREE][AFD_PROTO_SIMPLE] = 25.0e-6;
  p->inter_latency_s[AFD_ALGO_NVLS_TREE][AFD_PROTO_SIMPLE] = 20.9e-6;
  /* Channel and cap model: the tables for the GPU generation are filled when the collective
   * runs (afd_collective_params_resolve); the generation-independent constants here. */
  p->nccl_tables = TRUE;
  p->tree_protocol_factor[AFD_PROTO_LL] = 1.0 / 3.8;
  p->tree_protocol_factor[AFD_PROTO_LL128] = 120.0 / 128.0;
  p->tree_protocol_factor[AFD_PROTO_SIMPLE] = 1.0;
  p->tree_ll128_one_node_factor = 7.0 / 9.0;
  p->max_threads[AFD_PROTO_LL] = 512;    /* NCCL_LL_MAX_NTHREADS */
  p->max_threads[AFD_PROTO_LL128] = 640; /* NCCL_LL128_MAX_NTHREADS */
  p->max_threads[AFD_PROTO_SIMPLE] = 512; /* NCCL_SIMPLE_MAX_NTHREADS */
  p->thread_threshold_bytes[AFD_PROTO_LL] = 8;     /* NCCL_LL_THREAD_THRESHOLD */
  p->thread_threshold_bytes[AFD_PROTO_LL128] = 8;  /* NCCL_LL128_THREAD_THRESHOLD */
  p->thread_threshold_bytes[AFD_PROTO_SIMPLE] = 64; /* NCCL_SIMPLE_THREAD_THRESHOLD */
  p->net_overhead_s = 1e-6; /* getNetOverhead(): x86 Intel host */
  p->ring_plateau_factor = 1.4;
  p->tree_correction = TRUE;
  p->ll128_across_nodes = TRUE;
  p->nvls_tree_pipeline_stages = 2; /* [EST] in/out of the NVLS buffers */
  p->nvls_tree_stages_per_level = 2; /* a chunk hops up and back down each tree level */
  p->nvls_pipeline_stages = 3;      /* all_reduce.h NVLS: scatter, reduce, gather warps */
  p->nvls_chunk_bytes = 131072;     /* NCCL_NVLS_CHUNKSIZE default */
  p->nvls_tree_auto = TRUE;
  p->tree_stages_per_level = 2;
  /* stepSize = buffSizes[proto] / NCCL_STEPS (8): LL128 600 KiB of 128 B lines carrying
   * 120 B, Simple 4 MiB / 8 (tree: chunkSteps 1). LL (64 KiB steps of 16 B lines carrying
   * 8 B) gets no fill: LL is picked up to ~128 KiB, where a message is one step per channel
   * and NCCL's per-hop LL latencies, fitted on such messages, already hold its forwarding. */
  p->tree_chunk_bytes[AFD_PROTO_LL] = 0;
  p->tree_chunk_bytes[AFD_PROTO_LL128] = 576000;
  p->tree_chunk_bytes[AFD_PROTO_SIMPLE] = 524288;
  /* LL: 4 B of data per 8 B line; LL128: 120 of 128 B (NCCL models 0.92); Simple: all. */
  p->protocol_factor[AFD_PROTO_LL] = 0.5;
  p->protocol_factor[AFD_PROTO_LL128] = 0.92;
  p->protocol_factor[AFD_PROTO_SIMPLE] = 1.0;
  /* 0: from the GPU spec (A100 0.77, H100 0.82, B200 0.76: hardware.md §1.3). */
  p->scale_up_efficiency = 0;
  /* HDR: ~24 of 25 GB/s achievable (hardware.md §1.2, nccl#412); NDR 48-49 of 50. */
  p->scale_out_efficiency = 0.96;
  p->tree_efficiency = 0.92;
  /* 0: from the GPU spec (H100 NVLS busbw 480 = algbw 274 of 450 GB/s: 0.61). */
  p->nvls_efficiency = 0;
  p->p2p_latency_s = 8.4e-6;
  p->peer_latency_s = 0.5e-6;
  p->chain_chunk_bytes = 128 << 10; /* NCCL network P2P chunk (hardware.md §5.2) */
  p->channels = 0;
}

void
afd_collective_params_resolve (const AfdCollectiveParams *params, const AfdCluster *cluster,
                               AfdCollectiveParams *out)
{
  if (params != NULL)
    *out = *params;
  else
    afd_collective_params_init (out);
  const AfdGpuSpec *gpu = afd_cluster_gpu_spec (cluster);
  if (!(out->scale_up_efficiency > 0))
    out->scale_up_efficiency = gpu->nvlink_efficiency > 0 ? gpu->nvlink_efficiency : 0.77;
  if (!(out->nvls_efficiency > 0))
    out->nvls_efficiency = gpu->nvls_efficiency > 0 ? gpu->nvls_efficiency : 0.61;
  if (!out->nccl_tables)
    return;
  /* NCCL's tables (tuning.cc, hardware.md §5.2), GB/s, columns N1 / N2 / N4+, rows Ampere,
   * Hopper, Blackwell. The generation comes from the datatypes the GPU has: FP4 tensor cores
   * from SM100 (Blackwell), FP8 from SM90 (Hopper), otherwise Ampere. LL on several nodes
   * uses the host CPU's row (index1 = 0: Intel, the DGX hosts): 39 / 20.4. */
  static const double ll_max[3][3] = { { 87.7, 39.0, 20.4 }, { 141.0, 39.0, 20.4 },
                                       { 282.0, 39.0, 20.4 } };
  static const double ring_ll128[3][3] = { { 20, 20, 20 }, { 36.7, 36.7, 36.7 },
                                           { 40, 40, 40 } };
  static const double tree[3][3] = { { 24.0, 23.6, 17.8 }, { 38.7, 41.4, 36.0 },
                                     { 70.0, 42.8, 24.0 } };
  static const double tree_ll128[3][3] = { { 20, 20, 20 }, { 36.7, 36.7, 29.0 },
                                           { 55.6, 31.67, 20.0 } };
  static const double nvls_tree[3][3] = { { 0, 0, 0 }, { 0, 57.7, 45.5 }, { 0, 96.0, 80.0 } };
  /* comm->nChannels: the ring graph's channels doubled by ncclTopoPostset (A100 NVSwitch
   * 12 -> 24; Hopper and Blackwell 16 -> 32); NVLS: NVLS_NCHANNELS_SM90 = 16 (SM100: 24). */
  static const guint channels[3] = { 24, 32, 32 }, nvls_channels[3] = { 0, 16, 24 };
  /* Bus bandwidth of one channel, GB/s, LL / LL128 / Simple: measured on Hopper only (ring
   * all-reduce with NCCL_MIN/MAX_NCHANNELS = 1 on 2 × H200, NCCL 2.28.3, slope from 256 KiB to
   * 1 MiB: the sizes at which NCCL runs fewer channels than it has, where alone the rate is
   * used. LL is the same per channel at 2 and 4 channels within 1 %, LL128 and Simple within
   * 2 % at 2 and 14-16 % lower at 4: tools/nccl-probe-sweep.sh, collectives.md). Ampere and
   * Blackwell keep NCCL's c/C split (0) until measured. */
  static const double channel_rate[3][3] = { { 0, 0, 0 }, { 7.2, 17.6, 21.6 }, { 0, 0, 0 } };
  int gen = gpu->peak_flop_per_s[AFD_DTYPE_FP4] > 0 ? 2
            : gpu->peak_flop_per_s[AFD_DTYPE_FP8] > 0 ? 1 : 0;
  for (int k = 0; k < 3; k++)
    {
      if (out->nccl_channels[k] == 0)
        out->nccl_channels[k] = channels[gen];
      if (!(out->ll_max_bandwidth_bytes_per_s[k] > 0))
        out->ll_max_bandwidth_bytes_per_s[k] = ll_max[gen][k] * 1e9;
      if (!(out->ring_ll128_channel_bytes_per_s[k] > 0))
        out->ring_ll128_channel_bytes_per_s[k] = ring_ll128[gen][k] * 1e9;
      if (!(out->tree_channel_bytes_per_s[k] > 0))
        out->tree_channel_bytes_per_s[k] = tree[gen][k] * 1e9;
      if (!(out->tree_ll128_channel_bytes_per_s[k] > 0))
        out->tree_ll128_channel_bytes_per_s[k] = tree_ll128[gen][k] * 1e9;
      if (!(out->nvls_tree_channel_bytes_per_s[k] > 0))
        out->nvls_tree_channel_bytes_per_s[k] = nvls_tree[gen][k] * 1e9;
    }
  if (out->nvls_channels == 0)
    out->nvls_channels = nvls_channels[gen];
  for (int proto = AFD_PROTO_LL; proto <= AFD_PROTO_SIMPLE; proto++)
    if (!(out->channel_rate_bytes_per_s[proto] > 0))
      out->channel_rate_bytes_per_s[proto] = channel_rate[gen][proto - AFD_PROTO_LL] * 1e9;
}

void
afd_collective_params_for_group (AfdCollectiveParams *p, const AfdCollectiveParams *user,
                                 const AfdCluster *cluster, const AfdGroupInfo *g)
{
  if (user != NULL && user->scale_up_efficiency > 0)
    return;
  double e = afd_gpu_spec_nvlink_efficiency (afd_cluster_gpu_spec (cluster), g->ppn);
  if (e > 0)
    p->scale_up_efficiency = e;
}

void
afd_collective_params_ideal (AfdCollectiveParams *p)
{
  memset (p, 0, sizeof *p);
  for (int k = 0; k < AFD_PROTO_COUNT; k++)
    p->protocol_factor[k] = 1.0;
  p->scale_up_efficiency = p->scale_out_efficiency = 1.0;
  p->tree_efficiency = p->nvls_efficiency = 1.0;
  p->chain_chunk_bytes = 128 << 10;
}

void
afd_group_info_clear (AfdGroupInfo *info)
{
  g_clear_pointer (&info->node_of, g_free);
  g_clear_pointer (&info->order, g_free);
  g_clear_pointer (&info->node_start, g_free);
}

gboolean
afd_group_info_init (AfdGroupInfo *info, AfdNetwork *network, const AfdCollective *coll,
                     GError **error)
{
  const AfdCluster *c = afd_network_cluster (network);
  guint ngpu = afd_cluster_gpu_count (c), n = coll->group_size;
  const char *opname = afd_collective_op_name (coll->op);
  memset (info, 0, sizeof *info);
  if (opname == NULL)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "collective: invalid operation %d",
                   (int) coll->op);
      return FALSE;
    }
  if (n < 2 || coll->group == NULL)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "%s: the group needs at least 2 GPUs",
                   opname);
      return FALSE;
    }
  if (coll->op == AFD_COLL_SEND_RECV && n != 2)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                   "send-recv: the group must be exactly 2 GPUs (sender, receiver), got %u", n);
      return FALSE;
    }
  if (coll->op == AFD_COLL_ALL_TO_ALL_V)
    {
      if (coll->matrix_bytes == NULL)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "all-to-all-v: no byte matrix");
          return FALSE;
        }
      for (guint i = 0; i < n * n; i++)
        if (!(coll->matrix_bytes[i] >= 0) || !isfinite (coll->matrix_bytes[i]))
          {
            g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                         "all-to-all-v: bytes from rank %u to rank %u must be finite and >= 0",
                         i / n, i % n);
            return FALSE;
          }
    }
  else if (!(coll->bytes >= 0) || !isfinite (coll->bytes))
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "%s: bytes must be finite and >= 0",
                   opname);
      return FALSE;
    }
  g_autofree guint *seen = g_new0 (guint, ngpu);
  g_autofree guint *node_map = g_new (guint, afd_cluster_node_count (c));
  memset (node_map, 0xff, sizeof (guint) * afd_cluster_node_count (c));
  info->n = n;
  info->node_of = g_new (guint, n);
  for (guint i = 0; i < n; i++)
    {
      guint g = coll->group[i];
      if (g >= ngpu)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                       "%s: GPU %u is out of range (cluster %s has %u GPUs)", opname, g,
                       afd_cluster_name (c), ngpu);
          afd_group_info_clear (info);
          return FALSE;
        }
      if (seen[g]++)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG, "%s: GPU %u appears twice in the group",
                       opname, g);
          afd_group_info_clear (info);
          return FALSE;
        }
      guint node = afd_cluster_gpu_node (c, g);
      if (node_map[node] == G_MAXUINT)
        node_map[node] = info->nodes++;
      info->node_of[i] = node_map[node];
    }
  /* Counting sort of positions by compact node: the ring order. */
  info->node_start = g_new0 (guint, info->nodes + 1);
  for (guint i = 0; i < n; i++)
    info->node_start[info->node_of[i] + 1]++;
  info->ppn = 0;
  info->ppn_min = G_MAXUINT;
  for (guint k = 0; k < info->nodes; k++)
    {
      guint cnt = info->node_start[k + 1];
      info->ppn = MAX (info->ppn, cnt);
      info->ppn_min = MIN (info->ppn_min, cnt);
      info->node_start[k + 1] += info->node_start[k];
    }
  info->order = g_new (guint, n);
  g_autofree guint *fill = g_memdup2 (info->node_start, sizeof (guint) * info->nodes);
  for (guint i = 0; i < n; i++)
    info->order[fill[info->node_of[i]]++] = i;
  /* Bandwidths and latencies from routes inside nodes (each new destination builds a routing
   * column, O(V + E), cached by the network). Shipped and generated clusters are uniform per
   * node, so the first two members of up to 16 evenly spaced nodes stand for all; a fault's
   * copy (links scaled or removed) is not, so there every ordered pair of members of every
   * node is read and the slowest route decides (a degraded NVLink of any member slows the
   * collective, as it does in flow mode). */
  gboolean every_pair = afd_cluster_links_scaled (c);
  guint stride = every_pair ? 1u : MAX (1u, info->nodes / 16);
  for (guint k = 0; k < info->nodes && info->ppn > 1; k += stride)
    {
      guint lo = info->node_start[k], hi = info->node_start[k + 1];
      guint i_end = every_pair ? hi : MIN (hi, lo + 1);
      for (guint i = lo; i < i_end; i++)
        for (guint j = every_pair ? lo : lo + 1; j < hi && (every_pair || j == lo + 1); j++)
          {
            if (i == j)
              continue;
            double bw, lat;
            afd_network_path (network, coll->group[info->order[i]],
                              coll->group[info->order[j]], &bw, &lat);
            if (info->intra_bw == 0 || bw < info->intra_bw)
              info->intra_bw = bw;
            info->intra_lat_s = MAX (info->intra_lat_s, lat);
          }
    }
  if (info->nodes > 1)
    {
      afd_network_path (network, coll->group[info->order[0]],
                        coll->group[info->order[info->node_start[1]]], NULL, &info->inter_lat_s);
      info->nic_bw = G_MAXDOUBLE;
      info->node_out_bw = G_MAXDOUBLE;
      info->nics_min = G_MAXUINT;
      g_autoptr (GHashTable) nics = g_hash_table_new (NULL, NULL);
      for (guint k = 0; k < info->nodes; k++)
        {
          double sum = 0;
          g_hash_table_remove_all (nics);
          for (guint j = info->node_start[k]; j < info->node_start[k + 1]; j++)
            {
              guint nic;
              double bw = afd_cluster_gpu_nic_bandwidth (c, coll->group[info->order[j]], &nic);
              if (nic == G_MAXUINT)
                continue;
              info->nic_bw = MIN (info->nic_bw, bw);
              if (g_hash_table_add (nics, GUINT_TO_POINTER (nic + 1)))
                sum += bw;
            }
          info->node_out_bw = MIN (info->node_out_bw, sum);
          info->nics_min = MIN (info->nics_min, g_hash_table_size (nics));
        }
      if (info->nics_min == 0)
        {
          g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                       "%s: the group spans nodes but some node has no NIC (cluster %s)", opname,
                       afd_cluster_name (c));
          afd_group_info_clear (info);
          return FALSE;
        }
    }
  return TRUE;
}

/* ⌈log2 x⌉ for x >= 1. */
static double
ceil_log2 (guint x)
{
  return x <= 1 ? 0.0 : ceil (log2 ((double) x));
}

/* Per-GPU network bandwidth (payload) of a group member: its NIC, or its share of a NIC. */
static double
gpu_out_bw (const AfdGroupInfo *g, const AfdCollectiveParams *p)
{
  return MIN (g->nic_bw, g->node_out_bw / g->ppn) * p->scale_out_efficiency;
}

/* Ring bus bandwidth (payload bytes/s) before the protocol factor. */
static double
ring_bw (const AfdGroupInfo *g, const AfdCollectiveParams *p)
{
  double up = g->ppn > 1 ? g->intra_bw * p->scale_up_efficiency : G_MAXDOUBLE;
  if (g->nodes == 1)
    return up;
  return MIN (up, g->node_out_bw * p->scale_out_efficiency);
}

/* NCCL's per-step NVLink latency of a ring: across nodes at least the network post overhead
 * (× 3 for Simple; tuning.cc, getNetOverhead). */
static double
ring_intra_latency (const AfdGroupInfo *g, const AfdCollectiveParams *p, AfdCollectiveAlgo row,
                    AfdProtocol proto)
{
  double lat = p->intra_latency_s[row][proto];
  if (g->nodes > 1 && row == AFD_ALGO_RING)
    lat = MAX (lat, p->net_overhead_s * (proto == AFD_PROTO_SIMPLE ? 3 : 1));
  return lat;
}

/* Latency of @steps ring steps of which @inter cross the network. */
static double
ring_latency (const AfdGroupInfo *g, const AfdCollectiveParams *p, AfdCollectiveAlgo row,
              AfdProtocol proto, double steps, double inter)
{
  double a_intra = ring_intra_latency (g, p, row, proto) + g->intra_lat_s;
  double a_inter = p->inter_latency_s[row][proto] + g->inter_lat_s;
  return p->base_latency_s[row][proto] + (steps - inter) * a_intra + inter * a_inter;
}

/* NCCL's node class of a group: 0 one node, 1 two nodes, 2 more (tuning.cc index2). */
static guint
node_class (const AfdGroupInfo *g)
{
  return g->nodes <= 1 ? 0 : g->nodes == 2 ? 1 : 2;
}

/* @x capped at @cap bytes/s; a cap <= 0 is none. */
static double
capped (double x, double cap)
{
  return cap > 0 && cap < x ? cap : x;
}

/* NCCL's treeCorrectionFactor[proto][log2(bytes / 64 B)] (tuning.cc; powers of two from 64 B
 * to 128 MiB; 1 beyond). */
static double
tree_correction (const AfdCollectiveParams *p, AfdProtocol proto, double bytes)
{
  static const double table[3][22] = {
    { 1.0, 1.0, 1.0, 1.0, .9, .8, .7, .7, .7, .7, .6, .5, .4, .4, .5, .6, .7, .8, .9, 1.0, 1.0,
      1.0 },
    { 1.0, 1.0, 1.0, 1.0, 1.0, .9, .8, .8, .8, .7, .6, .6, .6, .5, .6, .6, .7, .7, .8, .9, .9,
      1.0 },
    { .9, .9, .9, .9, .9, .9, .9, .8, .7, .6, .6, .5, .5, .5, .5, .5, .5, .6, .6, .7, .8, .9 },
  };
  if (!p->tree_correction || proto == AFD_PROTO_AUTO)
    return 1.0;
  int log_size = bytes >= 128 ? (int) floor (log2 (bytes / 64)) : 0;
  return log_size < 22 ? table[proto - AFD_PROTO_LL][log_size] : 1.0;
}

/* Channels NCCL runs a ring or tree collective of @bytes on (enqueue.cc topoGetAlgoInfo: one
 * channel fewer while bytes < channels × threads × threshold), as a fraction of all. */
static double
channel_fraction (const AfdGroupInfo *g, const AfdCollectiveParams *p, AfdCollectiveAlgo algo,
                  AfdProtocol proto, double bytes)
{
  guint all = p->nccl_channels[node_class (g)];
  double per = (double) p->max_threads[proto] * p->thread_threshold_bytes[proto];
  if (all == 0 || !(per > 0))
    return 1.0;
  if (algo == AFD_ALGO_RING && proto == AFD_PROTO_LL)
    per *= g->n;
  double nc = CLAMP (floor (bytes / per), 1.0, (double) all);
  return nc / all;
}

/* Bus bandwidth of @full (B/s, all C channels) when @channels of them run: the measured
 * per-channel rate bounds it where known (a channel is one SM per GPU, and a few SMs fill
 * far more than their c/C share of the links), NCCL's linear split c/C otherwise. */
static double
channels_bw (const AfdGroupInfo *g, const AfdCollectiveParams *p, AfdProtocol proto,
             double full, double channels)
{
  double all = p->nccl_channels[node_class (g)], rate = p->channel_rate_bytes_per_s[proto];
  if (!(all > 0) || channels >= all)
    return full;
  return rate > 0 ? MIN (full, channels * rate) : full * channels / all;
}

/* NCCL's tree chunk (payload bytes per channel) for @bytes on @channels channels (enqueue.cc
 * calcCollChunking): LL128 halves from 576000 B while bytes / (channels × chunk) < s·64/ppn
 * (chunk > 128 KiB), then while < s·16/ppn (chunk > 32 KiB), s = 1 + ⌊log2 N⌋ + ppn/10;
 * LL and Simple keep their step size. */
static double
tree_chunk (const AfdGroupInfo *g, const AfdCollectiveParams *p, AfdProtocol proto,
            double bytes, double channels)
{
  double chunk = p->tree_chunk_bytes[proto];
  if (proto != AFD_PROTO_LL128 || !(chunk > 0))
    return chunk;
  double ppn = (double) g->n / g->nodes;
  double steps = 1 + floor (log2 ((double) g->nodes)) + 0.1 * ppn;
  /* NCCL divides integers: ⌊bytes / (channels·chunk)⌋ */
  while (floor (bytes / (channels * chunk)) < steps * 64 / ppn && chunk > 131072)
    chunk = floor (chunk / 2);
  while (floor (bytes / (channels * chunk)) < steps * 16 / ppn && chunk > 32768)
    chunk = floor (chunk / 2);
  return chunk;
}

/* Per-rank intra/inter send and receive volumes of an all-to-all(-v), as maxima. */
static void
a2a_volumes (const AfdGroupInfo *g, const AfdCollective *coll, double *out_intra,
             double *out_inter, double *out_node)
{
  guint n = g->n;
  double intra = 0, inter = 0, node = 0;
  if (coll->op != AFD_COLL_ALL_TO_ALL_V)
    {
      double per_peer = coll->bytes / n;
      intra = (g->ppn - 1) * per_peer;
      inter = (n - g->ppn_min) * per_peer;
      node = g->ppn * inter;
    }
  else
    {
      g_autofree double *node_out = g_new0 (double, g->nodes);
      g_autofree double *node_in = g_new0 (double, g->nodes);
      for (guint i = 0; i < n; i++)
        {
          double si = 0, so = 0, ri = 0, ro = 0;
          for (guint j = 0; j < n; j++)
            {
              if (i == j)
                continue;
              gboolean same = g->node_of[i] == g->node_of[j];
              double sij = coll->matrix_bytes[i * n + j], rji = coll->matrix_bytes[j * n + i];
              if (same)
                {
                  si += sij;
                  ri += rji;
                }
              else
                {
                  so += sij;
                  ro += rji;
                }
            }
          intra = MAX (intra, MAX (si, ri));
          inter = MAX (inter, MAX (so, ro));
          node_out[g->node_of[i]] += so;
          node_in[g->node_of[i]] += ro;
        }
      for (guint k = 0; k < g->nodes; k++)
        node = MAX (node, MAX (node_out[k], node_in[k]));
    }
  *out_intra = intra;
  *out_inter = inter;
  *out_node = node;
}

/* The modelled time of one (algo, proto); FALSE when the pair does not apply. */
static gboolean
model_time (AfdNetwork *network, const AfdGroupInfo *g, const AfdCollective *coll,
            const AfdCollectiveParams *p, AfdCollectiveAlgo algo, AfdProtocol proto,
            double *out_lat, double *out_bw, double *out_time, double *out_select_time,
            double *out_cap)
{
  double n = g->n, N = g->nodes, S = coll->bytes, f = p->protocol_factor[proto];
  double lat = 0, bw = 0, t = 0, t_sel = -1, sel_bw = 0, plain_bw = 0;
  AfdCollectiveOp op = coll->op;
  gboolean multi = g->nodes > 1;
  if (proto == AFD_PROTO_LL128 && multi && !p->ll128_across_nodes)
    return FALSE; /* LL128 only on NVLink (and PXB NIC) paths (hardware.md §5.2) */
  switch (algo)
    {
    case AFD_ALGO_RING:
      {
        double steps, inter, volume;
        if (op == AFD_COLL_ALL_REDUCE)
          steps = 2 * (n - 1), inter = 2 * (N - 1), volume = 2 * (n - 1) / n * S;
        else if (op == AFD_COLL_ALL_GATHER || op == AFD_COLL_REDUCE_SCATTER)
          steps = n - 1, inter = N - 1, volume = (n - 1) / n * S;
        else if (op == AFD_COLL_BROADCAST || op == AFD_COLL_REDUCE)
          steps = n - 1, inter = N - 1, volume = S;
        else
          return FALSE;
        guint k = node_class (g);
        plain_bw = ring_bw (g, p) * f;
        double cf = channel_fraction (g, p, algo, proto, S);
        for (int pass = 0; pass < 2; pass++)
          {
            /* pass 0: NCCL's model at all channels (selection); pass 1: the channels run */
            double nc = p->nccl_channels[k] * (pass ? cf : 1.0);
            bw = pass ? channels_bw (g, p, proto, plain_bw, nc) : plain_bw;
            if (proto == AFD_PROTO_LL)
              bw = capped (bw, p->ll_max_bandwidth_bytes_per_s[k]);
            else if (proto == AFD_PROTO_LL128)
              bw = capped (bw, nc * p->ring_ll128_channel_bytes_per_s[k]);
            if (pass == 0)
              sel_bw = bw;
          }
        lat = ring_latency (g, p, AFD_ALGO_RING, proto, steps, inter);
        if (op == AFD_COLL_ALL_REDUCE && multi && proto == AFD_PROTO_SIMPLE
            && p->ring_plateau_factor > 0 && p->nccl_channels[k] > 0
            && S / ((double) p->nccl_channels[k] * n) >= 64)
          lat *= p->ring_plateau_factor; /* NCCL's ring "plateau effect" */
        t = lat + volume / bw;
        t_sel = lat + volume / sel_bw;
        break;
      }
    case AFD_ALGO_TREE:
      if (op != AFD_COLL_ALL_REDUCE)
        return FALSE;
      {
        guint k = node_class (g);
        double ft = p->tree_protocol_factor[proto] > 0 ? p->tree_protocol_factor[proto] : f;
        if (proto == AFD_PROTO_LL128 && !multi && p->tree_ll128_one_node_factor > 0)
          ft = p->tree_ll128_one_node_factor;
        double cf = channel_fraction (g, p, algo, proto, S);
        for (int pass = 0; pass < 2; pass++)
          {
            double nc = p->nccl_channels[k] * (pass ? cf : 1.0);
            /* the per-channel rate is a protocol's delivered rate: compare it before ft */
            double full = ring_bw (g, p) * p->tree_efficiency;
            double run = pass ? (p->channel_rate_bytes_per_s[proto] > 0
                                     ? channels_bw (g, p, proto, full * ft, nc) / ft
                                     : channels_bw (g, p, proto, full, nc))
                              : full;
            bw = capped (run, nc * p->tree_channel_bytes_per_s[k]) * ft;
            if (proto == AFD_PROTO_LL)
              bw = capped (bw, p->ll_max_bandwidth_bytes_per_s[k]);
            else if (proto == AFD_PROTO_LL128)
              bw = capped (bw, nc * p->tree_ll128_channel_bytes_per_s[k]);
            bw *= tree_correction (p, proto, S);
            if (pass == 0)
              sel_bw = bw;
          }
        plain_bw = ring_bw (g, p) * p->tree_efficiency * f;
      }
      lat = p->base_latency_s[AFD_ALGO_TREE][proto]
            + 2 * ((g->ppn - 1) * (p->intra_latency_s[AFD_ALGO_TREE][proto] + g->intra_lat_s)
                   + ceil_log2 (g->nodes)
                         * (p->inter_latency_s[AFD_ALGO_TREE][proto] + g->inter_lat_s));
      t = lat + 2 * S / bw;
      t_sel = lat + 2 * S / sel_bw;
      if (multi && p->tree_stages_per_level > 0 && p->nccl_channels[node_class (g)] > 0
          && p->tree_chunk_bytes[proto] > 0)
        {
          /* Pipeline fill across nodes: a round of one chunk per channel passes
           * tree_stages_per_level·⌈log2 N⌉ network hops, each forwarded only once it has
           * arrived, before the tree streams at its rate; NCCL's tuner does not model it, so
           * t_sel keeps NCCL's time. */
          double c = p->nccl_channels[node_class (g)] * channel_fraction (g, p, algo, proto, S);
          double round = c * tree_chunk (g, p, proto, S, c);
          double stages = (double) p->tree_stages_per_level * ceil_log2 (g->nodes);
          t += (stages - 1) * 2 * MIN (S, round) / bw;
        }
      break;
    case AFD_ALGO_NVLS:
      if (op != AFD_COLL_ALL_REDUCE || multi || proto != AFD_PROTO_SIMPLE
          || !afd_cluster_nvls (afd_network_cluster (network)))
        return FALSE;
      bw = g->intra_bw * p->nvls_efficiency;
      lat = p->base_latency_s[AFD_ALGO_NVLS][proto] + p->intra_latency_s[AFD_ALGO_NVLS][proto]
            + g->intra_lat_s;
      t = lat + S / bw;
      if (p->nvls_pipeline_stages > 1 && p->nvls_channels > 0 && p->nvls_chunk_bytes > 0)
        {
          /* enqueue.cc calcCollChunking (NVLS): chunk = nvlsChunkSize, halved to 64 / 32 /
           * 16 KiB while S < 64 / 8 / 2 × concurrentOps × chunk, concurrentOps = nvls
           * channels × nHeads (ranks); one loop of concurrentOps × chunk goes through the
           * kernel's stages (scatter, reduce+multicast, gather) before the rate is reached. */
          double ops = (double) p->nvls_channels * g->ppn, chunk = p->nvls_chunk_bytes;
          if (S < 64 * ops * chunk && chunk > 65536)
            chunk = 65536;
          if (S < 8 * ops * chunk && chunk > 32768)
            chunk = 32768;
          if (S < 2 * ops * chunk && chunk > 16384)
            chunk = 16384;
          t += (p->nvls_pipeline_stages - 1) * MIN (S, ops * chunk) / bw;
        }
      break;
    case AFD_ALGO_NVLS_TREE:
      {
        /* NVLS reduce-scatter and all-gather inside each node (the NVLS algbw), a tree of
         * nodes between them on each GPU's 1/ppn share: on 2 nodes every NIC carries the
         * node's S in each direction, on more the tree halves it (tuning.cc: interBw × 2 when
         * nNodes <= 2); per-channel cap on the bus bandwidth. */
        if (op != AFD_COLL_ALL_REDUCE || !multi || g->ppn < 2 || proto != AFD_PROTO_SIMPLE
            || !afd_cluster_nvls (afd_network_cluster (network)))
          return FALSE;
        guint k = node_class (g);
        double intra = g->intra_bw * p->nvls_efficiency;
        double inter = g->node_out_bw * p->scale_out_efficiency * (g->nodes <= 2 ? 1.0 : 0.5);
        bw = MIN (intra, inter);
        bw = capped (bw, p->nvls_channels * p->nvls_tree_channel_bytes_per_s[k] * n
                             / (2 * (n - 1)));
        lat = p->base_latency_s[AFD_ALGO_NVLS_TREE][proto]
              + p->intra_latency_s[AFD_ALGO_NVLS_TREE][proto] + g->intra_lat_s
              + 2 * ceil_log2 (g->nodes)
                    * (p->inter_latency_s[AFD_ALGO_NVLS_TREE][proto] + g->inter_lat_s);
        t = lat + S / bw;
        if (p->nvls_tree_pipeline_stages > 1 && p->nvls_channels > 0)
          {
            /* enqueue.cc calcCollChunking: 128 KiB chunks (64 KiB from 4 nodes), smaller for
             * small buffers; one round = nvls channels × heads (ppn) × chunk fills the
             * pipeline of stages before the wire rate is reached. */
            double ops = (double) p->nvls_channels * g->ppn;
            double chunk = g->nodes >= 4 ? 65536 : 131072;
            if (S < 4 * ops * chunk && chunk > 65536)
              chunk = 65536;
            if (S < ops * chunk && chunk > 32768)
              chunk = 32768;
            /* stages: in/out of the node plus one hop up and one down per tree level
             * (⌈log2 N⌉ levels: the proxy forwards a chunk only once it has arrived). */
            double stages = p->nvls_tree_pipeline_stages
                            + (double) p->nvls_tree_stages_per_level * ceil_log2 (g->nodes);
            t += (stages - 1) * MIN (S, ops * chunk) / bw;
          }
        break;
      }
    case AFD_ALGO_HIERARCHICAL:
      {
        if (op != AFD_COLL_ALL_REDUCE || !multi || g->ppn < 2)
          return FALSE;
        double ppn = g->ppn, up = g->intra_bw * p->scale_up_efficiency * f;
        double out = gpu_out_bw (g, p) * f;
        lat = ring_latency (g, p, AFD_ALGO_RING, proto, 2 * (ppn - 1) + 2 * (N - 1),
                            2 * (N - 1));
        double t_up = 2 * (ppn - 1) / ppn * S / up, t_out = 2 * (N - 1) / N * (S / ppn) / out;
        t = lat + t_up + t_out;
        bw = 2 * (n - 1) / n * S / (t_up + t_out);
        break;
      }
    case AFD_ALGO_DIRECT:
    case AFD_ALGO_TWO_STAGE:
      {
        if (op == AFD_COLL_SEND_RECV)
          {
            if (algo != AFD_ALGO_DIRECT)
              return FALSE;
            double path_bw, path_lat;
            gboolean out = afd_network_path (network, coll->group[0], coll->group[1], &path_bw,
                                             &path_lat);
            bw = path_bw * (out ? p->scale_out_efficiency : p->scale_up_efficiency) * f;
            lat = p->p2p_latency_s + path_lat;
            t = lat + S / bw;
            break;
          }
        if (op != AFD_COLL_ALL_TO_ALL && op != AFD_COLL_ALL_TO_ALL_V)
          return FALSE;
        if (proto == AFD_PROTO_LL128)
          return FALSE;
        if (algo == AFD_ALGO_TWO_STAGE && (!multi || coll->op == AFD_COLL_ALL_TO_ALL_V))
          return FALSE; /* TODO(#3): two-stage all-to-all-v in the analytic model */
        double intra, inter, node;
        a2a_volumes (g, coll, &intra, &inter, &node);
        double up = g->ppn > 1 ? g->intra_bw * p->scale_up_efficiency * f : G_MAXDOUBLE;
        double t_out = 0, t_up = intra / up;
        if (multi)
          t_out = MAX (inter / (gpu_out_bw (g, p) * f),
                       node / (g->node_out_bw * p->scale_out_efficiency * f));
        double peers = n - 1;
        if (algo == AFD_ALGO_TWO_STAGE)
          {
            /* Received inter-node data is forwarded over NVLink to the other local GPUs. */
            t_up = (intra + inter * (g->ppn - 1) / g->ppn) / up;
            peers = (N - 1) + (g->ppn - 1);
          }
        lat = p->p2p_latency_s + peers * p->peer_latency_s
              + (multi ? g->inter_lat_s : g->intra_lat_s)
              + (algo == AFD_ALGO_TWO_STAGE ? g->intra_lat_s : 0);
        double tb = MAX (t_out, t_up);
        t = lat + tb;
        bw = tb > 0 ? (intra + inter) / tb : 0;
        break;
      }
    default:
      return FALSE;
    }
  *out_lat = lat;
  *out_bw = bw;
  *out_time = t;
  /* NCCL selects on its model at full channels; the time spent uses the channels it runs. */
  *out_select_time = t_sel >= 0 ? t_sel : t;
  *out_cap = sel_bw > 0 && plain_bw > 0 ? bw / plain_bw : 1.0;
  return TRUE;
}

gboolean
afd_collective_tune (AfdNetwork *network, const AfdGroupInfo *g, const AfdCollective *coll,
                     const AfdCollectiveParams *p, AfdCollectiveChoice *out_choice,
                     double *out_seconds, GError **error)
{
  static const AfdCollectiveAlgo auto_algos[AFD_COLL_OP_COUNT][4] = {
    [AFD_COLL_ALL_REDUCE] = { AFD_ALGO_RING, AFD_ALGO_TREE, AFD_ALGO_NVLS, AFD_ALGO_NVLS_TREE },
    [AFD_COLL_ALL_GATHER] = { AFD_ALGO_RING },
    [AFD_COLL_REDUCE_SCATTER] = { AFD_ALGO_RING },
    [AFD_COLL_BROADCAST] = { AFD_ALGO_RING },
    [AFD_COLL_REDUCE] = { AFD_ALGO_RING },
    [AFD_COLL_ALL_TO_ALL] = { AFD_ALGO_DIRECT },
    [AFD_COLL_ALL_TO_ALL_V] = { AFD_ALGO_DIRECT },
    [AFD_COLL_SEND_RECV] = { AFD_ALGO_DIRECT },
  };
  AfdCollectiveAlgo algos[AFD_ALGO_COUNT];
  guint n_algos = 0;
  if (coll->algo == AFD_ALGO_AUTO)
    {
      for (guint i = 0; i < 4 && auto_algos[coll->op][i] != AFD_ALGO_AUTO; i++)
        if (auto_algos[coll->op][i] != AFD_ALGO_NVLS_TREE || p->nvls_tree_auto)
          algos[n_algos++] = auto_algos[coll->op][i];
    }
  else
    algos[n_algos++] = coll->algo;
  gboolean found = FALSE;
  AfdCollectiveChoice best = { 0 };
  double best_sel = G_MAXDOUBLE, best_t = 0;
  for (guint a = 0; a < n_algos; a++)
    for (int pr = AFD_PROTO_LL; pr < AFD_PROTO_COUNT; pr++)
      {
        if (coll->proto != AFD_PROTO_AUTO && coll->proto != (AfdProtocol) pr)
          continue;
        double lat, bw, t, sel, cap;
        if (!model_time (network, g, coll, p, algos[a], (AfdProtocol) pr, &lat, &bw, &t, &sel,
                         &cap))
          continue;
        if (sel < best_sel)
          {
            best_sel = sel;
            best_t = t;
            best.bandwidth_fraction = cap;
            best.algo = algos[a];
            best.proto = (AfdProtocol) pr;
            best.latency_s = lat;
            best.bus_bandwidth_bytes_per_s = bw;
            found = TRUE;
          }
      }
  if (!found)
    {
      g_set_error (error, AFD_ERROR, AFD_ERROR_CONFIG,
                   "%s: algorithm '%s' with protocol '%s' does not apply to this group (%u GPUs "
                   "on %u nodes%s)",
                   afd_collective_op_name (coll->op), afd_collective_algo_name (coll->algo),
                   afd_protocol_name (coll->proto), g->n, g->nodes,
                   afd_cluster_nvls (afd_network_cluster (network)) ? "" : ", no NVLS");
      return FALSE;
    }
  if (out_choice != NULL)
    *out_choice = best;
  *out_seconds = best_t;
  return TRUE;
}

gboolean
afd_collective_time_analytic (AfdNetwork *network, const AfdCollective *coll,
                              const AfdCollectiveParams *params, AfdCollectiveChoice *out_choice,
                              double *out_seconds, GError **error)
{
  g_return_val_if_fail (network != NULL && coll != NULL && out_seconds != NULL, FALSE);
  AfdCollectiveParams p;
  afd_collective_params_resolve (params, afd_network_cluster (network), &p);
  AfdGroupInfo g;
  if (!afd_group_info_init (&g, network, coll, error))
    return FALSE;
  afd_collective_params_for_group (&p, params, afd_network_cluster (network), &g);
  gboolean ok = afd_collective_tune (network, &g, coll, &p, out_choice, out_seconds, error);
  afd_group_info_clear (&g);
  return ok;
}
