"""The anchor of `rag bench query --backend`: Debian's python3-faiss on the vectors the CLI generated.

Shipped inside the rag CLI (an embedded resource) and written next to the vectors for each run; run with
/usr/bin/python3 (Debian's interpreter, the one python3-faiss installs into). The CLI wrote, in DIR:
base.f32 (N x D float32, row i is point i), queries.f32 (Q x D float32) and truth.i64 (Q x 10 int64, the
exact top-10 rows of each query, computed by the CLI). Prints one JSON line.

  faiss_anchor.py version                          the FAISS version (and fails fast when faiss is missing)
  faiss_anchor.py hnsw DIR D INDEX_FILE EF_SEARCH  searches the index file the RagPlatform faiss plugin wrote
  faiss_anchor.py flat DIR D BATCH                 IndexFlatIP on base.f32: single queries, then BATCH per call
"""
import json
import sys
import time

try:
    import faiss
    import numpy as np
except ImportError as missing:
    print(f"python3-faiss is not importable ({missing})", file=sys.stderr)
    sys.exit(3)

WARM_UP = 50


def load(directory, dimensions):
    truth = np.fromfile(f"{directory}/truth.i64", dtype=np.int64).reshape(-1, 10)
    queries = np.fromfile(f"{directory}/queries.f32", dtype=np.float32).reshape(len(truth), dimensions)
    return queries, truth


def recall(labels, truth):
    return float(np.mean([len(set(labels[i]) & set(truth[i])) / 10 for i in range(len(truth))]))


def single_queries(index, queries, truth):
    """One query per call, with FAISS's default OpenMP threads and with one (what the plugin's shim does for a
    single query); the faster of the two is the figure the RagPlatform side is held to."""
    default_threads = faiss.omp_get_max_threads()
    figures = {}
    for threads in sorted({default_threads, 1}, reverse=True):
        faiss.omp_set_num_threads(threads)
        for i in range(min(WARM_UP, len(queries))):
            index.search(queries[i:i + 1], 10)
        labels = np.empty_like(truth)
        started = time.perf_counter()
        for i in range(len(queries)):
            _, found = index.search(queries[i:i + 1], 10)
            labels[i] = found[0]
        figures[threads] = (len(queries) / (time.perf_counter() - started), recall(labels, truth))
    faiss.omp_set_num_threads(default_threads)
    best = max(figures, key=lambda t: figures[t][0])
    return {
        "qps": figures[best][0],
        "recallAt10": figures[best][1],
        "ompThreads": default_threads,
        "qpsByOmpThreads": {str(t): round(q, 1) for t, (q, _) in figures.items()},
    }


def hnsw(directory, dimensions, index_file, ef_search):
    queries, truth = load(directory, dimensions)
    index = faiss.read_index(index_file)
    # The plugin wraps its index in an id map (IndexIDMap2 around IndexHNSWFlat); efSearch lives on the graph.
    inner = faiss.downcast_index(faiss.downcast_index(index).index)
    graph = getattr(inner, "hnsw", None)  # other factory strings (Flat, IVF…) have no efSearch
    if graph is not None:
        graph.efSearch = ef_search
    figures = single_queries(index, queries, truth)
    figures.update({"efSearch": graph.efSearch if graph is not None else None, "vectors": int(index.ntotal)})
    return figures


def flat(directory, dimensions, batch):
    queries, truth = load(directory, dimensions)
    base = np.fromfile(f"{directory}/base.f32", dtype=np.float32).reshape(-1, dimensions)
    index = faiss.IndexFlatIP(dimensions)
    index.add(base)
    figures = single_queries(index, queries, truth)
    # BATCH queries per call with the default threads: FAISS answers 20 or more at once with one BLAS sgemm.
    batch = min(batch, len(queries))
    index.search(queries[:batch], 10)  # warm-up
    labels = np.empty_like(truth)
    done = 0
    started = time.perf_counter()
    for start in range(0, len(queries) - batch + 1, batch):
        _, found = index.search(queries[start:start + batch], 10)
        labels[start:start + batch] = found
        done += batch
    figures.update({
        "batch": batch,
        "batchQps": done / (time.perf_counter() - started),
        "batchRecallAt10": recall(labels[:done], truth[:done]),
        "vectors": int(index.ntotal),
    })
    return figures


def blas():
    """The BLAS this process loaded: Debian's reference libblas3 makes IndexFlatIP's batch path (a matrix
    product) several times slower than OpenBLAS would (apt-get install -y libopenblas0-pthread)."""
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "blas" in line and "/" in line}
    if any("openblas" in path for path in paths):
        return "OpenBLAS"
    if any("blis" in path for path in paths):
        return "BLIS"
    if any("mkl" in path for path in paths):
        return "MKL"
    return "reference BLAS" if paths else "no BLAS loaded"


def main(args):
    if args[0] == "version":
        result = {}
    elif args[0] == "hnsw":
        result = hnsw(args[1], int(args[2]), args[3], int(args[4]))
    elif args[0] == "flat":
        result = flat(args[1], int(args[2]), int(args[3]))
    else:
        print(f"unknown mode {args[0]!r}", file=sys.stderr)
        return 2
    result["engine"] = f"python3-faiss {faiss.__version__} ({blas()})"
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
