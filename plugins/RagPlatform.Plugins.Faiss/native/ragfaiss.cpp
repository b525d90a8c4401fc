// RagPlatform's own C boundary over the FAISS C++ API (Debian's libfaiss-dev 1.7.3 ships no C API).
// Every function returns a status code and never lets a C++ exception cross into .NET: an exception
// unwinding through a P/Invoke frame would tear the process down.
#include <faiss/Index.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/DistanceComputer.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>

#include <immintrin.h>
#include <omp.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <typeinfo>
#include <utility>

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

// ---- distances -------------------------------------------------------------------------------------
//
// Debian's libfaiss.a is built for the x86-64 baseline (SSE2, no SSE3), where FAISS 1.7.3 compiles its
// fvec_inner_product and fvec_L2sqr as the scalar reference loops: profiled under `rag bench query`, 60% of
// an HNSW32 ingest's CPU time was faiss::fvec_inner_product_ref. The HNSW graph reaches its vectors only
// through the storage's DistanceComputer (a virtual call), so the shim gives the flat storage under an HNSW
// index its own computer: AVX-512 or AVX2+FMA kernels chosen once at run time from the CPU, the scalar
// loop where neither is present. The stored data, the file format and the graph are FAISS's own; only the
// summation order of a distance changes (results agree to float rounding).

float dot_scalar(const float* a, const float* b, size_t d) {
    float sum = 0;
    for (size_t i = 0; i < d; i++) {
        sum += a[i] * b[i];
    }
    return sum;
}

float l2_scalar(const float* a, const float* b, size_t d) {
    float sum = 0;
    for (size_t i = 0; i < d; i++) {
        const float diff = a[i] - b[i];
        sum += diff * diff;
    }
    return sum;
}

__attribute__((target("avx2,fma"))) float hsum256(__m256 v) {
    __m128 low = _mm256_castps256_ps128(v);
    __m128 high = _mm256_extractf128_ps(v, 1);
    low = _mm_add_ps(low, high);
    low = _mm_add_ps(low, _mm_movehl_ps(low, low));
    low = _mm_add_ss(low, _mm_shuffle_ps(low, low, 1));
    return _mm_cvtss_f32(low);
}

__attribute__((target("avx2,fma"))) float dot_avx2(const float* a, const float* b, size_t d) {
    __m256 s0 = _mm256_setzero_ps();
    __m256 s1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= d; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    }
    for (; i + 8 <= d; i += 8) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    }
    float sum = hsum256(_mm256_add_ps(s0, s1));
    for (; i < d; i++) {
        sum += a[i] * b[i];
    }
    return sum;
}

__attribute__((target("avx2,fma"))) float l2_avx2(const float* a, const float* b, size_t d) {
    __m256 s0 = _mm256_setzero_ps();
    __m256 s1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= d; i += 16) {
        const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        const __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
        s0 = _mm256_fmadd_ps(d0, d0, s0);
        s1 = _mm256_fmadd_ps(d1, d1, s1);
    }
    for (; i + 8 <= d; i += 8) {
        const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        s0 = _mm256_fmadd_ps(d0, d0, s0);
    }
    float sum = hsum256(_mm256_add_ps(s0, s1));
    for (; i < d; i++) {
        const float diff = a[i] - b[i];
        sum += diff * diff;
    }
    return sum;
}

__attribute__((target("avx512f"))) float dot_avx512(const float* a, const float* b, size_t d) {
    __m512 s0 = _mm512_setzero_ps();
    __m512 s1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= d; i += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
    }
    if (i + 16 <= d) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        i += 16;
    }
    if (i < d) {
        const __mmask16 mask = static_cast<__mmask16>((1u << (d - i)) - 1);
        s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, a + i), _mm512_maskz_loadu_ps(mask, b + i), s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

