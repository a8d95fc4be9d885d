// Device-to-device copy for the memory-bandwidth figure: a grid-stride loop
// of float4 loads and stores (bytes read + written = 2 x size). Each thread
// issues UNROLL loads before its stores so that enough reads are in flight
// to cover HBM latency.

#define UNROLL 4

extern "C" __global__ void copy_float4(const float4* __restrict__ in,
                                       float4* __restrict__ out, unsigned long long count)
{
    const unsigned long long stride = (unsigned long long)blockDim.x * gridDim.x;
    unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
    for (; i + (UNROLL - 1) * stride < count; i += UNROLL * stride) {
        float4 v[UNROLL];
#pragma unroll
        for (int u = 0; u < UNROLL; ++u) v[u] = in[i + u * stride];
#pragma unroll
        for (int u = 0; u < UNROLL; ++u) out[i + u * stride] = v[u];
    }
    for (; i < count; i += stride) out[i] = in[i];
}
