#!/usr/bin/env python3
"""Checkerboard Metropolis for the 2D Ising model in plain CuPy: the peer of `blockspin bench all` (ising).

What a researcher would otherwise run: the basic GPU version of Romero, Bisson, Fatica and Bernaschi, "High
performance implementations of the 2D Ising model on GPUs", Comput. Phys. Commun. 256 (2020) 107473: int8
spins stored as two compact colour arrays of L x L/2 (black, white), one array of uniform random floats drawn
per half-sweep (cuRAND Philox4_32_10 through cupy.random), and one elementwise kernel per colour that sums the
four neighbours of the other colour and accepts a flip with probability exp(-2 beta s h).

Two variants are timed when CUDA is present:
  kernel  a cupy.RawKernel with the paper's basic update (one thread per site of the colour)
  array   the same update in CuPy array operations (cupy.roll and cupy.where), no custom kernel
Without CuPy or CUDA, the 'array' variant runs on NumPy (CPU), so the script can be checked anywhere.

Figure: flips/ns = L^2 x sweeps / (wall-clock ns), after a warm-up, random numbers included, at T_c.
`--check` first compares <|m|> at T = 2.0 from an ordered start with Onsager's spontaneous magnetisation.

Prints one JSON object with --json (the shape bench/all.ts reads): {name, device, results: [{suite: 'ising',
kernel, L, value, unit: 'flips/ns', ms, seconds}], notes, error?}.
"""

import argparse
import json
import math
import sys
import time

T_C = 2.0 / math.log(1.0 + math.sqrt(2.0))

RAW_KERNEL = r"""
extern "C" __global__ void update_lattice(signed char* lattice, const signed char* __restrict__ op_lattice,
                                          const float* __restrict__ randvals, const float inv_temp,
                                          const long long nx, const long long ny, const int is_black) {
  const long long tid = (long long)blockDim.x * blockIdx.x + threadIdx.x;
  if (tid >= nx * ny) return;
  const long long i = tid / ny;
  const long long j = tid % ny;
  const long long ipp = (i + 1 < nx) ? i + 1 : 0;
  const long long inn = (i - 1 >= 0) ? i - 1 : nx - 1;
  const long long jpp = (j + 1 < ny) ? j + 1 : 0;
  const long long jnn = (j - 1 >= 0) ? j - 1 : ny - 1;
  long long joff;
  if (is_black) {
    joff = (i % 2) ? jpp : jnn;
  } else {
    joff = (i % 2) ? jnn : jpp;
  }
  const signed char nn_sum = op_lattice[inn * ny + j] + op_lattice[i * ny + j] + op_lattice[ipp * ny + j] +
                             op_lattice[i * ny + joff];
  const signed char lij = lattice[i * ny + j];
  const float acceptance_ratio = expf(-2.0f * inv_temp * nn_sum * lij);
  if (randvals[i * ny + j] < acceptance_ratio) lattice[i * ny + j] = -lij;
}
"""


def load_backend(force_numpy):
    """(xp, name, device, gpu): CuPy with a CUDA device, else NumPy."""
    if not force_numpy:
        try:
            import cupy

            if cupy.cuda.runtime.getDeviceCount() > 0:
                props = cupy.cuda.runtime.getDeviceProperties(0)
                name = props["name"]
                return cupy, f"CuPy {cupy.__version__}", name.decode() if isinstance(name, bytes) else str(name), True
        except Exception as err:  # no CuPy, no driver, no device
            print(f"cupy_ising: CuPy unavailable ({err}); NumPy on the CPU", file=sys.stderr)
    import numpy

    return numpy, f"NumPy {numpy.__version__} (CPU)", "CPU", False


