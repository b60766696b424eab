#!/usr/bin/env python3
"""CD-k training of the RBMs of `blockspin bench rbm` in PyTorch: the peer of `blockspin bench all` (rbm).

The same models, data and update as bench/rbm.ts, written the way a researcher would in PyTorch:
  dense  nv = 1024, nh = 256, {0,1} units: sigmoid(v W + b), torch.bernoulli, k Gibbs steps, SGD on
         <v h>_data - <v h>_model (CD-k, not PCD), lr 0.01
  conv   32 x 32 periodic visible lattice, 1 filter 8 x 8, stride 2 (16 x 16 hidden units, Chung & Kao):
         hidden input = conv2d of the circularly padded lattice, visible input = conv_transpose2d folded back
         onto the torus, weight gradient through torch.nn.grad.conv2d_weight; one tied visible bias, one hidden
         bias per filter
Random binary rows (p = 1/2), 10 batches uploaded once; float32; TF32 left at PyTorch's default (off for
matmul unless --tf32). CUDA when present, else the CPU (so the script can be checked anywhere torch is).

Figure: samples/s = batch x steps / wall seconds (torch.cuda.synchronize() around the timed steps), after
warm-up updates; GFLOP/s = 2 B C (2k + 3) per update, C = nv nh (dense) or F P kf^2 (conv), as bench/rbm.ts.

Prints one JSON object with --json: {name, device, results: [{suite: 'rbm', kernel, model, k, batch, steps,
value, unit: 'samples/s', gflops, ms, seconds}], notes, error?}.
"""

import argparse
import json
import sys
import time

MODELS = {
    "dense": {"description": "dense 1024x256", "nv": 1024, "nh": 256, "connections": 1024 * 256},
    "conv": {
        "description": "conv 32x32, 1 filter 8x8, stride 2",
        "nv": 32 * 32,
        "nh": 16 * 16,
        "connections": 1 * 16 * 16 * 8 * 8,
        "Lv": 32,
        "filters": 1,
        "k": 8,
        "stride": 2,
    },
}


def flops_per_update(model, batch, k):
    return 2 * batch * MODELS[model]["connections"] * (2 * k + 3)


class DenseRbm:
    def __init__(self, torch, device, nv, nh, generator):
        self.t = torch
        self.W = 0.01 * torch.randn(nv, nh, device=device, generator=generator)
        self.a = torch.zeros(nv, device=device)
        self.b = torch.zeros(nh, device=device)

    def hidden(self, v):
        return self.t.sigmoid(v @ self.W + self.b)

    def visible(self, h):
        return self.t.sigmoid(h @ self.W.t() + self.a)

    def cd_step(self, v0, k, lr):
        t = self.t
        ph0 = self.hidden(v0)
        h = t.bernoulli(ph0)
        v, ph = v0, ph0
        for _ in range(k):
            v = t.bernoulli(self.visible(h))
            ph = self.hidden(v)
            h = t.bernoulli(ph)
        B = v0.shape[0]
        self.W += (lr / B) * (v0.t() @ ph0 - v.t() @ ph)
        self.a += (lr / B) * (v0 - v).sum(0)
        self.b += (lr / B) * (ph0 - ph).sum(0)


class ConvRbm:
    """Periodic convolutional RBM: visible Lv x Lv, F filters k x k at stride s (hidden F x Lv/s x Lv/s)."""

    def __init__(self, torch, device, spec, generator):
        import torch.nn.functional as F
        import torch.nn.grad  # noqa: F401 (conv2d_weight, below)

        self.t, self.F = torch, F
        self.Lv, self.f, self.k, self.s = spec["Lv"], spec["filters"], spec["k"], spec["stride"]
        self.side = self.Lv // self.s
        self.W = 0.01 * torch.randn(self.f, 1, self.k, self.k, device=device, generator=generator)
        self.a = torch.zeros(1, device=device)  # tied visible bias
        self.b = torch.zeros(self.f, device=device)  # one hidden bias per filter
        # Rows/columns the transposed convolution spills past the lattice, folded back onto the torus.
        self.extra = (self.side - 1) * self.s + self.k - self.Lv

    def pad(self, v):  # v: [B, 1, Lv, Lv] -> circularly padded by k - 1 at the bottom and right
        return self.F.pad(v, (0, self.k - 1, 0, self.k - 1), mode="circular")

    def hidden(self, v):
        return self.t.sigmoid(self.F.conv2d(self.pad(v), self.W, stride=self.s) + self.b.view(1, -1, 1, 1))

    def visible(self, h):
        full = self.F.conv_transpose2d(h, self.W, stride=self.s)  # [B, 1, Lv + extra, Lv + extra]
        L, e = self.Lv, self.extra
        x = full[:, :, :L, :L].clone()
        if e > 0:
            x[:, :, :e, :] += full[:, :, L:, :L]
            x[:, :, :, :e] += full[:, :, :L, L:]
            x[:, :, :e, :e] += full[:, :, L:, L:]
        return self.t.sigmoid(x + self.a)

    def cd_step(self, v0, k, lr):
        t = self.t
        ph0 = self.hidden(v0)
        h = t.bernoulli(ph0)
        v, ph = v0, ph0
        for _ in range(k):
            v = t.bernoulli(self.visible(h))
            ph = self.hidden(v)
            h = t.bernoulli(ph)
        B = v0.shape[0]
        grad = t.nn.grad.conv2d_weight
        dW = grad(self.pad(v0), self.W.shape, ph0, stride=self.s) - grad(self.pad(v), self.W.shape, ph, stride=self.s)
        self.W += (lr / B) * dW
        self.a += (lr / B) * (v0 - v).sum()
        self.b += (lr / B) * (ph0 - ph).sum((0, 2, 3))


