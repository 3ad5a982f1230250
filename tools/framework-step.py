#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""framework-step.py - time one decode or prefill step of an afdsim model file on one GPU
with the kernels a serving framework runs (PyTorch: cuBLAS GEMMs, FlashAttention through
scaled_dot_product_attention, grouped expert GEMMs through torch._grouped_mm when the build
has it), as the real side that afdsim's cost models are compared with (docs/validation.md).

Not part of the build: it runs on a GPU machine that has PyTorch. It reads the model JSON
(models/llm/*.json) for the shape: MHA/GQA attention, MoE (routed experts, top-k, expert
intermediate size, shared experts) or dense FFN, vocabulary. Routing is balanced by
construction (token t picks experts (t*k + j) mod E), as afdsim's `uniform` routing; the
router GEMM still runs. Decode steps are captured in a CUDA graph, as vLLM and SGLang run
decode; prefill runs eagerly. Weights are random bf16; the KV cache holds `context` tokens
per sequence (decode) or is written by the step (prefill).

Usage: framework-step.py MODEL.json --phase decode|prefill --batch B [--context L]
       [--warmup 5] [--iterations 30] [--no-graph] [--json FILE]
Prints one line: phase, batch, context, median/min/max step time in ms, and which expert
kernel ran; --json writes the same plus every iteration's time (seconds).
"""
import argparse, json, math, os, statistics, sys

import torch
import torch.nn.functional as F


def load_model(path):
    with open(path) as f:
        m = json.load(f)
    att = m["attention"]
    if att["kind"] not in ("mha", "gqa"):
        sys.exit(f"{path}: attention kind {att['kind']!r}: only mha and gqa are built here")
    heads = att["heads"]
    kv_heads = att.get("kv_heads", heads)
    head_dim = att.get("head_dim", m["hidden_size"] // heads)
    moe = m.get("moe")
    return dict(name=m["name"], layers=m["layers"], hidden=m["hidden_size"], vocab=m["vocab_size"],
                heads=heads, kv_heads=kv_heads, head_dim=head_dim, moe=moe,
                ffn=m.get("ffn", {}), dense_inter=m.get("intermediate_size"))


class Step:
    def __init__(self, cfg, phase, batch, context, dev):
        self.cfg, self.phase, self.batch, self.context = cfg, phase, batch, context
        h, d, nh, nkv = cfg["hidden"], cfg["head_dim"], cfg["heads"], cfg["kv_heads"]
        bf = torch.bfloat16
        g = torch.Generator(device=dev).manual_seed(1)
        rnd = lambda *s: (torch.rand(*s, device=dev, generator=g, dtype=torch.float32) * 2 - 1).to(bf) * 0.02
        self.tokens = batch if phase == "decode" else batch * context
        L = cfg["layers"]
        self.wqkv = [rnd((nh + 2 * nkv) * d, h) for _ in range(L)]
        self.wo = [rnd(h, nh * d) for _ in range(L)]
        self.norm = torch.ones(h, device=dev, dtype=bf)
        moe = cfg["moe"]
        self.gelu = cfg["ffn"].get("activation", "silu") == "gelu"
        if moe:
            E, I = moe["routed_experts"], moe["expert_intermediate_size"]
            self.E, self.k = E, moe["top_k"]
            up = I if self.gelu else 2 * I
            self.wr = [rnd(E, h) for _ in range(L)]
            # [E, N, K] stored, used as [E, K, N] column-major (what grouped GEMMs want)
            self.wup = [rnd(E, up, h) for _ in range(L)]
            self.wdown = [rnd(E, h, I) for _ in range(L)]
            t = torch.arange(self.tokens, device=dev)
            choice = (t[:, None] * self.k + torch.arange(self.k, device=dev)[None, :]) % E
            flat = choice.reshape(-1)
            self.order = torch.argsort(flat, stable=True)
            counts = torch.bincount(flat, minlength=E)
            self.offs = torch.cumsum(counts, 0).to(torch.int32)
            self.counts = counts.tolist()
            self.src = (self.order // self.k)
        else:
            I = cfg["dense_inter"]
            up = I if self.gelu else 2 * I
            self.wup_d = [rnd(up, h) for _ in range(L)]
            self.wdown_d = [rnd(h, I) for _ in range(L)]
        self.whead = rnd(cfg["vocab"], h)
        if phase == "decode":
            self.kc = [rnd(batch, nkv, context, d) for _ in range(L)]
            self.vc = [rnd(batch, nkv, context, d) for _ in range(L)]
        self.x = rnd(self.tokens, h)
        self.expert_kernel = None

    def act(self, y):
        if self.gelu:
            return F.gelu(y, approximate="tanh")
        a, b = y.chunk(2, dim=-1)
        return F.silu(a) * b

    def experts(self, l, xs):
        # xs: [tokens*k, h] sorted by expert
        if self.expert_kernel in (None, "grouped_mm"):
            try:
                up = torch._grouped_mm(xs, self.wup[l].transpose(-2, -1), offs=self.offs)
                y = torch._grouped_mm(self.act(up), self.wdown[l].transpose(-2, -1), offs=self.offs)
                self.expert_kernel = "grouped_mm"
                return y
            except (AttributeError, RuntimeError) as e:
                if self.expert_kernel == "grouped_mm":
                    raise
                self.expert_kernel = "loop"
                print(f"framework-step: torch._grouped_mm unavailable ({e}); one GEMM per expert",
                      file=sys.stderr)
        outs, start = [], 0
        for e, c in enumerate(self.counts):
            if c:
                seg = xs[start:start + c]
                outs.append(self.act(seg @ self.wup[l][e].t()) @ self.wdown[l][e].t())
            start += c
        return torch.cat(outs)

    def forward(self):
        cfg = self.cfg
        nh, nkv, d = cfg["heads"], cfg["kv_heads"], cfg["head_dim"]
        x = self.x
        B = self.batch
        for l in range(cfg["layers"]):
            hn = F.rms_norm(x, (cfg["hidden"],), self.norm)
            qkv = hn @ self.wqkv[l].t()
            q, k, v = qkv.split([nh * d, nkv * d, nkv * d], dim=-1)
            if self.phase == "decode":
                q = q.view(B, 1, nh, d).transpose(1, 2)
                kc, vc = self.kc[l], self.vc[l]
                kc[:, :, -1:, :].copy_(k.view(B, 1, nkv, d).transpose(1, 2))
                vc[:, :, -1:, :].copy_(v.view(B, 1, nkv, d).transpose(1, 2))
                o = F.scaled_dot_product_attention(q, kc, vc, enable_gqa=(nkv != nh))
                o = o.transpose(1, 2).reshape(B, nh * d)
            else:
                T = self.context
                q = q.view(B, T, nh, d).transpose(1, 2)
                k = k.view(B, T, nkv, d).transpose(1, 2)
                v = v.view(B, T, nkv, d).transpose(1, 2)
                o = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=(nkv != nh))
                o = o.transpose(1, 2).reshape(B * T, nh * d)
            x = x + o @ self.wo[l].t()
            hn = F.rms_norm(x, (cfg["hidden"],), self.norm)
            if cfg["moe"]:
                logits = hn @ self.wr[l].t()
                w = torch.softmax(logits.float(), dim=-1)[:, :self.k].to(hn.dtype)  # weights only
                xs = hn.index_select(0, self.src)
                ys = self.experts(l, xs)
                out = torch.zeros_like(hn)
                out.index_add_(0, self.src, ys * w.reshape(-1)[self.order, None])
                x = x + out
            else:
                x = x + self.act(hn @ self.wup_d[l].t()) @ self.wdown_d[l].t()
        hn = F.rms_norm(x[-B:] if self.phase == "prefill" else x, (cfg["hidden"],), self.norm)
        return hn @ self.whead.t()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--phase", choices=["decode", "prefill"], default="decode")
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--context", type=int, default=2048)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--iterations", type=int, default=30)
    ap.add_argument("--no-graph", action="store_true")
    ap.add_argument("--json")
    a = ap.parse_args()
    if a.batch < 1 or a.context < 1 or a.iterations < 1:
        sys.exit("framework-step: --batch, --context and --iterations must be >= 1")
    dev = torch.device("cuda")
    cfg = load_model(a.model)
    st = Step(cfg, a.phase, a.batch, a.context, dev)
    with torch.inference_mode():
        for _ in range(a.warmup):
            st.forward()
        torch.cuda.synchronize()
        graph = None
        if a.phase == "decode" and not a.no_graph:
            s = torch.cuda.Stream()
            s.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(s):
                st.forward()
            torch.cuda.current_stream().wait_stream(s)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                st.forward()
            for _ in range(3):
                graph.replay()
        times = []
        for _ in range(a.iterations):
            e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            e0.record()
            if graph is not None:
                graph.replay()
            else:
                st.forward()
            e1.record()
            e1.synchronize()
            times.append(e0.elapsed_time(e1) / 1e3)
    med = statistics.median(times)
    rec = dict(model=cfg["name"], phase=a.phase, batch=a.batch, context=a.context,
               gpu=torch.cuda.get_device_name(0), torch=torch.__version__,
               cuda_graph=graph is not None, expert_kernel=st.expert_kernel,
               sdpa_backends=dict(flash=torch.backends.cuda.flash_sdp_enabled(),
                                  cudnn=torch.backends.cuda.cudnn_sdp_enabled()),
               median_s=med, min_s=min(times), max_s=max(times), iterations_s=times)
    print(f"{cfg['name']} {a.phase} batch {a.batch} context {a.context}: median {med*1e3:.3f} ms "
          f"(min {min(times)*1e3:.3f}, max {max(times)*1e3:.3f}); experts: {st.expert_kernel}; "
          f"graph: {graph is not None}")
    if a.json:
        tmp = a.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump(rec, f, indent=1)
        os.replace(tmp, a.json)


if __name__ == "__main__":
    main()
