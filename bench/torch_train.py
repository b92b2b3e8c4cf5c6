#!/usr/bin/python3
"""PyTorch reference for bench/bench_train.c (bench/run.sh runs both).

Fashion-MNIST, MLP 784-256-10 with ReLU, batch 256, SGD lr 0.1 momentum
0.9, cross-entropy, inputs scaled to [0, 1]: the same model, data, batch and
optimiser as veil's benchmark. Each epoch draws a permutation and indexes
the training tensor in slices of 256 (the last one short), as veil does.

    torch_train.py THREADS EPOCHS

prints one line, "torch threads=T samples_per_s=S epoch_s=E cpu_s=C
test_acc=A", where E is the fastest epoch by the wall clock and C the least
process CPU time of an epoch (all threads), as bench_train prints them. The thread settings are the caller's: run.sh
sets OMP_NUM_THREADS and OPENBLAS_NUM_THREADS in the environment (they
must be set before torch is imported) and THREADS goes to
torch.set_num_threads. Needs Debian's python3-torch and python3-numpy
(`scripts/deps.sh bench`); run it with /usr/bin/python3.
"""
import gzip
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

DATA = os.environ.get("VEIL_FASHION_MNIST_DIR") or "/usr/share/datasets/fashion-mnist"


def idx(name):
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        raw = f.read()
    ndims = raw[3]
    dims = struct.unpack(">" + "I" * ndims, raw[4:4 + 4 * ndims])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndims).reshape(dims)


def main():
    threads, epochs = int(sys.argv[1]), int(sys.argv[2])
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    xtr = torch.from_numpy(idx("train-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255.0)
    ytr = torch.from_numpy(idx("train-labels-idx1-ubyte.gz").astype(np.int64))
    xte = torch.from_numpy(idx("t10k-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255.0)
    yte = torch.from_numpy(idx("t10k-labels-idx1-ubyte.gz").astype(np.int64))
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    n, batch = xtr.shape[0], 256
    best = best_cpu = float("inf")
    for _ in range(epochs):
        t0, c0 = time.perf_counter(), time.process_time()
        perm = torch.randperm(n)
        for i in range(0, n, batch):
            idx_b = perm[i:i + batch]
            xb, yb = xtr[idx_b], ytr[idx_b]
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    with torch.no_grad():
        acc = (model(xte).argmax(1) == yte).float().mean().item()
    print("torch threads=%d samples_per_s=%.0f epoch_s=%.3f cpu_s=%.3f test_acc=%.4f"
          % (threads, n / best, best, best_cpu, acc))


if __name__ == "__main__":
    main()
