"""Time FAISS IndexFlatIP on the vectors `facesign bench data` wrote.

Prints one JSON object: median milliseconds per search call for one query
(the first query) and for all queries in one call, the top-1 ids, and the
FAISS/thread configuration. Run by scripts/bench-faiss.sh.
"""
import argparse
import json
import statistics
import time

import faiss
import numpy as np


def timed(index, q, k, reps):
    index.search(q, k)  # warm-up
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        _, ids = index.search(q, k)
        ts.append((time.perf_counter() - t) * 1e3)
    return statistics.median(ts), min(ts), ids


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--queries", required=True)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--threads", type=int, default=0)
    a = p.parse_args()
    if a.threads > 0:
        faiss.omp_set_num_threads(a.threads)
    xb = np.load(a.base)
    xq = np.load(a.queries)
    assert xb.dtype == np.float32 and xq.dtype == np.float32
    index = faiss.IndexFlatIP(xb.shape[1])
    index.add(xb)
    one_ms, one_min, one_ids = timed(index, xq[:1], a.k, a.reps)
    batch_ms, batch_min, batch_ids = timed(index, xq, a.k, a.reps)
    print(json.dumps({
        "faiss_version": faiss.__version__,
        "threads": faiss.omp_get_max_threads(),
        "n": int(xb.shape[0]), "dim": int(xb.shape[1]), "queries": int(xq.shape[0]), "k": a.k,
        "single_ms": one_ms, "single_ms_min": one_min,
        "batch_ms": batch_ms, "batch_ms_min": batch_min,
        "top1_single": [int(one_ids[0, 0])],
        "top1_batch": [int(i) for i in batch_ids[:, 0]],
    }))


if __name__ == "__main__":
    main()
