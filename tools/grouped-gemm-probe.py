#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""grouped-gemm-probe.py - time grouped expert GEMMs as fused MoE kernels run them: one
grouped kernel over all local experts (torch._grouped_mm for bf16, torch._scaled_grouped_mm
for fp8 e4m3 with row-wise scales), for the expert shapes of shipped models, at a range of
tokens per expert, balanced and Zipf-skewed with the same total.

Not part of the build: it runs on a GPU machine with PyTorch. Output: one TSV row per case on
stdout (header first): shape, dtype, experts, n, k, tokens, dist, max_count, median_s,
min_s, flop, weight_bytes. Timing: 3 warm-up calls, then 7 repetitions of 20 back-to-back
calls between two CUDA events; the row's time is the median repetition / 20.
"""
import statistics, sys

import torch

# name: (local experts, N, K) - gate+up fused where the model has a gated FFN
SHAPES = [
    ("masep-4l-up", 16, 16384, 4096),        # GELU FFN: up 4096 -> 16384
    ("masep-4l-down", 16, 4096, 16384),
    ("dsv3-ep32-gateup", 8, 4096, 7168),     # 256 experts / 32 GPUs, 2 x 2048
    ("dsv3-ep32-down", 8, 7168, 2048),
    ("qwen3-235b-ep4-gateup", 32, 3072, 4096),   # 128 experts / 4 GPUs, 2 x 1536
    ("qwen3-235b-ep4-down", 32, 4096, 1536),
    ("mixtral-8x7b-gateup", 8, 28672, 4096),     # 8 experts on one GPU, 2 x 14336
]
TOKENS_PER_EXPERT = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]


def counts_for(E, per, dist):
    total = E * per
    if dist == "balanced":
        return [per] * E
    w = [1.0 / (i + 1) for i in range(E)]  # zipf:1
    s = sum(w)
    c = [int(total * x / s) for x in w]
    i = 0
    while sum(c) < total:
        c[i % E] += 1
        i += 1
    return c


def bench(fn):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    reps = []
    for _ in range(7):
        e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        e0.record()
        for _ in range(20):
            fn()
        e1.record()
        e1.synchronize()
        reps.append(e0.elapsed_time(e1) / 1e3 / 20)
    return statistics.median(reps), min(reps)


def main():
    dev = torch.device("cuda")
    print("shape\tdtype\texperts\tn\tk\ttokens\tdist\tmax_count\tmedian_s\tmin_s\tflop\tweight_bytes")
    for name, E, N, K in SHAPES:
        wb = (torch.rand(E, N, K, device=dev) * 0.02).to(torch.bfloat16)
        wf8 = None
        for dtype in ("bf16", "fp8"):
            if dtype == "fp8":
                try:
                    wf8 = (torch.rand(E, N, K, device=dev) * 2).to(torch.float8_e4m3fn)
                except Exception as e:  # noqa: BLE001
                    print(f"# fp8 unavailable: {e}", file=sys.stderr)
                    continue
            for per in TOKENS_PER_EXPERT:
                for dist in ("balanced", "zipf1"):
                    c = counts_for(E, per, dist)
                    T = sum(c)
                    offs = torch.tensor(c, device=dev).cumsum(0).to(torch.int32)
                    if dtype == "bf16":
                        a = (torch.rand(T, K, device=dev) * 0.02).to(torch.bfloat16)
                        fn = lambda: torch._grouped_mm(a, wb.transpose(-2, -1), offs=offs)
                        wbytes = E * N * K * 2
                    else:
                        a = (torch.rand(T, K, device=dev) * 2).to(torch.float8_e4m3fn)
                        sa = torch.ones(T, device=dev, dtype=torch.float32)
                        sb = torch.ones(E, N, device=dev, dtype=torch.float32)
                        fn = lambda: torch._scaled_grouped_mm(a, wf8.transpose(-2, -1), sa, sb,
                                                              offs=offs, out_dtype=torch.bfloat16)
                        wbytes = E * N * K
                    try:
                        med, mn = bench(fn)
                    except Exception as e:  # noqa: BLE001
                        print(f"# {name} {dtype} {per} {dist}: {e}", file=sys.stderr)
                        break
                    print(f"{name}\t{dtype}\t{E}\t{N}\t{K}\t{T}\t{dist}\t{max(c)}\t{med:.9g}\t{mn:.9g}"
                          f"\t{2 * T * N * K}\t{wbytes}", flush=True)


if __name__ == "__main__":
    main()
