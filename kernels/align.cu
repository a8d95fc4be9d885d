// Frame alignment, the per-movie work of motion correction, on the GPU.
// The CPU reference is src/movies/align.rs; these kernels follow it step
// for step so that the two can be compared shift by shift.
//
// Images are grouped: G groups (1 for whole frames, P*P for patches) of F
// frames each, image `g*F + f`, each w x h pixels row-major. Spectra are
// full complex transforms (cuFFT C2C, unnormalised), as rustfft's in the
// reference. Shifts are two floats (dx, dy) per image.

// Signed frequency of index i along an axis of n, in cycles per pixel.
__device__ __forceinline__ float freq(int i, int n) {
    return (i <= n / 2) ? (float)i / (float)n : (float)(i - n) / (float)n;
}

// 8-bit counting frames (as detectors count) to float.
extern "C" __global__ void counts_to_float(const unsigned char* __restrict__ in,
                                           float* __restrict__ out,
                                           unsigned long long n) {
    for (unsigned long long i = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x; i < n;
         i += (unsigned long long)gridDim.x * blockDim.x) {
        out[i] = (float)in[i];
    }
}

// The P x P non-overlapping patches of F whole frames (W x H), each pw x ph,
// as images (g*F + f) with g = py*P + px.
extern "C" __global__ void extract_patches(const float* __restrict__ frames,
                                           float* __restrict__ patches, int W, int H, int P,
                                           int pw, int ph, int F) {
    unsigned long long total = (unsigned long long)P * P * F * pw * ph;
    for (unsigned long long i = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x;
         i < total; i += (unsigned long long)gridDim.x * blockDim.x) {
        int x = (int)(i % pw);
        unsigned long long r = i / pw;
        int y = (int)(r % ph);
        r /= ph;
        int f = (int)(r % F);
        int g = (int)(r / F);
        int px = g % P, py = g / P;
        patches[i] = frames[(unsigned long long)f * W * H +
                            (unsigned long long)(py * ph + y) * W + px * pw + x];
    }
}

// The mean of each image: one block of 256 threads per image.
extern "C" __global__ void image_means(const float* __restrict__ images,
                                       float* __restrict__ means, int w, int h) {
    __shared__ double part[256];
    const float* img = images + (unsigned long long)blockIdx.x * w * h;
    double s = 0.0;
    for (int i = threadIdx.x; i < w * h; i += blockDim.x) s += img[i];
    part[threadIdx.x] = s;
    __syncthreads();
    for (int k = blockDim.x / 2; k > 0; k >>= 1) {
        if (threadIdx.x < k) part[threadIdx.x] += part[threadIdx.x + k];
        __syncthreads();
    }
    if (threadIdx.x == 0) means[blockIdx.x] = (float)(part[0] / ((double)w * h));
}

// Mean removed and a Tukey taper applied (wx per column, wy per row), as
// complex values for the forward transform.
extern "C" __global__ void taper_complex(const float* __restrict__ images,
                                         const float* __restrict__ means,
                                         const float* __restrict__ wx,
                                         const float* __restrict__ wy, float2* __restrict__ out,
                                         int w, int h, int nimg) {
    unsigned long long plane = (unsigned long long)w * h, total = plane * nimg;
    for (unsigned long long i = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x;
         i < total; i += (unsigned long long)gridDim.x * blockDim.x) {
        int x = (int)(i % w), y = (int)((i / w) % h);
        float v = (images[i] - means[i / plane]) * wx[x] * wy[y];
        out[i] = make_float2(v, 0.0f);
    }
}

// exp(+2 pi i (kx dx + ky dy)): moves a spectrum back by (dx, dy).
__device__ __forceinline__ float2 unshift(float2 v, float kx, float ky, float dx, float dy) {
    float s, c;
    sincospif(2.0f * (kx * dx + ky * dy), &s, &c);
    return make_float2(v.x * c - v.y * s, v.x * s + v.y * c);
}

