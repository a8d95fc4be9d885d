// float16 particles (MRC mode 12) to float32, on the GPU, so that only half
// the bytes cross the host link. Grid-stride loop; the conversion is one
// PTX cvt per value (no header needed under NVRTC).

extern "C" __global__ void f16_to_f32(const unsigned short* __restrict__ in,
                                      float* __restrict__ out, unsigned long long count)
{
    const unsigned long long stride = (unsigned long long)blockDim.x * gridDim.x;
    for (unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
         i < count; i += stride) {
        float f;
        asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(in[i]));
        out[i] = f;
    }
}
