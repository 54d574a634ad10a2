// Internal: the per-type row functions behind `ops(type)` (quant.h is the public face). One
// name per (operation, type); the *_avx2 variants exist only on x86-64 and are selected at run
// time by quant.cpp. All take whole rows: n is a multiple of the type's block size.
#pragma once

#include <cstdint>

namespace ingot::quant::kernels {

// --- dequantize (dequantize.cpp, dequantize_k.cpp) ---
void dequantize_f32(const void* src, float* dst, int64_t n);
void dequantize_f16(const void* src, float* dst, int64_t n);
void dequantize_bf16(const void* src, float* dst, int64_t n);
void dequantize_q4_0(const void* src, float* dst, int64_t n);
void dequantize_q4_1(const void* src, float* dst, int64_t n);
void dequantize_q5_0(const void* src, float* dst, int64_t n);
void dequantize_q5_1(const void* src, float* dst, int64_t n);
void dequantize_q8_0(const void* src, float* dst, int64_t n);
void dequantize_q8_1(const void* src, float* dst, int64_t n);
void dequantize_mxfp4(const void* src, float* dst, int64_t n);
void dequantize_iq4_nl(const void* src, float* dst, int64_t n);
void dequantize_q2_k(const void* src, float* dst, int64_t n);
void dequantize_q3_k(const void* src, float* dst, int64_t n);
void dequantize_q4_k(const void* src, float* dst, int64_t n);
void dequantize_q5_k(const void* src, float* dst, int64_t n);
void dequantize_q6_k(const void* src, float* dst, int64_t n);
void dequantize_q8_k(const void* src, float* dst, int64_t n);
void dequantize_iq4_xs(const void* src, float* dst, int64_t n);

// --- quantize, bit-exact with ggml's reference quantizers (quantize_*.cpp) ---
void quantize_f32(const float* src, void* dst, int64_t n);
void quantize_f16(const float* src, void* dst, int64_t n);
void quantize_bf16(const float* src, void* dst, int64_t n);
void quantize_q4_0(const float* src, void* dst, int64_t n);
void quantize_q4_1(const float* src, void* dst, int64_t n);
void quantize_q5_0(const float* src, void* dst, int64_t n);
void quantize_q5_1(const float* src, void* dst, int64_t n);
void quantize_q8_0(const float* src, void* dst, int64_t n);
void quantize_q8_1(const float* src, void* dst, int64_t n);
void quantize_mxfp4(const float* src, void* dst, int64_t n);
void quantize_q2_k(const float* src, void* dst, int64_t n);
void quantize_q3_k(const float* src, void* dst, int64_t n);
void quantize_q4_k(const float* src, void* dst, int64_t n);
void quantize_q5_k(const float* src, void* dst, int64_t n);
void quantize_q6_k(const float* src, void* dst, int64_t n);
void quantize_q8_k(const float* src, void* dst, int64_t n);
void quantize_iq4_nl(const float* src, void* dst, int64_t n);
void quantize_iq4_xs(const float* src, void* dst, int64_t n);

// --- dot products, scalar reference (vec_dot.cpp, vec_dot_k.cpp) ---
float dot_f32(int64_t n, const void* w, const void* a);
float dot_f16(int64_t n, const void* w, const void* a);
float dot_bf16(int64_t n, const void* w, const void* a);
float dot_q4_0(int64_t n, const void* w, const void* a);  // with Q8_0
float dot_q4_1(int64_t n, const void* w, const void* a);  // with Q8_1
float dot_q5_0(int64_t n, const void* w, const void* a);  // with Q8_0
float dot_q5_1(int64_t n, const void* w, const void* a);  // with Q8_1
float dot_q8_0(int64_t n, const void* w, const void* a);  // with Q8_0
float dot_mxfp4(int64_t n, const void* w, const void* a);  // with Q8_0
float dot_iq4_nl(int64_t n, const void* w, const void* a);  // with Q8_0
float dot_q2_k(int64_t n, const void* w, const void* a);  // with Q8_K (all below)
float dot_q3_k(int64_t n, const void* w, const void* a);
float dot_q4_k(int64_t n, const void* w, const void* a);
float dot_q5_k(int64_t n, const void* w, const void* a);
float dot_q6_k(int64_t n, const void* w, const void* a);
float dot_iq4_xs(int64_t n, const void* w, const void* a);

#if defined(__x86_64__)
// --- AVX2 + FMA variants (vec_dot_avx2.cpp); results equal the scalar ones up to float
// summation order, except the quantizers, which are bit-identical ---
void quantize_q8_0_avx2(const float* src, void* dst, int64_t n);
void quantize_q8_k_avx2(const float* src, void* dst, int64_t n);
float dot_f32_avx2(int64_t n, const void* w, const void* a);
float dot_f16_avx2(int64_t n, const void* w, const void* a);
float dot_q4_0_avx2(int64_t n, const void* w, const void* a);
float dot_q8_0_avx2(int64_t n, const void* w, const void* a);
float dot_q4_k_avx2(int64_t n, const void* w, const void* a);
float dot_q5_k_avx2(int64_t n, const void* w, const void* a);
float dot_q6_k_avx2(int64_t n, const void* w, const void* a);
#endif

}  // namespace ingot::quant::kernels
