// Trilinear Fourier-space insertion, the GPU twin of src/recon/backproject.rs.
//
// images: batch half-transforms, float2 [batch][n][n/2 + 1], rows in FFT
//         order (ky = 0 .. n/2-1, -n/2 .. -1), columns kx = 0 .. n/2
// rot:    batch RELION matrices A, 9 floats each, rows first
// shift:  batch (x, y) shifts in pixels, applied as a phase ramp (as
//         ImageFft::forward does); all zero skips the ramp
// grid:   padded half-transform, float4 (re, im, weight, unused)
//         [p][p][p/2 + 1] with p = pad * n, y and z wrapped modulo p
// centre: 1 when the images are plain R2C transforms of particles with their
//         origin at pixel n/2 (cuFFT output): the move of the origin to
//         index 0 is a sign (-1)^(kx + ky) here; 0 when already done
//
// Two kernels share the sampling and corner code below:
//
// insert_trilinear, launch grid (ceil(n * (n/2 + 1) / blockDim.x), batch).
// Blocks of one image are numbered next to each other, so the blocks in
// flight at any time work on a few images only: their voxels stay in L2
// while the atomics land. Each pixel inside radius n/2 lands at pad * A^T (kx, ky, 0);
// a point with x < 0 is replaced by its Hermitian mate (negated,
// conjugated). On sm_90 and newer the four floats of a voxel are added with
// one vector atomicAdd(float4*); older GPUs add the three used floats one by
// one.
//
// insert_tiled, launch grid (tiles per image, batch) of 16 x 16 threads: a
// block takes a 16 x 16 tile of one image's pixels. Neighbouring pixels
// share corners (at padding 1 each voxel a tile touches gets about four
// contributions), so the block sums its contributions per voxel in shared
// memory first and adds each distinct voxel to the grid once: fewer global
// atomics for some shared-memory work. Its voxel indices are ints, so it
// takes padded boxes up to 1290 (src/gpu/insert.rs picks the kernel).

// One Fourier pixel as it lands in the grid: position and value.
struct Sample {
    float qx, qy, qz;
    float2 v;
};

// The pixel (kx, ky) of image img, centred, shifted, rotated and folded
// into x >= 0; false outside radius n/2.
__device__ __forceinline__ bool sample(const float2* __restrict__ images,
                                       const float* __restrict__ rot,
                                       const float2* __restrict__ shift, int img, int n,
                                       int pad, int centre, int kx, int ky, Sample* out)
{
    const int half = n / 2;
    if (kx > half || kx * kx + ky * ky >= half * half) return false;
    const int w = half + 1;
    const int row = ky >= 0 ? ky : ky + n;
    float2 v = images[((size_t)img * n + row) * w + kx];
    if (centre && ((kx + ky) & 1)) {
        v.x = -v.x; v.y = -v.y;
    }
    const float2 s = shift[img];
    if (s.x != 0.f || s.y != 0.f) {
        // exp(-2 pi i (kx sx + ky sy) / n)
        float sn, cs;
        __sincosf(-6.28318530718f * (kx * s.x + ky * s.y) / n, &sn, &cs);
        v = make_float2(v.x * cs - v.y * sn, v.x * sn + v.y * cs);
    }
    const float* m = rot + 9 * img;
    const float fp = (float)pad;
    float qx = fp * (m[0] * kx + m[3] * ky);
    float qy = fp * (m[1] * kx + m[4] * ky);
    float qz = fp * (m[2] * kx + m[5] * ky);
    if (qx < 0.f) {
        qx = -qx; qy = -qy; qz = -qz;
        v.y = -v.y;
    }
    *out = Sample{qx, qy, qz, v};
    return true;
}

// Calls add(voxel index, weight) for the eight trilinear corners of s in a
// p x p x (p/2 + 1) grid. |q| < p / 2, so x0 + 1 <= p / 2 stays inside the
// grid, and one add or subtract of p wraps y and z into [0, p).
template <typename Add>
__device__ __forceinline__ void corners(const Sample& s, int p, Add add)
{
    const int xdim = p / 2 + 1;
    const float fx0 = floorf(s.qx), fy0 = floorf(s.qy), fz0 = floorf(s.qz);
    const float fx = s.qx - fx0, fy = s.qy - fy0, fz = s.qz - fz0;
    const int x0 = (int)fx0;
    int ys[2] = {(int)fy0, (int)fy0 + 1};
    int zs[2] = {(int)fz0, (int)fz0 + 1};
#pragma unroll
    for (int k = 0; k < 2; ++k) {
        ys[k] += ys[k] < 0 ? p : (ys[k] >= p ? -p : 0);
        zs[k] += zs[k] < 0 ? p : (zs[k] >= p ? -p : 0);
    }
#pragma unroll
    for (int dz = 0; dz < 2; ++dz) {
        const float wz = dz ? fz : 1.f - fz;
#pragma unroll
        for (int dy = 0; dy < 2; ++dy) {
            const float wy = dy ? fy : 1.f - fy;
            const size_t line = ((size_t)zs[dz] * p + ys[dy]) * xdim;
#pragma unroll
            for (int dx = 0; dx < 2; ++dx) {
                add(line + x0 + dx, (dx ? fx : 1.f - fx) * wy * wz);
            }
        }
    }
}