// Per group, the sum of its frames' spectra, each moved back by its shift.
extern "C" __global__ void shifted_sum(const float2* __restrict__ spectra,
                                       const float* __restrict__ shifts,
                                       float2* __restrict__ total, int w, int h, int F, int G) {
    unsigned long long plane = (unsigned long long)w * h, n = plane * G;
    for (unsigned long long i = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x; i < n;
         i += (unsigned long long)gridDim.x * blockDim.x) {
        unsigned long long p = i % plane;
        int g = (int)(i / plane);
        float kx = freq((int)(p % w), w), ky = freq((int)(p / w), h);
        float2 acc = make_float2(0.0f, 0.0f);
        for (int f = 0; f < F; f++) {
            int img = g * F + f;
            float2 v = unshift(spectra[img * plane + p], kx, ky, shifts[2 * img],
                               shifts[2 * img + 1]);
            acc.x += v.x;
            acc.y += v.y;
        }
        total[i] = acc;
    }
}

// Per frame, its spectrum times the conjugate of the sum of the other frames
// of its group (the group's sum less its own aligned copy), weighted by
// exp(-bfactor |k|^2) with the mean left out: the cross-correlation's
// spectrum.
extern "C" __global__ void cross_spectra(const float2* __restrict__ spectra,
                                         const float* __restrict__ shifts,
                                         const float2* __restrict__ total,
                                         float2* __restrict__ cc, int w, int h, int F, int G,
                                         float bfactor) {
    unsigned long long plane = (unsigned long long)w * h, n = plane * F * G;
    for (unsigned long long i = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x; i < n;
         i += (unsigned long long)gridDim.x * blockDim.x) {
        unsigned long long p = i % plane;
        int img = (int)(i / plane), g = img / F;
        float kx = freq((int)(p % w), w), ky = freq((int)(p / w), h);
        float2 v = spectra[i];
        float2 mine = unshift(v, kx, ky, shifts[2 * img], shifts[2 * img + 1]);
        float2 t = total[g * plane + p];
        float2 o = make_float2(t.x - mine.x, t.y - mine.y);
        float wt = (p == 0) ? 0.0f : expf(-bfactor * (kx * kx + ky * ky));
        cc[i] = make_float2((v.x * o.x + v.y * o.y) * wt, (v.y * o.x - v.x * o.y) * wt);
    }
}

// The offset of a peak from a Gaussian through it and its neighbours (a
// parabola through their logarithms; a plain parabola where a value is not
// positive), in -0.5..0.5.
__device__ float subpixel(float m, float c, float p) {
    if (m > 0.0f && c > 0.0f && p > 0.0f) {
        m = logf(m);
        c = logf(c);
        p = logf(p);
    }
    float d = m - 2.0f * c + p;
    if (fabsf(d) < 1.1920929e-7f) return 0.0f;
    return fminf(fmaxf(0.5f * (m - p) / d, -0.5f), 0.5f);
}

// Per image, the peak of its cross-correlation (real part; the first in
// row-major order among equals, as the reference) to a sub-pixel: the new
// shift. One block of 256 threads per image.
extern "C" __global__ void find_peaks(const float2* __restrict__ cc, float* __restrict__ shifts,
                                      int w, int h) {
    __shared__ float best[256];
    __shared__ int where[256];
    const float2* c = cc + (unsigned long long)blockIdx.x * w * h;
    float b = __int_as_float(0xff800000);  // -infinity
    int at = 0x7fffffff;
    for (int i = threadIdx.x; i < w * h; i += blockDim.x) {
        float v = c[i].x;
        if (v > b) {
            b = v;
            at = i;
        }
    }
    best[threadIdx.x] = b;
    where[threadIdx.x] = at;
    __syncthreads();
    for (int k = blockDim.x / 2; k > 0; k >>= 1) {
        if (threadIdx.x < k) {
            float o = best[threadIdx.x + k];
            int oi = where[threadIdx.x + k];
            if (o > best[threadIdx.x] || (o == best[threadIdx.x] && oi < where[threadIdx.x])) {
                best[threadIdx.x] = o;
                where[threadIdx.x] = oi;
            }
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        int i = where[0] == 0x7fffffff ? 0 : where[0];
        int bx = i % w, by = i / w;
        float top = c[i].x;
        float sx = subpixel(c[by * w + (bx + w - 1) % w].x, top, c[by * w + (bx + 1) % w].x);
        float sy = subpixel(c[((by + h - 1) % h) * w + bx].x, top, c[((by + 1) % h) * w + bx].x);
        int wx = bx > w / 2 ? bx - w : bx;
        int wy = by > h / 2 ? by - h : by;
        shifts[2 * blockIdx.x] = (float)wx + sx;
        shifts[2 * blockIdx.x + 1] = (float)wy + sy;
    }
}
