// retrieve-faiss.cpp: FAISS's exact IndexFlatIP on an fa store, for
// bench/b10-retrieve.sh (not part of fa). Built twice: against Debian's
// libfaiss and against the AVX2 build from Debian's source package.
//
//   retrieve-faiss STOREDIR QFILE K REPS OUTPREFIX
//
// Adds the store's rows to an IndexFlatIP, then for 1 and 16 queries on 1
// and 2 OpenMP threads prints "q<NQ> t<T> <best seconds>" and writes the
// top-k ids, one query a line, to OUTPREFIX.q<NQ>.t<T>.
#include <faiss/IndexFlat.h>
#include <omp.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

static double now()
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        std::fprintf(stderr, "usage: retrieve-faiss STOREDIR QFILE K REPS OUTPREFIX\n");
        return 2;
    }
    std::string vp = std::string(argv[1]) + "/vectors.f32";
    int fd = open(vp.c_str(), O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        std::perror(vp.c_str());
        return 1;
    }
    unsigned char h[256];
    if (pread(fd, h, sizeof h, 0) != (ssize_t)sizeof h || std::memcmp(h, "FASTORE", 8) != 0) {
        std::fprintf(stderr, "%s: not an fa store\n", vp.c_str());
        return 1;
    }
    uint32_t dim;
    uint64_t n;
    std::memcpy(&dim, h + 16, 4);
    std::memcpy(&n, h + 24, 8);
    void *m = mmap(nullptr, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        std::perror("mmap");
        return 1;
    }
    const float *rows = (const float *)((const char *)m + 256);
    int k = std::atoi(argv[3]), reps = std::atoi(argv[4]);
    std::vector<float> q(16 * (size_t)dim);
    FILE *qf = std::fopen(argv[2], "rb");
    if (!qf || std::fread(q.data(), sizeof(float), q.size(), qf) != q.size()) {
        std::fprintf(stderr, "%s: short query file\n", argv[2]);
        return 1;
    }
    std::fclose(qf);
    faiss::IndexFlatIP index(dim);
    double t0 = now();
    index.add((faiss::Index::idx_t)n, rows);
    std::printf("add %.3f\n", now() - t0);
    munmap(m, (size_t)st.st_size);
    close(fd);
    std::vector<float> D(16 * (size_t)k);
    std::vector<faiss::Index::idx_t> I(16 * (size_t)k);
    for (int nq : {1, 16})
        for (int t : {1, 2}) {
            omp_set_num_threads(t);
            double best = 1e30;
            for (int r = 0; r <= reps; r++) {
                double s = now();
                index.search(nq, q.data(), k, D.data(), I.data());
                double dt = now() - s;
                if (r > 0 && dt < best)
                    best = dt;
            }
            std::printf("q%d t%d %.6f\n", nq, t, best);
            std::string op =
                std::string(argv[5]) + ".q" + std::to_string(nq) + ".t" + std::to_string(t);
            FILE *o = std::fopen(op.c_str(), "w");
            for (int j = 0; j < nq; j++) {
                for (int i = 0; i < k; i++)
                    std::fprintf(o, "%s%lld", i ? " " : "", (long long)I[(size_t)j * k + i]);
                std::fputc('\n', o);
            }
            std::fclose(o);
        }
    return 0;
}
