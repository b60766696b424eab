"""An independent numpy port of unixtomato/nmcrg (src/rbm.py training, src/cal_ops.cpp renormalize_weight/operate,
src/mcrg.py estimator) to cross-check blockspin's chung-kao study.  Not part of the package.

  python3 nmcrg_port.py train DATA.npy OUT_PREFIX --batch 50 --epochs 100 --lr 1e-3 --seed 1 [--lr-final 1e-4 --decay-epochs 25]
  python3 nmcrg_port.py mcrg CONFIGS.npy FILTER.npy [--runs 10] [--majority] [--seed 1]
"""
import argparse, json, sys, time
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def pad(v, p):
    # rbm.py periodic_padding: append the first p columns, then the first p rows
    v = np.concatenate([v, v[..., :, :p]], axis=-1)
    return np.concatenate([v, v[..., :p, :]], axis=-2)


def conv(v, W):
    # torch conv2d(periodic_padding(v), W, stride=2) for one input and one output channel: x[a,b] = Σ W[i,j] v[2a+i, 2b+j]
    k = W.shape[0]
    vp = pad(v, k - 2)
    win = sliding_window_view(vp, (k, k), axis=(-2, -1))[..., ::2, ::2, :, :]
    return np.einsum('nabij,ij->nab', win, W, optimize=True), win


def conv_t(h, W, L):
    # rbm.py propdown: conv_transpose2d(h, W, stride=2), then fold the p overhanging rows/columns back (periodic)
    k = W.shape[0]
    p = k - 2
    n, m, _ = h.shape
    out = np.zeros((n, 2 * (m - 1) + k, 2 * (m - 1) + k))
    for i in range(k):
        for j in range(k):
            out[:, i:i + 2 * m:2, j:j + 2 * m:2] += W[i, j] * h
    out[:, :p, :] += out[:, -p:, :]
    out[:, :, :p] += out[:, :, -p:]
    return out[:, :L, :L]


def sample_pm(prob, rng):
    return np.where(rng.random(prob.shape) < prob, 1.0, -1.0)


def train(args):
    data = np.load(args.data).astype(np.float64)
    data = data.reshape(-1, data.shape[-2], data.shape[-1])
    L = data.shape[-1]
    rng = np.random.default_rng(args.seed)
    W = rng.uniform(-1e-5, 1e-5, size=(8, 8))
    m = np.zeros_like(W); s = np.zeros_like(W)
    b1, b2, eps = 0.9, 0.999, 1e-8
    nb = data.shape[0] // args.batch
    t = 0
    filters = []
    log = []
    t0 = time.time()
    for epoch in range(args.epochs):
        if args.sqrt_final is not None:
            lr = None  # per update below
        elif args.lr_final is not None and args.decay_epochs:
            # a geometric decay from lr to lr_final over decay_epochs, then constant
            f = min(1.0, epoch / args.decay_epochs)
            lr = args.lr * (args.lr_final / args.lr) ** f
        else:
            lr = args.lr
        order = rng.permutation(nb) if args.shuffle else np.arange(nb)
        ce = []
        for bi in order:
            v0 = data[bi * args.batch:(bi + 1) * args.batch]
            v = v0
            for _ in range(3):
                x, _w = conv(v, W)
                h = sample_pm(sigmoid(2 * x), rng)
                pre_v = 2 * conv_t(h, W, L)
                v = sample_pm(sigmoid(pre_v), rng)
            x0, win0 = conv(v0, W)
            x1, win1 = conv(v, W)
            norm = v0.shape[0] * x0.shape[1] * x0.shape[2]
            # d/dW of mean F(data) - mean F(chain), F = -log(2 cosh x)
            g = (-np.einsum('nab,nabij->ij', np.tanh(x0), win0) + np.einsum('nab,nabij->ij', np.tanh(x1), win1)) / norm
            if args.sqrt_final is not None:
                # blockspin's 'sqrt' schedule: lr/sqrt(1 + c u), reaching sqrt_final at decay_updates, then constant
                c = ((args.lr / args.sqrt_final) ** 2 - 1) / args.decay_updates
                lr_u = args.lr / np.sqrt(1 + c * min(t, args.decay_updates))
            else:
                lr_u = lr
            t += 1
            m = b1 * m + (1 - b1) * g
            s = b2 * s + (1 - b2) * g * g
            mh = m / (1 - b1 ** t); sh = s / (1 - b2 ** t)
            W = W - lr_u * mh / (np.sqrt(sh) + eps)
            # monitoring cost: BCE with logits pre_v against (v0+1)/2, summed per configuration
            y = (v0 + 1) / 2
            bce = np.maximum(pre_v, 0) - pre_v * y + np.log1p(np.exp(-np.abs(pre_v)))
            ce.append(bce.sum(axis=(1, 2)).mean())
        filters.append(W.copy())
        log.append({'epoch': epoch, 'lr': lr_u, 'ce': float(np.mean(ce)), 'sumW': float(W.sum()), 'absW': float(np.abs(W).sum())})
        print(json.dumps(log[-1]), f'{time.time() - t0:.0f}s', file=sys.stderr, flush=True)
        np.save(args.out + '.filters.npy', np.array(filters))
    json.dump(log, open(args.out + '.log.json', 'w'))


# ops.txt: indices i -> (i // 3, i % 3) in a 3x3 patch; each operator is a sum of products over all anchors
OPS = [
    [[0, 1], [0, 3]],
    [[0, 4], [1, 3]],
    [[0, 1, 3, 4]],
    [[0, 2], [0, 6]],
    [[0, 5], [1, 6], [0, 7], [2, 3]],
    [[1, 3, 5, 7]],
    [[0, 8], [2, 6]],
]