__attribute__((target("avx512f"))) float l2_avx512(const float* a, const float* b, size_t d) {
    __m512 s0 = _mm512_setzero_ps();
    __m512 s1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= d; i += 32) {
        const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
        const __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
        s0 = _mm512_fmadd_ps(d0, d0, s0);
        s1 = _mm512_fmadd_ps(d1, d1, s1);
    }
    if (i + 16 <= d) {
        const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
        s0 = _mm512_fmadd_ps(d0, d0, s0);
        i += 16;
    }
    if (i < d) {
        const __mmask16 mask = static_cast<__mmask16>((1u << (d - i)) - 1);
        const __m512 d0 = _mm512_sub_ps(_mm512_maskz_loadu_ps(mask, a + i), _mm512_maskz_loadu_ps(mask, b + i));
        s1 = _mm512_fmadd_ps(d0, d0, s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

using Kernel = float (*)(const float*, const float*, size_t);

struct Kernels {
    Kernel dot;
    Kernel l2;
    const char* name;
};

Kernels pick_kernels() {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) {
        return {dot_avx512, l2_avx512, "avx512"};
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        return {dot_avx2, l2_avx2, "avx2"};
    }
    return {dot_scalar, l2_scalar, "scalar"};
}

const Kernels& kernels() {
    static const Kernels chosen = pick_kernels();
    return chosen;
}

// FAISS's flat-storage distance computer with the kernels above (inner product: larger is nearer, as
// FAISS's own; IndexHNSW negates it for its min-heaps).
struct SimdFlatDistance final : faiss::FlatCodesDistanceComputer {
    const float* base;
    size_t d;
    bool inner_product;
    Kernel kernel;
    const float* query = nullptr;

    SimdFlatDistance(const faiss::IndexFlat& storage)
            : faiss::FlatCodesDistanceComputer(storage.codes.data(), storage.code_size),
              base(storage.get_xb()),
              d(static_cast<size_t>(storage.d)),
              inner_product(storage.metric_type == faiss::METRIC_INNER_PRODUCT),
              kernel(inner_product ? kernels().dot : kernels().l2) {}

    void set_query(const float* x) override { query = x; }

    float distance_to_code(const uint8_t* code) override {
        return kernel(query, reinterpret_cast<const float*>(code), d);
    }

    float symmetric_dis(idx_t i, idx_t j) override { return kernel(base + i * d, base + j * d, d); }
};

// IndexFlat whose distance computer is SimdFlatDistance. It is written to disk as the IndexFlat it is
// (FAISS's writer dispatches by dynamic_cast), and put back under the graph after a read.
struct SimdFlat final : faiss::IndexFlat {
    SimdFlat(idx_t d, faiss::MetricType metric) : faiss::IndexFlat(d, metric) {}

    faiss::FlatCodesDistanceComputer* get_FlatCodesDistanceComputer() const override {
        return new SimdFlatDistance(*this);
    }
};

// Gives an HNSW index over plain flat storage (the "HNSW32,Flat" family) the SIMD distance computer. The
// vectors move, they are not copied. Other indexes are left as they are.
void use_simd_storage(faiss::Index* index) {
    auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(index);
    if (hnsw == nullptr || hnsw->storage == nullptr) {
        return;
    }
    auto* flat = dynamic_cast<faiss::IndexFlat*>(hnsw->storage);
    const std::type_info& type = typeid(*hnsw->storage);
    if (flat == nullptr || !(type == typeid(faiss::IndexFlat) || type == typeid(faiss::IndexFlatIP) || type == typeid(faiss::IndexFlatL2))) {
        return;
    }
    if (flat->metric_type != faiss::METRIC_INNER_PRODUCT && flat->metric_type != faiss::METRIC_L2) {
        return;
    }
    auto* simd = new SimdFlat(flat->d, flat->metric_type);
    simd->codes = std::move(flat->codes);
    simd->ntotal = flat->ntotal;
    simd->is_trained = flat->is_trained;
    simd->metric_arg = flat->metric_arg;
    if (hnsw->own_fields) {
        delete flat;
    }
    hnsw->storage = simd;
    hnsw->own_fields = true;
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
RAGFAISS_API int ragfaiss_abi_version() { return 2; }

// metric: 0 = inner product, 1 = squared L2. The index always gets 64-bit caller ids (IndexIDMap2,
// which also keeps the reverse map so remove_ids and reconstruct work by id).
RAGFAISS_API int ragfaiss_create(const char* factory, int dimensions, int metric, void** out, char* error, size_t error_size) {
    return guarded(error, error_size, [&] {
        *out = nullptr;
        faiss::MetricType type = metric == 1 ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT;
        faiss::Index* inner = faiss::index_factory(dimensions, factory, type);
        use_simd_storage(inner);
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
        use_simd_storage(map->index);
        *out = map;
        return kOk;
    });
}

// The distance kernels this process uses for HNSW over flat storage: "avx512", "avx2" or "scalar".
RAGFAISS_API const char* ragfaiss_distance_kernels() { return kernels().name; }

RAGFAISS_API void ragfaiss_free(void* handle) { delete as_map(handle); }

}  // extern "C"
