// RagPlatform's own C boundary over the FAISS C++ API (Debian's libfaiss-dev 1.7.3 ships no C API).
// Every function returns a status code and never lets a C++ exception cross into .NET: an exception
// unwinding through a P/Invoke frame would tear the process down.
#include <faiss/Index.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>

#include <omp.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <string>

namespace {

constexpr int kOk = 0;
constexpr int kError = 1;
constexpr int kUnsupported = 2;

void set_error(char* buffer, size_t size, const char* message) {
    if (buffer == nullptr || size == 0) {
        return;
    }
    std::snprintf(buffer, size, "%s", message);
}

// Runs body, turning every exception into a status code and a message the caller can read.
template <typename Body>
int guarded(char* error, size_t error_size, Body&& body) {
    try {
        return body();
    } catch (const faiss::FaissException& e) {
        set_error(error, error_size, e.what());
    } catch (const std::bad_alloc&) {
        set_error(error, error_size, "out of memory");
    } catch (const std::exception& e) {
        set_error(error, error_size, e.what());
    } catch (...) {
        set_error(error, error_size, "unknown C++ exception");
    }
    return kError;
}

faiss::IndexIDMap2* as_map(void* handle) {
    return static_cast<faiss::IndexIDMap2*>(handle);
}

// The index under the id map, when it is an HNSW graph (their parameters live there).
faiss::IndexHNSW* hnsw_of(faiss::IndexIDMap2* map) {
    return dynamic_cast<faiss::IndexHNSW*>(map->index);
}

}  // namespace

#define RAGFAISS_API __attribute__((visibility("default")))

extern "C" {

// Bumped when a signature changes, so a stale library is refused instead of misbehaving.
RAGFAISS_API int ragfaiss_abi_version() { return 1; }

// metric: 0 = inner product, 1 = squared L2. The index always gets 64-bit caller ids (IndexIDMap2,
// which also keeps the reverse map so remove_ids and reconstruct work by id).
RAGFAISS_API int ragfaiss_create(const char* factory, int dimensions, int metric, void** out, char* error, size_t error_size) {
    return guarded(error, error_size, [&] {
        *out = nullptr;
        faiss::MetricType type = metric == 1 ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT;
        faiss::Index* inner = faiss::index_factory(dimensions, factory, type);
        auto* map = new (std::nothrow) faiss::IndexIDMap2(inner);
        if (map == nullptr) {
            delete inner;
            set_error(error, error_size, "out of memory");
            return kError;
        }
        map->own_fields = true;
        *out = map;
        return kOk;
    });
}

// Non-positive values leave a parameter unchanged. Returns kUnsupported for indexes that are not HNSW.
RAGFAISS_API int ragfaiss_set_hnsw(void* handle, int ef_search, int ef_construction, char* error, size_t error_size) {
    return guarded(error, error_size, [&] {
        faiss::IndexHNSW* hnsw = hnsw_of(as_map(handle));
        if (hnsw == nullptr) {
            return kUnsupported;
        }
        if (ef_search > 0) {
            hnsw->hnsw.efSearch = ef_search;
        }
        if (ef_construction > 0) {
            hnsw->hnsw.efConstruction = ef_construction;
        }
        return kOk;
    });
}

RAGFAISS_API int ragfaiss_is_trained(void* handle) { return as_map(handle)->is_trained ? 1 : 0; }

RAGFAISS_API int ragfaiss_train(void* handle, int64_t n, const float* vectors, char* error, size_t error_size) {
    return guarded(error, error_size, [&] {
        as_map(handle)->train(n, vectors);
        return kOk;
    });
}

RAGFAISS_API int ragfaiss_add(void* handle, int64_t n, const float* vectors, const int64_t* ids, char* error, size_t error_size) {
    return guarded(error, error_size, [&] {
        static_assert(sizeof(faiss::Index::idx_t) == sizeof(int64_t), "FAISS ids must be 64-bit");
        as_map(handle)->add_with_ids(n, vectors, reinterpret_cast<const faiss::Index::idx_t*>(ids));
        return kOk;
    });
}

// n queries, k results each; missing results have label -1.
RAGFAISS_API int ragfaiss_search(void* handle, int64_t n, const float* queries, int64_t k, float* distances, int64_t* labels,
                    char* error, size_t error_size) {
    return guarded(error, error_size, [&] {
        // One query is answered on the calling thread: the .NET side already searches in parallel
        // (one caller per thread), and an OpenMP team per single query would only add overhead.
        const int previous = omp_get_max_threads();
        if (n == 1) {
            omp_set_num_threads(1);
        }
        try {
            as_map(handle)->search(n, queries, k, distances, reinterpret_cast<faiss::Index::idx_t*>(labels));
        } catch (...) {
            omp_set_num_threads(previous);
            throw;
        }
        omp_set_num_threads(previous);
        return kOk;
    });
}

// Returns kUnsupported (and changes nothing) for index types that cannot remove, such as HNSW in 1.7.3.
RAGFAISS_API int ragfaiss_remove(void* handle, int64_t n, const int64_t* ids, int64_t* removed, char* error, size_t error_size) {
    return guarded(error, error_size, [&] {
        *removed = 0;
        faiss::IndexIDMap2* map = as_map(handle);
        if (hnsw_of(map) != nullptr) {
            set_error(error, error_size, "HNSW indexes cannot remove vectors");
            return kUnsupported;
        }
        faiss::IDSelectorBatch selector(n, reinterpret_cast<const faiss::Index::idx_t*>(ids));
        *removed = static_cast<int64_t>(map->remove_ids(selector));
        return kOk;
    });
}

RAGFAISS_API int64_t ragfaiss_ntotal(void* handle) { return as_map(handle)->ntotal; }

RAGFAISS_API int ragfaiss_write(void* handle, const char* path, char* error, size_t error_size) {
    return guarded(error, error_size, [&] {
        faiss::write_index(as_map(handle), path);
        return kOk;
    });
}

// Only files this library wrote are accepted: the id map must be the outer index.
RAGFAISS_API int ragfaiss_read(const char* path, void** out, char* error, size_t error_size) {
    return guarded(error, error_size, [&] {
        *out = nullptr;
        faiss::Index* index = faiss::read_index(path);
        auto* map = dynamic_cast<faiss::IndexIDMap2*>(index);
        if (map == nullptr) {
            delete index;
            set_error(error, error_size, "the file does not hold an IndexIDMap2 written by ragfaiss");
            return kError;
        }
        *out = map;
        return kOk;
    });
}

RAGFAISS_API void ragfaiss_free(void* handle) { delete as_map(handle); }

}  // extern "C"
