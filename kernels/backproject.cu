// Trilinear Fourier-space insertion, the GPU twin of src/recon/backproject.rs.
//
// images: batch half-transforms, float2 [batch][n][n/2 + 1], rows in FFT
//         order (ky = 0 .. n/2-1, -n/2 .. -1), columns kx = 0 .. n/2
// rot:    batch RELION matrices A, 9 floats each, rows first
// grid:   padded half-transform, float4 (re, im, weight, unused)
//         [p][p][p/2 + 1] with p = pad * n, y and z wrapped modulo p
//
// One block per image; threads stride over its pixels. Each pixel inside
// radius n/2 lands at pad * A^T (kx, ky, 0); a point with x < 0 is replaced
// by its Hermitian mate (negated, conjugated). On sm_90 and newer the four
// floats of a voxel are added with one vector atomicAdd(float4*); older
// GPUs add the three used floats one by one.

extern "C" __global__ void insert_trilinear(const float2* __restrict__ images,
                                            const float* __restrict__ rot,
                                            float4* grid, int n, int pad, int batch)
{
    const int img = blockIdx.x;
    if (img >= batch) return;
    const int w = n / 2 + 1;
    const int p = n * pad;
    const int xdim = p / 2 + 1;
    const int xmax = p / 2;
    const int r2max = (n / 2) * (n / 2);
    const float* m = rot + 9 * img;
    const float a0 = pad * m[0], a1 = pad * m[1], a2 = pad * m[2];
    const float b0 = pad * m[3], b1 = pad * m[4], b2 = pad * m[5];
    const float2* src = images + (size_t)img * n * w;

    for (int i = threadIdx.x; i < n * w; i += blockDim.x) {
        const int row = i / w;
        const int kx = i - row * w;
        const int ky = row < n / 2 ? row : row - n;
        if (kx * kx + ky * ky >= r2max) continue;
        float2 v = src[i];
        float qx = a0 * kx + b0 * ky;
        float qy = a1 * kx + b1 * ky;
        float qz = a2 * kx + b2 * ky;
        if (qx < 0.f) {
            qx = -qx; qy = -qy; qz = -qz;
            v.y = -v.y;
        }
        const float fx0 = floorf(qx), fy0 = floorf(qy), fz0 = floorf(qz);
        const float fx = qx - fx0, fy = qy - fy0, fz = qz - fz0;
        const int x0 = (int)fx0, y0 = (int)fy0, z0 = (int)fz0;
        for (int dz = 0; dz < 2; ++dz) {
            const float wz = dz ? fz : 1.f - fz;
            const int z = ((z0 + dz) % p + p) % p;
            for (int dy = 0; dy < 2; ++dy) {
                const float wy = dy ? fy : 1.f - fy;
                const int y = ((y0 + dy) % p + p) % p;
                for (int dx = 0; dx < 2; ++dx) {
                    const int x = x0 + dx;
                    if (x > xmax) continue;
                    const float wgt = (dx ? fx : 1.f - fx) * wy * wz;
                    float4* dst = grid + ((size_t)z * p + y) * xdim + x;
#if __CUDA_ARCH__ >= 900
                    atomicAdd(dst, make_float4(v.x * wgt, v.y * wgt, wgt, 0.f));
#else
                    atomicAdd(&dst->x, v.x * wgt);
                    atomicAdd(&dst->y, v.y * wgt);
                    atomicAdd(&dst->z, wgt);
#endif
                }
            }
        }
    }
}
