// float16 particles (MRC mode 12) to float32, on the GPU, so that only half
// the bytes cross the host link. Each thread takes eight values at a time
// (one 16-byte load, two 16-byte stores) in a grid-stride loop; the last
// count % 8 values are done one by one. The conversion is one PTX cvt per
// value (no header needed under NVRTC). Both buffers come from cudaMalloc,
// so they are 16-byte aligned.

__device__ __forceinline__ float half_to_float(unsigned short h)
{
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
}

__device__ __forceinline__ float2 halves_to_float2(unsigned int two)
{
    return make_float2(half_to_float((unsigned short)(two & 0xffffu)),
                       half_to_float((unsigned short)(two >> 16)));
}

extern "C" __global__ void f16_to_f32(const unsigned short* __restrict__ in,
                                      float* __restrict__ out, unsigned long long count)
{
    const unsigned long long stride = (unsigned long long)blockDim.x * gridDim.x;
    const unsigned long long first = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
    const unsigned long long groups = count / 8;
    const uint4* in8 = reinterpret_cast<const uint4*>(in);
    float4* out4 = reinterpret_cast<float4*>(out);
    for (unsigned long long g = first; g < groups; g += stride) {
        const uint4 v = in8[g];
        const float2 a = halves_to_float2(v.x), b = halves_to_float2(v.y);
        const float2 c = halves_to_float2(v.z), d = halves_to_float2(v.w);
        out4[2 * g] = make_float4(a.x, a.y, b.x, b.y);
        out4[2 * g + 1] = make_float4(c.x, c.y, d.x, d.y);
    }
    for (unsigned long long i = groups * 8 + first; i < count; i += stride) {
        out[i] = half_to_float(in[i]);
    }
}
