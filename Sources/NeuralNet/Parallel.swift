import COpenBLAS
import Dispatch

/// How many threads the engine uses: OpenBLAS's GEMMs and our own element-wise loops.
public enum Threads {
    nonisolated(unsafe) private static var configured: Int = {
        openblas_set_num_threads(1)
        #if os(Linux)
        // Layers allocate tens of megabytes per batch (im2col columns, activations). glibc would
        // mmap and unmap each one, so every batch paid for fresh zeroed pages; keeping them in the
        // heap lets the next batch reuse the same memory.
        _ = glibcMallopt(-3 /* M_MMAP_THRESHOLD */, 1 << 30)
        _ = glibcMallopt(-1 /* M_TRIM_THRESHOLD */, 1 << 30)
        #endif
        return 2
    }()

    public static var count: Int { configured }

    /// Sets the threads our loops and GEMM splits use; call once at start-up (the CLI's
    /// `--threads`). OpenBLAS itself stays single-threaded (see `gemm`).
    public static func set(_ n: Int) {
        configured = max(1, n)
        openblas_set_num_threads(1)
    }
}

extension Threads {
    /// Runs `body` over 0..<count split into contiguous chunks, one per thread (nothing for an
    /// empty range). Small jobs run inline, since waking threads costs more than a little work:
    /// at most `count / minimumPerChunk` chunks are made. Shared by the modules above the engine.
    public static func forEachChunk(_ count: Int, minimumPerChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = min(Threads.count, max(1, count / max(1, minimumPerChunk)))
        if chunks <= 1 {
            body(0..<count)
            return
        }
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let begin = count * chunk / chunks, end = count * (chunk + 1) / chunks
            if begin < end { body(begin..<end) }
        }
    }
}

@inline(__always)
func parallelChunks(_ count: Int, minimumPerThread: Int = 1, _ body: (Range<Int>) -> Void) {
    Threads.forEachChunk(count, minimumPerChunk: minimumPerThread, body)
}

/// Runs `body(i)` for each i in 0..<count on the engine's threads.
@inline(__always)
func parallelFor(_ count: Int, minimumPerThread: Int = 1, _ body: (Int) -> Void) {
    parallelChunks(count, minimumPerThread: minimumPerThread) { range in
        for i in range { body(i) }
    }
}

#if os(Linux)
// <malloc.h> is not part of Swift's Glibc module.
@_silgen_name("mallopt") private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
