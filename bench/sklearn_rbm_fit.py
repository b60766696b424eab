#!/usr/bin/python3
"""Quality peer for bench/rbm-quality.ts: fits scikit-learn's BernoulliRBM and exports its weights.

Reads train.npy (uint8 [n, nv], 0/1) from --dir, fits BernoulliRBM (PCD-1 with `batch_size` persistent
chains, SGD; scikit-learn's defaults except where the options say) and writes W.npy (float64 [nv, nh],
blockspin's layout: components_ transposed), a.npy (visible intercepts) and b.npy (hidden intercepts).
The weights are scored by blockspin's estimators, the same ones that score blockspin's own models, so
scikit-learn's noisy one-bit pseudo-likelihood is never used.

Prints one JSON line: {name, seconds, epochs, lr, batch, nh}.
Needs Debian's python3-sklearn (apt-get install -y python3-sklearn).
"""

import argparse
import json
import os
import time

import numpy as np
import sklearn
from sklearn.neural_network import BernoulliRBM


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", required=True, help="folder with train.npy; the weights are written here")
    parser.add_argument("--hidden", type=int, default=144)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    x = np.load(os.path.join(args.dir, "train.npy")).astype(np.float64)
    rbm = BernoulliRBM(
        n_components=args.hidden,
        learning_rate=args.lr,
        batch_size=args.batch,
        n_iter=args.epochs,
        random_state=args.seed,
    )
    t0 = time.perf_counter()
    rbm.fit(x)
    seconds = time.perf_counter() - t0
    np.save(os.path.join(args.dir, "W.npy"), np.ascontiguousarray(rbm.components_.T))
    np.save(os.path.join(args.dir, "a.npy"), rbm.intercept_visible_)
    np.save(os.path.join(args.dir, "b.npy"), rbm.intercept_hidden_)
    print(
        json.dumps(
            {
                "name": f"scikit-learn {sklearn.__version__} BernoulliRBM.fit (PCD-1, SGD)",
                "seconds": seconds,
                "epochs": args.epochs,
                "lr": args.lr,
                "batch": args.batch,
                "nh": args.hidden,
            }
        )
    )


if __name__ == "__main__":
    main()
