// Device-to-device copy for the memory-bandwidth figure: a grid-stride loop
// of float4 loads and stores (bytes read + written = 2 x size).

extern "C" __global__ void copy_float4(const float4* __restrict__ in,
                                       float4* __restrict__ out, unsigned long long count)
{
    const unsigned long long stride = (unsigned long long)blockDim.x * gridDim.x;
    for (unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
         i < count; i += stride) {
        out[i] = in[i];
    }
}
