"""Half of scripts/bench-embedded.sh: Debian's python3-faiss IndexFlatIP on the vectors faiss_bench.py generated.

  /usr/bin/python3 flat_bench.py DIR BATCH   -> one JSON line: single-query QPS and batch QPS (BATCH queries per call)
"""
import json
import sys
import time

import faiss
import numpy as np


def main(directory, batch):
    truth = np.fromfile(f"{directory}/truth.i64", dtype=np.int64).reshape(-1, 10)
    query = np.fromfile(f"{directory}/queries.f32", dtype=np.float32).reshape(len(truth), -1)
    base = np.fromfile(f"{directory}/base.f32", dtype=np.float32).reshape(-1, query.shape[1])
    index = faiss.IndexFlatIP(query.shape[1])
    index.add(base)
    default_threads = faiss.omp_get_max_threads()
    single = {}
    # Single queries with FAISS's default OpenMP threads and with one; the better of the two is the reference.
    for threads in (default_threads, 1):
        faiss.omp_set_num_threads(threads)
        for i in range(min(20, len(query))):  # warm-up
            index.search(query[i:i + 1], 10)
        labels = np.empty_like(truth)
        started = time.perf_counter()
        for i in range(len(query)):
            _, found = index.search(query[i:i + 1], 10)
            labels[i] = found[0]
        single[threads] = len(query) / (time.perf_counter() - started)
        recall = np.mean([len(set(labels[i]) & set(truth[i])) / 10 for i in range(len(truth))])
    # BATCH queries per call (FAISS computes them with one BLAS sgemm from 20 queries on), default threads.
    faiss.omp_set_num_threads(default_threads)
    index.search(query[:batch], 10)  # warm-up
    started = time.perf_counter()
    done = 0
    for start in range(0, len(query) - batch + 1, batch):
        index.search(query[start:start + batch], 10)
        done += batch
    batched = done / (time.perf_counter() - started)
    print(json.dumps({"engine": "python3-faiss " + faiss.__version__ + " IndexFlatIP",
                      "qps": round(max(single.values()), 1), "batch": batch,
                      "batch_qps": round(batched, 1), "recall_at_10": round(float(recall), 4),
                      "qps_by_omp_threads": {str(t): round(q, 1) for t, q in single.items()},
                      "omp_threads": default_threads}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