__device__ __forceinline__ void add_voxel(float4* dst, float re, float im, float w)
{
#if __CUDA_ARCH__ >= 900
    atomicAdd(dst, make_float4(re, im, w, 0.f));
#else
    atomicAdd(&dst->x, re);
    atomicAdd(&dst->y, im);
    atomicAdd(&dst->z, w);
#endif
}

extern "C" __global__ void insert_trilinear(const float2* __restrict__ images,
                                            const float* __restrict__ rot,
                                            const float2* __restrict__ shift,
                                            float4* grid, int n, int pad, int centre)
{
    const int w = n / 2 + 1;
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n * w) return;
    const int row = i / w;
    const int kx = i - row * w;
    const int ky = row < n / 2 ? row : row - n;
    Sample s;
    if (!sample(images, rot, shift, blockIdx.y, n, pad, centre, kx, ky, &s)) return;
    corners(s, n * pad, [&](size_t idx, float wgt) {
        add_voxel(grid + idx, s.v.x * wgt, s.v.y * wgt, wgt);
    });
}

// The tiled insertion: a block of 16 x 16 threads takes a 16 x 16 tile of
// pixels. Each thread's eight contributions are records in shared memory;
// records of one voxel are chained in a list hung on the voxel's slot of a
// hash table (open addressing, keys claimed with atomicCAS, lists pushed
// with atomicExch: both integer atomics, native in shared memory, where a
// float atomicAdd would be a compare-and-swap loop). After a barrier, each
// slot's list is summed and added to the grid once. A voxel that finds no
// slot within MAX_PROBES goes straight to the grid.
#define TILE 16
#define SLOTS 2048
#define MAX_PROBES 32

extern "C" __global__ void __launch_bounds__(TILE * TILE)
insert_tiled(const float2* __restrict__ images, const float* __restrict__ rot,
             const float2* __restrict__ shift, float4* grid, int n, int pad, int centre)
{
    __shared__ int keys[SLOTS];
    __shared__ int head[SLOTS];
    // (re, im, weight, next record as int bits), record = corner * 256 + thread
    __shared__ float4 rec[TILE * TILE * 8];
    const int tiles_x = (n / 2 + 1 + TILE - 1) / TILE;
    const int kx0 = (blockIdx.x % tiles_x) * TILE;
    const int ky0 = (int)(blockIdx.x / tiles_x) * TILE - n / 2;
    // a tile wholly outside radius n/2 has nothing to add
    const int nx = kx0, ny = ky0 > 0 ? ky0 : (ky0 + TILE - 1 < 0 ? -(ky0 + TILE - 1) : 0);
    if (nx * nx + ny * ny >= (n / 2) * (n / 2)) return;

    const int t = threadIdx.x;
    for (int k = t; k < SLOTS; k += TILE * TILE) {
        keys[k] = -1;
        head[k] = -1;
    }
    __syncthreads();
    const int kx = kx0 + t % TILE, ky = ky0 + t / TILE;
    Sample s;
    if (ky < n / 2 && sample(images, rot, shift, blockIdx.y, n, pad, centre, kx, ky, &s)) {
        int corner = 0;
        corners(s, n * pad, [&](size_t idx, float wgt) {
            // n * pad <= 1290: every index fits an int
            const int key = (int)idx;
            const float re = s.v.x * wgt, im = s.v.y * wgt;
            const int r = corner++ * TILE * TILE + t;
            unsigned h = ((unsigned)key * 2654435761u) >> 21;  // 11 bits: SLOTS
            for (int probe = 0; probe < MAX_PROBES; ++probe) {
                // a claimed key never changes, so a plain read can confirm it
                int prev = keys[h];
                if (prev == -1) prev = atomicCAS(&keys[h], -1, key);
                if (prev == -1 || prev == key) {
                    const int next = atomicExch(&head[h], r);
                    rec[r] = make_float4(re, im, wgt, __int_as_float(next));
                    return;
                }
                h = (h + 1) & (SLOTS - 1);
            }
            add_voxel(grid + key, re, im, wgt);
        });
    }
    __syncthreads();
    for (int k = t; k < SLOTS; k += TILE * TILE) {
        int r = head[k];
        if (r < 0) continue;
        float re = 0.f, im = 0.f, w = 0.f;
        do {
            const float4 v = rec[r];
            re += v.x; im += v.y; w += v.z;
            r = __float_as_int(v.w);
        } while (r >= 0);
        add_voxel(grid + keys[k], re, im, w);
    }
}
