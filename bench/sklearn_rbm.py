#!/usr/bin/python3
"""CPU reference point for `blockspin bench rbm`: scikit-learn's BernoulliRBM.partial_fit.

One partial_fit call on a minibatch is one PCD-1 update as scikit-learn implements it (hidden means of
the data, one Gibbs step from its persistent hidden samples, SGD on W and both biases), so it is
compared with blockspin's k = 1 rows. Data: random binary rows (p = 1/2), float32 (scikit-learn keeps
float32 input in float32, the precision the GPU engines use). Timed by wall clock over whole calls after
a warm-up, for at least --seconds. numpy's BLAS may use every core; the thread count is reported.

FLOP count as in bench/rbm.ts: 2·B·nv·nh·(2k + 3) with k = 1.

Prints one JSON line: {name, samplesPerSec, gflops, batch, k, steps, seconds, threads}.
Needs Debian's python3-sklearn (apt-get install -y python3-sklearn); a comparison peer only.
"""

import argparse
import json
import os
import time

import numpy as np
import sklearn
from sklearn.neural_network import BernoulliRBM


def blas_threads():
    """The BLAS thread count when threadpoolctl (a scikit-learn dependency) can tell, else None."""
    try:
        from threadpoolctl import threadpool_info

        counts = [p.get("num_threads") for p in threadpool_info() if p.get("user_api") == "blas"]
        return max(counts) if counts else None
    except Exception:  # threadpoolctl missing or too old: not worth failing the benchmark for
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--nv", type=int, default=1024)
    parser.add_argument("--nh", type=int, default=256)
    parser.add_argument("--seconds", type=float, default=2.0, help="minimum timed wall-clock time")
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()

    rng = np.random.default_rng(1)
    rows = args.batch * 10
    data = (rng.random((rows, args.nv)) < 0.5).astype(np.float32)
    rbm = BernoulliRBM(n_components=args.nh, learning_rate=0.01, batch_size=args.batch, random_state=1)

    batches = rows // args.batch
    step = 0

    def update():
        nonlocal step
        i = step % batches
        rbm.partial_fit(data[i * args.batch : (i + 1) * args.batch])
        step += 1

    for _ in range(args.warmup):
        update()
    steps = 0
    t0 = time.perf_counter()
    while True:
        update()
        steps += 1
        seconds = time.perf_counter() - t0
        if seconds >= args.seconds and steps >= 3:
            break

    k = 1
    flops = 2 * args.batch * args.nv * args.nh * (2 * k + 3) * steps
    threads = blas_threads()
    print(
        json.dumps(
            {
                "name": f"scikit-learn {sklearn.__version__} BernoulliRBM.partial_fit "
                f"(CPU, PCD-1, float32, numpy {np.__version__}, BLAS threads {threads or 'unknown'}, "
                f"{os.cpu_count()} cores)",
                "samplesPerSec": args.batch * steps / seconds,
                "gflops": flops / seconds / 1e9,
                "batch": args.batch,
                "k": k,
                "steps": steps,
                "seconds": seconds,
                "threads": threads,
            }
        )
    )


if __name__ == "__main__":
    main()