def operators(s):
    # s: (n, l, l) of ±1 -> (n, 7) sums
    out = np.zeros((s.shape[0], len(OPS)), dtype=np.float64)
    for c, terms in enumerate(OPS):
        tot = 0
        for term in terms:
            prod = 1
            for idx in term:
                di, dj = idx // 3, idx % 3
                prod = prod * np.roll(s, shift=(-di, -dj), axis=(1, 2))
            tot = tot + prod.sum(axis=(1, 2))
        out[:, c] = tot
    return out


MODE = 'sample'


def block_weight(s, W, rng):
    # cal_ops.cpp renormalize_weight: pr = Σ w[ii][jj] s[(i+ii)%l][(j+jj)%l] at i, j even; μ = +1 with sigmoid(2 pr)
    n, l, _ = s.shape
    k = W.shape[0]
    x = np.zeros((n, l // 2, l // 2))
    for ii in range(k):
        for jj in range(k):
            x += W[ii, jj] * np.roll(s, shift=(-ii, -jj), axis=(1, 2))[:, ::2, ::2]
    if MODE == 'sign':  # the deterministic (infinite-weight) limit, ties by a coin
        tie = np.where(rng.random(x.shape) < 0.5, 1.0, -1.0)
        return np.where(x > 0, 1.0, np.where(x < 0, -1.0, tie))
    if MODE == 'mean':  # expectation values tanh(x) instead of sampled spins
        return np.tanh(x)
    if MODE == 'half':  # sigmoid(x) instead of sigmoid(2x)
        return np.where(rng.random(x.shape) < sigmoid(x), 1.0, -1.0)
    return np.where(rng.random(x.shape) < sigmoid(2 * x), 1.0, -1.0)


def block_majority(s, rng):
    n, l, _ = s.shape
    b = s.reshape(n, l // 2, 2, l // 2, 2).sum(axis=(2, 4))
    tie = np.where(rng.random(b.shape) < 0.5, 1, -1)
    return np.where(b > 0, 1, np.where(b < 0, -1, tie)).astype(np.int8)


def transformation_exponents(ops, nr, nc):
    # mcrg.py: per step r, T = solve(A, B) with A = <S(r+1) S(r+1)>_c, B = <S(r+1) S(r)>_c on the first i+1 operators
    vals = []
    for r in range(nr - 1):
        row = []
        for i in range(nc):
            s1 = ops[:, r + 1, :i + 1].astype(np.float64)
            s0 = ops[:, r, :i + 1].astype(np.float64)
            A = (s1.T @ s1) / len(s1) - np.outer(s1.mean(0), s1.mean(0))
            B = (s1.T @ s0) / len(s1) - np.outer(s1.mean(0), s0.mean(0))
            T = np.linalg.solve(A, B)
            lam = np.sort(np.real(np.linalg.eigvals(T)))[-1]
            row.append(np.log(lam) / np.log(2))
        vals.append(row)
    return np.array(vals)


def mcrg(args):
    conf = np.load(args.configs)
    conf = conf.reshape(-1, conf.shape[-2], conf.shape[-1]).astype(np.int8)
    if args.limit:
        conf = conf[:args.limit]
    rng = np.random.default_rng(args.seed)
    W = None
    if not args.majority:
        f = np.load(args.filter)
        W = f.reshape(-1, 8, 8)[args.epoch].astype(np.float64) * args.scale
    levels = int(np.log2(conf.shape[-1])) - 1
    chunks = np.array_split(np.arange(conf.shape[0]), 200)
    allops = []
    for ch in chunks:
        s = conf[ch].astype(np.float64)
        ops = [operators(s)]
        for r in range(levels - 1):
            s = (block_majority(s, rng) if args.majority else block_weight(s, W, rng)).astype(np.float64)
            ops.append(operators(s))
        allops.append(np.stack(ops, axis=1))
    allops = np.concatenate(allops)
    runs = np.array_split(allops, args.runs)  # consecutive runs, as the code's independent processes
    ys = np.array([transformation_exponents(r, levels, 7) for r in runs])
    mean = ys.mean(0); err = ys.std(0) / np.sqrt(args.runs - 1)
    whole = transformation_exponents(allops, levels, 7)
    print(json.dumps({'n': int(allops.shape[0]), 'runs': args.runs, 'mean_over_runs': mean.tolist(),
                      'err': err.tolist(), 'all_samples': whole.tolist()}))


if __name__ == '__main__':
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest='cmd')
    t = sub.add_parser('train'); t.add_argument('data'); t.add_argument('out')
    t.add_argument('--batch', type=int, default=50); t.add_argument('--epochs', type=int, default=100)
    t.add_argument('--lr', type=float, default=1e-3); t.add_argument('--lr-final', type=float)
    t.add_argument('--decay-epochs', type=int, default=0); t.add_argument('--seed', type=int, default=1)
    t.add_argument('--shuffle', action='store_true')
    t.add_argument('--sqrt-final', type=float)
    t.add_argument('--decay-updates', type=int, default=25000)
    mm = sub.add_parser('mcrg'); mm.add_argument('configs'); mm.add_argument('filter', nargs='?')
    mm.add_argument('--runs', type=int, default=10); mm.add_argument('--majority', action='store_true')
    mm.add_argument('--seed', type=int, default=1)
    mm.add_argument('--mode', default='sample', choices=['sample', 'sign', 'mean', 'half'])
    mm.add_argument('--scale', type=float, default=1.0)
    mm.add_argument('--epoch', type=int, default=-1)
    mm.add_argument('--limit', type=int, default=0)
    a = p.parse_args()
    if a.cmd == 'mcrg':
        MODE = a.mode
    train(a) if a.cmd == 'train' else mcrg(a)
