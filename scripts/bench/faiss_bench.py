"""Half of scripts/bench-faiss.sh: the vectors, the exact answers and Debian's python3-faiss figures.

  /usr/bin/python3 faiss_bench.py generate DIR N DIM QUERIES SEED [uniform|lowrank]   -> DIR/{base,queries}.f32, DIR/truth.i64

uniform: isotropic random unit vectors, the worst case for a graph index (every point is about equally far
from every other). lowrank: unit vectors near a random 32-dimensional subspace (plus 10% noise), closer to how
text-embedding vectors are spread (their intrinsic dimension is far below 384).
  /usr/bin/python3 faiss_bench.py search DIR INDEX_FILE EF_SEARCH     -> one JSON line of figures
"""
import json
import sys
import time

import faiss
import numpy as np


def unit(rows):
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def generate(directory, n, dim, queries, seed, kind="uniform"):
    rng = np.random.default_rng(seed)
    if kind == "lowrank":
        basis = rng.standard_normal((32, dim))
        def draw(count):
            return rng.standard_normal((count, 32)) @ basis + 0.1 * np.sqrt(32) * rng.standard_normal((count, dim))
    else:
        def draw(count):
            return rng.uniform(-1, 1, (count, dim))
    base = unit(draw(n).astype(np.float32)).astype(np.float32)
    query = unit(draw(queries).astype(np.float32)).astype(np.float32)
    exact = faiss.IndexFlatIP(dim)
    exact.add(base)
    _, truth = exact.search(query, 10)
    base.tofile(f"{directory}/base.f32")
    query.tofile(f"{directory}/queries.f32")
    truth.astype(np.int64).tofile(f"{directory}/truth.i64")


def search(directory, index_path, ef_search):
    """Single-query QPS and recall@10 of python3-faiss on the very index file the plugin wrote."""
    truth = np.fromfile(f"{directory}/truth.i64", dtype=np.int64).reshape(-1, 10)
    query = np.fromfile(f"{directory}/queries.f32", dtype=np.float32).reshape(len(truth), -1)
    index = faiss.read_index(index_path)
    faiss.downcast_index(faiss.downcast_index(index).index).hnsw.efSearch = ef_search
    default_threads = faiss.omp_get_max_threads()
    figures = {}
    # Single queries with FAISS's default OpenMP threads, and with one thread (what the plugin's shim
    # does for one query); the better of the two is the reference the plugin is held to.
    for threads in (default_threads, 1):
        faiss.omp_set_num_threads(threads)
        labels = np.empty_like(truth)
        for i in range(min(50, len(query))):  # warm-up
            index.search(query[i:i + 1], 10)
        started = time.perf_counter()
        for i in range(len(query)):
            _, found = index.search(query[i:i + 1], 10)
            labels[i] = found[0]
        elapsed = time.perf_counter() - started
        recall = np.mean([len(set(labels[i]) & set(truth[i])) / 10 for i in range(len(truth))])
        figures[threads] = (len(query) / elapsed, float(recall))
    best = max(figures, key=lambda t: figures[t][0])
    print(json.dumps({"engine": "python3-faiss " + faiss.__version__, "qps": round(figures[best][0], 1),
                      "recall_at_10": round(figures[best][1], 4),
                      "qps_by_omp_threads": {str(t): round(q, 1) for t, (q, _) in figures.items()}}))


if __name__ == "__main__":
    if sys.argv[1] == "generate":
        generate(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), *sys.argv[7:8])
    else:
        search(sys.argv[2], sys.argv[3], int(sys.argv[4]))