class Lattice:
    """Black and white compact arrays (L x L/2, int8) and the two update variants."""

    def __init__(self, xp, gpu, L, seed, ordered=False):
        if L % 2:
            raise ValueError(f"L = {L} must be even")
        self.xp, self.gpu, self.L = xp, gpu, L
        shape = (L, L // 2)
        if gpu:
            import cupy
            from cupy.cuda import curand

            try:
                self.rng = cupy.random.RandomState(seed, method=curand.CURAND_RNG_PSEUDO_PHILOX4_32_10)
            except Exception:
                self.rng = cupy.random.RandomState(seed)
            self.uniform = lambda: self.rng.random_sample(shape, dtype=cupy.float32)
            self.kernel = cupy.RawKernel(RAW_KERNEL, "update_lattice")
        else:
            self.rng = xp.random.default_rng(seed)
            self.uniform = lambda: self.rng.random(shape, dtype=xp.float32)
            self.kernel = None
        if ordered:
            self.black = xp.ones(shape, dtype=xp.int8)
            self.white = xp.ones(shape, dtype=xp.int8)
        else:
            self.black = (2 * (self.uniform() < 0.5) - 1).astype(xp.int8)
            self.white = (2 * (self.uniform() < 0.5) - 1).astype(xp.int8)
        # Row parity, for the column offset of the fourth neighbour.
        self.odd_rows = (xp.arange(L) % 2 == 1)[:, None]

    def half_sweep_array(self, target, other, is_black, beta):
        xp = self.xp
        right = xp.roll(other, -1, axis=1)  # j + 1
        left = xp.roll(other, 1, axis=1)  # j - 1
        offset = xp.where(self.odd_rows, right, left) if is_black else xp.where(self.odd_rows, left, right)
        nn = other + xp.roll(other, 1, axis=0) + xp.roll(other, -1, axis=0) + offset
        accept = xp.exp(xp.float32(-2.0 * beta) * (nn * target).astype(xp.float32))
        flip = self.uniform() < accept
        target[...] = xp.where(flip, -target, target)

    def half_sweep_kernel(self, target, other, is_black, beta):
        import cupy

        n = target.size
        threads = 128
        self.kernel(
            ((n + threads - 1) // threads,),
            (threads,),
            (
                target,
                other,
                self.uniform(),
                cupy.float32(beta),
                cupy.int64(self.L),
                cupy.int64(self.L // 2),
                cupy.int32(1 if is_black else 0),
            ),
        )

    def sweeps(self, variant, n, beta):
        step = self.half_sweep_kernel if variant == "kernel" else self.half_sweep_array
        for _ in range(n):
            step(self.black, self.white, True, beta)
            step(self.white, self.black, False, beta)

    def sync(self):
        if self.gpu:
            import cupy

            cupy.cuda.Device().synchronize()

    def abs_m(self):
        xp = self.xp
        s = int(xp.sum(self.black, dtype=xp.int64)) + int(xp.sum(self.white, dtype=xp.int64))
        return abs(s) / (self.L * self.L)


def time_variant(xp, gpu, variant, L, target_s, repeats):
    lat = Lattice(xp, gpu, L, seed=L)
    beta = 1.0 / T_C
    lat.sweeps(variant, 2, beta)  # warm-up: kernel compilation, allocations
    lat.sync()
    t0 = time.perf_counter()
    lat.sweeps(variant, 2, beta)
    lat.sync()
    per_sweep = max((time.perf_counter() - t0) / 2, 1e-7)
    sweeps = max(2, min(4096, round(target_s / per_sweep)))
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        lat.sweeps(variant, sweeps, beta)
        lat.sync()
        samples.append(time.perf_counter() - t0)
    samples.sort()
    s = samples[len(samples) // 2]
    return sweeps, s


def check(xp, gpu, variant, L=256, sweeps=300):
    """<|m|> at T = 2.0 from an ordered start against Onsager's m(T) = (1 - sinh(2/T)^-4)^(1/8)."""
    T = 2.0
    exact = (1.0 - math.sinh(2.0 / T) ** -4) ** 0.125
    lat = Lattice(xp, gpu, L, seed=7, ordered=True)
    lat.sweeps(variant, 100, 1.0 / T)
    total = 0.0
    for _ in range(sweeps // 10):
        lat.sweeps(variant, 10, 1.0 / T)
        total += lat.abs_m()
    m = total / (sweeps // 10)
    return {"variant": variant, "L": L, "T": T, "absM": m, "exact": exact, "ok": abs(m - exact) < 0.02}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--L", default="1024,2048,4096", help="comma-separated lattice sizes (even)")
    p.add_argument("--seconds", type=float, default=30.0, help="time budget of the whole run")
    p.add_argument("--size", default="full", help="'smoke' or 'full' (smoke: fewer repeats)")
    p.add_argument("--variants", default="kernel,array", help="comma-separated: kernel, array")
    p.add_argument("--numpy", action="store_true", help="NumPy on the CPU even when CuPy and CUDA are there")
    p.add_argument("--check", action="store_true", help="check <|m|> at T = 2 against Onsager first")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    a = p.parse_args()

    t_start = time.perf_counter()
    out = {"name": "", "device": "", "results": [], "notes": []}
    try:
        xp, name, device, gpu = load_backend(a.numpy)
    except Exception as err:
        out.update(name="CuPy checkerboard Metropolis", error=f"neither CuPy nor NumPy: {err}")
        print(json.dumps(out))
        return 0
    out["name"] = f"{name} checkerboard Metropolis"
    out["device"] = device
    variants = [v for v in a.variants.split(",") if v in ("kernel", "array")]
    if not gpu:
        if "kernel" in variants:
            out["notes"].append("no CUDA: the RawKernel variant is not run; the array variant runs on NumPy")
        variants = ["array"]
    sizes = [int(x) for x in a.L.split(",") if x.strip()]
    repeats = 2 if a.size == "smoke" else 3
    left = lambda: a.seconds - (time.perf_counter() - t_start)
    if a.check:
        for v in variants:
            try:
                c = check(xp, gpu, v, L=64 if not gpu else 256)
                out.setdefault("checks", []).append(c)
                if not c["ok"]:
                    out["notes"].append(f"check failed for {v}: <|m|> = {c['absM']:.4f}, exact {c['exact']:.4f}")
            except Exception as err:
                out["notes"].append(f"check of {v} failed: {err}")
    per_figure = max(0.05, a.seconds / max(1, len(sizes) * len(variants)) / (repeats + 3))
    for v in variants:
        for L in sizes:
            if left() <= 0:
                out["notes"].append(f"{v}: stopped before L={L} (time budget spent)")
                break
            t0 = time.perf_counter()
            try:
                sweeps, s = time_variant(xp, gpu, v, L, min(per_figure, max(left(), 0.01) / (repeats + 3)), repeats)
            except Exception as err:
                out["notes"].append(f"{v} L={L}: not measured ({type(err).__name__}: {err}); larger sizes skipped")
                break
            label = "RawKernel (Romero et al. basic)" if v == "kernel" else "array ops (roll/where)"
            out["results"].append(
                {
                    "suite": "ising",
                    "kernel": f"{label}, int8, uniform array per half-sweep",
                    "L": L,
                    "sweeps": sweeps,
                    "value": L * L * sweeps / (s * 1e9),
                    "unit": "flips/ns",
                    "ms": s * 1e3,
                    "seconds": time.perf_counter() - t0,
                }
            )
            if not a.json:
                r = out["results"][-1]
                print(f"{v} L={L}: {r['value']:.4g} flips/ns ({sweeps} sweeps, {r['ms']:.3g} ms)", flush=True)
    if a.json:
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
