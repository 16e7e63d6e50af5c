import COpenBLAS

/// Row-major C = alpha * op(A) * op(B) + beta * C through OpenBLAS.
/// op(A): (m, k), op(B): (k, n), C: (m, n).
@inline(__always)
func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
          alpha: Float = 1, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
          beta: Float = 0, c: UnsafeMutablePointer<Float>) {
    let lda = transposeA ? m : k
    let ldb = transposeB ? k : n
    cblas_sgemm(CblasRowMajor,
                transposeA ? CblasTrans : CblasNoTrans,
                transposeB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(n))
}