def check_conv(torch, device):
    """The folded transposed convolution is the adjoint of the padded convolution: <conv(v), h> = <v, convT(h)>."""
    g = torch.Generator(device=device).manual_seed(3)
    rbm = ConvRbm(torch, device, MODELS["conv"], g)
    v = torch.rand(2, 1, 32, 32, device=device, generator=g)
    h = torch.rand(2, 1, 16, 16, device=device, generator=g)
    F = rbm.F
    a = (F.conv2d(rbm.pad(v), rbm.W, stride=rbm.s) * h).sum()
    full = F.conv_transpose2d(h, rbm.W, stride=rbm.s)
    L, e = rbm.Lv, rbm.extra
    x = full[:, :, :L, :L].clone()
    x[:, :, :e, :] += full[:, :, L:, :L]
    x[:, :, :, :e] += full[:, :, :L, L:]
    x[:, :, :e, :e] += full[:, :, L:, L:]
    b = (v * x).sum()
    return abs(float(a - b)) / max(abs(float(a)), 1e-30)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", default="dense,conv")
    p.add_argument("--ks", default="1,3")
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--seconds", type=float, default=30.0, help="time budget of the whole run")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--cpu", action="store_true", help="the CPU even when CUDA is there")
    p.add_argument("--tf32", action="store_true", help="allow TF32 matmuls (PyTorch's default is off)")
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    t_start = time.perf_counter()
    out = {"name": "PyTorch CD-k", "device": "", "results": [], "notes": []}
    try:
        import torch
    except Exception as err:
        out["error"] = f"PyTorch not available ({err})"
        print(json.dumps(out) if a.json else out["error"])
        return 0

    cuda = torch.cuda.is_available() and not a.cpu
    device = torch.device("cuda" if cuda else "cpu")
    torch.backends.cuda.matmul.allow_tf32 = bool(a.tf32)
    torch.backends.cudnn.allow_tf32 = bool(a.tf32)
    dev_name = torch.cuda.get_device_name(0) if cuda else f"CPU ({torch.get_num_threads()} threads)"
    out["name"] = f"PyTorch {torch.__version__} {'CUDA' if cuda else 'CPU'}"
    out["device"] = dev_name
    if not cuda:
        out["notes"].append("no CUDA: PyTorch on the CPU")
    models = [m for m in a.models.split(",") if m in MODELS]
    ks = [int(k) for k in a.ks.split(",") if k.strip()]
    B = a.batch
    try:
        rel = check_conv(torch, device)
        out["convCheck"] = rel
        if rel > 1e-4:
            out["notes"].append(f"conv adjoint check off by {rel:.2e}")
    except Exception as err:
        out["notes"].append(f"conv check failed: {err}")

    configs = [(m, k) for m in models for k in ks]
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    with torch.no_grad():
        for i, (model, k) in enumerate(configs):
            left = a.seconds - (time.perf_counter() - t_start)
            if left <= 0:
                out["notes"].append(f"{model} k={k}: skipped (time budget spent)")
                continue
            share = left / (len(configs) - i)
            t0 = time.perf_counter()
            spec = MODELS[model]
            g = torch.Generator(device=device).manual_seed(1)
            rows = 10 * B
            data = (torch.rand(rows, spec["nv"], device=device, generator=g) < 0.5).float()
            if model == "dense":
                rbm = DenseRbm(torch, device, spec["nv"], spec["nh"], g)
                batches = [data[j * B : (j + 1) * B] for j in range(10)]
            else:
                rbm = ConvRbm(torch, device, spec, g)
                batches = [data[j * B : (j + 1) * B].view(B, 1, spec["Lv"], spec["Lv"]) for j in range(10)]
            for j in range(max(1, a.warmup)):
                rbm.cd_step(batches[j % 10], k, 0.01)
            sync()
            c0 = time.perf_counter()
            rbm.cd_step(batches[0], k, 0.01)
            rbm.cd_step(batches[1], k, 0.01)
            sync()
            per_step = max((time.perf_counter() - c0) / 2, 1e-6)
            steps = max(2, min(5000, int(share * 0.7 / per_step)))
            c0 = time.perf_counter()
            for j in range(steps):
                rbm.cd_step(batches[j % 10], k, 0.01)
            sync()
            s = time.perf_counter() - c0
            r = {
                "suite": "rbm",
                "kernel": f"torch {'cuda' if cuda else 'cpu'} ({'matmul' if model == 'dense' else 'conv2d'})",
                "model": model,
                "k": k,
                "batch": B,
                "steps": steps,
                "value": B * steps / s,
                "unit": "samples/s",
                "gflops": flops_per_update(model, B, k) * steps / s / 1e9,
                "ms": s * 1e3 / steps,
                "seconds": time.perf_counter() - t0,
            }
            out["results"].append(r)
            if not a.json:
                print(f"{model} k={k} batch={B}: {r['value']:.4g} samples/s, {r['gflops']:.3g} GFLOP/s", flush=True)
    if a.json:
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
