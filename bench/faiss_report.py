"""Summarise scripts/bench-faiss.sh rounds: medians over rounds, Go/FAISS ratios.

Usage: faiss_report.py DIR ROUNDS. DIR holds round-R/{faiss,f32-1,int8-1,f32-Q,int8-Q,f32-1-t1}.json.
"""
import json
import os
import statistics
import sys


def load(d, r, name):
    with open(os.path.join(d, f"round-{r}", name + ".json")) as f:
        return json.load(f)


def main():
    d, rounds = sys.argv[1], int(sys.argv[2])
    runs = {n: [load(d, r, n) for r in range(rounds)] for n in ("faiss", "f32-1", "int8-1", "f32-Q", "int8-Q", "f32-1-t1")}
    med = lambda name, key: statistics.median(x[key] for x in runs[name])
    fa = runs["faiss"][0]
    go = runs["f32-1"][0]
    q = fa["queries"]
    print(f"N={fa['n']} D={fa['dim']} k={fa['k']} queries={q} go-threads={go['threads']} "
          f"faiss-threads={fa['threads']} (FAISS {fa['faiss_version']}, OpenBLAS pthread) rounds={rounds}")
    print("times: median over rounds of each round's median; ms per search call (one pass)")
    print()
    fs, fb = med("faiss", "single_ms"), med("faiss", "batch_ms")
    rows = [
        ("1 query  f32", med("f32-1", "ms_per_pass"), fs, "<= 0.5"),
        ("1 query  int8", med("int8-1", "ms_per_pass"), fs, ""),
        (f"{q} queries f32", med("f32-Q", "ms_per_pass"), fb, "<= 2.0"),
        (f"{q} queries int8", med("int8-Q", "ms_per_pass"), fb, "<= 1.0"),
        ("1 query  f32 1 thread", med("f32-1-t1", "ms_per_pass"), fs, ""),
    ]
    print(f"{'case':<24}{'Go ms':>10}{'FAISS ms':>10}{'Go/FAISS':>10}  target")
    for name, g, f, target in rows:
        print(f"{name:<24}{g:>10.2f}{f:>10.2f}{g / f:>10.3f}  {target}")
    print()
    # The fastest repetition of all rounds: the least disturbed by other load.
    best = lambda name, key: min(x[key] for x in runs[name])
    fs1, fb1 = best("faiss", "single_ms_min"), best("faiss", "batch_ms_min")
    print("best repetition over all rounds (least disturbed by other load):")
    for name, key, f in (("1 query  f32", "f32-1", fs1), ("1 query  int8", "int8-1", fs1),
                         (f"{q} queries f32", "f32-Q", fb1), (f"{q} queries int8", "int8-Q", fb1),
                         ("1 query  f32 1 thread", "f32-1-t1", fs1)):
        g = best(key, "ms_per_pass_min")
        print(f"{name:<24}{g:>10.2f}{f:>10.2f}{g / f:>10.3f}")
    print(f"int8/f32, 1 query, best:   {best('int8-1', 'ms_per_pass_min') / best('f32-1', 'ms_per_pass_min'):.3f}")
    print()
    f32, i8 = med("f32-1", "ms_per_pass"), med("int8-1", "ms_per_pass")
    print(f"int8/f32, 1 query:         {i8 / f32:.3f}  (target <= 0.35)")
    # int8 runs right after f32 in each round, so their ratio per round is
    # the least exposed to the load changing between rounds.
    per = [runs["int8-1"][r]["ms_per_pass"] / runs["f32-1"][r]["ms_per_pass"] for r in range(rounds)]
    print(f"int8/f32, 1 query, per round: {' '.join(f'{x:.3f}' for x in per)} (median {statistics.median(per):.3f})")
    if all(runs[n][r].get("cpu_ms_per_pass", 0) > 0 for n in ("f32-1", "int8-1") for r in range(rounds)):
        cf, ci = med("f32-1", "cpu_ms_per_pass"), med("int8-1", "cpu_ms_per_pass")
        print(f"int8/f32, 1 query, CPU time: {ci:.2f} / {cf:.2f} ms = {ci / cf:.3f} "
              f"(streaming read: {med('int8-1', 'cpu_ms_read'):.2f} / {med('f32-1', 'cpu_ms_read'):.2f} ms; all threads, medians)")
    print(f"f32 1 query scan:          {med('f32-1', 'gb_per_s'):.2f} GB/s; plain streaming read "
          f"{med('f32-1', 'read_gb_per_s'):.2f} GB/s; {med('f32-1', 'pct_of_read'):.0f}% of it (target >= 70%)")
    print(f"int8 1 query scan:         {med('int8-1', 'gb_per_s'):.2f} GB/s; plain streaming read "
          f"{med('int8-1', 'read_gb_per_s'):.2f} GB/s; {med('int8-1', 'pct_of_read'):.0f}% of it")
    print(f"{q} queries comparisons/s: f32 {med('f32-Q', 'comparisons_per_s'):.3g}, int8 {med('int8-Q', 'comparisons_per_s'):.3g}")
    print(f"int8 re-ranked per query: {runs['int8-1'][0]['reranked']} (1 query), {runs['int8-Q'][0]['reranked']} ({q} queries); "
          f"certified second passes: {sum(x['fallbacks'] for x in runs['int8-1'])}, {sum(x['fallbacks'] for x in runs['int8-Q'])}")
    for r in range(rounds):
        try:
            with open(os.path.join(d, f"round-{r}", "load-start")) as f0, open(os.path.join(d, f"round-{r}", "load-end")) as f1:
                print(f"round {r + 1} load average: {f0.read().strip()} -> {f1.read().strip()}")
        except FileNotFoundError:
            pass
    same = lambda a, b: sum(1 for x, y in zip(a, b) if x == y)
    t1 = runs["f32-1"][0]["top1"]
    print(f"top-1: int8 == f32 (1 query): {runs['int8-1'][0]['top1'] == t1}; "
          f"f32 == FAISS: {same(t1, fa['top1_single'])}/1; "
          f"{q} queries int8 == f32: {same(runs['int8-Q'][0]['top1'], runs['f32-Q'][0]['top1'])}/{q}, "
          f"f32 == FAISS: {same(runs['f32-Q'][0]['top1'], fa['top1_batch'])}/{q}")


if __name__ == "__main__":
    main()
