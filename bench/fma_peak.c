/* The machine's FMA peak: independent fused multiply-adds on 512-bit (AVX-512F) and 256-bit
 * (AVX2) registers, on 1 and 2 threads. Twelve accumulators per thread cover the FMA latency
 * on both units. The ceiling every GEMM figure in bench/README.md is compared with.
 *
 *   gcc -O3 -march=native -pthread bench/fma_peak.c -o /tmp/fma_peak && /tmp/fma_peak
 *
 * (On a CPU without AVX-512 build with -mavx2 -mfma and ignore the avx512 lines: they would
 * fault.) */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#define STEPS 12500000L /* per accumulator */

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *run512(void *out) {
    __m512 acc[12];
    for (int i = 0; i < 12; i++) acc[i] = _mm512_set1_ps((float)i);
    __m512 x = _mm512_set1_ps(1.0000001f), y = _mm512_set1_ps(0.999999f);
    for (long s = 0; s < STEPS; s++)
        for (int j = 0; j < 12; j++) acc[j] = _mm512_fmadd_ps(acc[j], x, y);
    float sum = 0;
    for (int i = 0; i < 12; i++) sum += _mm512_reduce_add_ps(acc[i]);
    *(float *)out = sum; /* keeps the loop alive */
    return 0;
}

static void *run256(void *out) {
    __m256 acc[12];
    for (int i = 0; i < 12; i++) acc[i] = _mm256_set1_ps((float)i);
    __m256 x = _mm256_set1_ps(1.0000001f), y = _mm256_set1_ps(0.999999f);
    for (long s = 0; s < STEPS; s++)
        for (int j = 0; j < 12; j++) acc[j] = _mm256_fmadd_ps(acc[j], x, y);
    float lanes[8], sum = 0;
    for (int i = 0; i < 12; i++) {
        _mm256_storeu_ps(lanes, acc[i]);
        sum += lanes[0];
    }
    *(float *)out = sum;
    return 0;
}

int main(void) {
    float sink[2];
    for (int wide = 1; wide >= 0; wide--) {
        int lanes = wide ? 16 : 8;
        for (int threads = 1; threads <= 2; threads++) {
            pthread_t t[2];
            double start = now();
            for (int i = 0; i < threads; i++) pthread_create(&t[i], 0, wide ? run512 : run256, &sink[i]);
            for (int i = 0; i < threads; i++) pthread_join(t[i], 0);
            double flops = 2.0 * lanes * 12 * STEPS * threads;
            printf("%s, %d thread%s: %.1f GFLOP/s\n", wide ? "avx512" : "avx2  ", threads, threads > 1 ? "s" : "",
                   flops / (now() - start) / 1e9);
        }
    }
    return 0;
}
