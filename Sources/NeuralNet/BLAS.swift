import COpenBLAS
import Dispatch

/// Row-major C = alpha * op(A) * op(B) + beta * C, op(A): (m, k), op(B): (k, n), C: (m, n).
///
/// OpenBLAS runs single-threaded and we split the product across our own threads: OpenBLAS's
/// idle workers spin in sched_yield between calls and took a fifth of a training step from the
/// element-wise loops running beside them. `split: false` keeps a product on the calling thread
/// (for callers that run several at once). Splitting C by columns (or rows when it is narrow)
/// keeps each piece a large, efficient GEMM.
@inline(__always)
func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
          alpha: Float = 1, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
          beta: Float = 0, c: UnsafeMutablePointer<Float>, split: Bool = true) {
    let lda = transposeA ? m : k
    let ldb = transposeB ? k : n
    let threads = Threads.count
    let work = m * n * k
    func call(_ m0: Int, _ m1: Int, _ n0: Int, _ n1: Int) {
        let aStart = transposeA ? a + m0 : a + m0 * lda
        let bStart = transposeB ? b + n0 * ldb : b + n0
        cblas_sgemm(CblasRowMajor,
                    transposeA ? CblasTrans : CblasNoTrans,
                    transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m1 - m0), Int32(n1 - n0), Int32(k), alpha, aStart, Int32(lda), bStart, Int32(ldb),
                    beta, c + m0 * n + n0, Int32(n))
    }
    guard split, threads > 1, work >= 1 << 18 else {
        call(0, m, 0, n)
        return
    }
    if n >= 64 * threads {
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            // Column blocks on multiples of 16 floats keep each piece's rows aligned to the kernel.
            let n0 = (n * t / threads) & ~15, n1 = t == threads - 1 ? n : (n * (t + 1) / threads) & ~15
            if n0 < n1 { call(0, m, n0, n1) }
        }
    } else {
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            let m0 = m * t / threads, m1 = m * (t + 1) / threads
            if m0 < m1 { call(m0, m1, 0, n) }
        }
    }
}

/// Dot products of every row of `a` (m, k) with every row of `b` (n, k) into `c` (m, n), row-major,
/// on the calling thread. For callers outside the engine that need a fast product even in debug
/// builds (duplicate search over thousands of image signatures).
public func rowDotProducts(_ a: UnsafePointer<Float>, rows m: Int, _ b: UnsafePointer<Float>, rows n: Int,
                           length k: Int, into c: UnsafeMutablePointer<Float>, resultStride: Int? = nil) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(k), b, Int32(k),
                0, c, Int32(resultStride ?? n))
}
