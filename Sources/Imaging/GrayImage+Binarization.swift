import Dispatch
import Foundation

// Page cleaning, part 2: ink / paper decisions.
//
// Output convention everywhere: a GrayImage holding only 0 (ink) and 1 (paper), the same polarity as
// the input, so `inkMask()` and `connectedComponents` work on it unchanged. A pixel is ink when it
// is strictly darker than its threshold (as in `inkMask(threshold:)`).

extension GrayImage {
    /// Otsu's global threshold: the grey level that best splits the histogram (256 bins over 0...1)
    /// into two classes, by maximal between-class variance. Pixels below it are ink.
    ///
    /// When several thresholds tie (the empty gap between two clean modes), the middle of the tied
    /// run is returned rather than its first bin, so the cut lands halfway between the modes.
    /// A page with a single grey level (blank paper, or nothing at all) has no split: 0.5 is returned,
    /// so white paper stays white and solid black stays black.
    public func otsuThreshold() -> Float {
        let bins = 256
        let histogram = greyHistogram(bins: bins)
        let total = histogram.reduce(0, +)
        guard total > 0, histogram.filter({ $0 > 0 }).count >= 2 else { return 0.5 }
        var sumAll = 0.0
        for i in 0..<bins { sumAll += Double(i) * Double(histogram[i]) }
        // Class 0 = bins 0...k (ink side), class 1 = bins k+1..<bins.
        var weight0 = 0.0, sum0 = 0.0
        var best = -1.0, firstBest = 0, lastBest = 0
        for k in 0..<(bins - 1) {
            weight0 += Double(histogram[k])
            sum0 += Double(k) * Double(histogram[k])
            let weight1 = Double(total) - weight0
            guard weight0 > 0, weight1 > 0 else { continue }
            let mean0 = sum0 / weight0, mean1 = (sumAll - sum0) / weight1
            let between = weight0 * weight1 * (mean0 - mean1) * (mean0 - mean1)
            // Relative tolerance: equal variances computed from different sums differ in the last bits.
            if between > best * (1 + 1e-12) {
                best = between; firstBest = k; lastBest = k
            } else if between >= best * (1 - 1e-12) {
                lastBest = k
            }
        }
        // Threshold at the upper edge of the chosen bin k: everything in bins 0...k is ink.
        let k = Double(firstBest + lastBest) / 2
        return Float((k + 1) / Double(bins))
    }

    /// 0 where the pixel is darker than `otsuThreshold()`, 1 elsewhere. Good for evenly lit scans
    /// (or after `flattenedBackground`); fails on shading, which a global threshold cannot follow.
    public func binarizedOtsu() -> GrayImage { binarized(threshold: otsuThreshold()) }

    /// 0 where the pixel is darker than `threshold`, 1 elsewhere.
    public func binarized(threshold: Float) -> GrayImage {
        let w = width
        let out = pixels.withUnsafeBufferPointer { src in
            pageCleaningPixels(count: width * height) { d in
                let s = src.baseAddress!
                pageCleaningChunks(height) { rows in
                    for i in (rows.lowerBound * w)..<(rows.upperBound * w) { d[i] = s[i] < threshold ? 0 : 1 }
                }
            }
        }
        return GrayImage(width: width, height: height, pixels: out)
    }

    /// Sauvola's local threshold: T = m·(1 + k·(s/r − 1)), with m and s the mean and standard
    /// deviation of the `window` x `window` square around the pixel (clipped at the page edge).
    /// Where the window is flat paper (s ≈ 0) T drops to m·(1 − k), below the paper, so paper and
    /// its shading stay white; where it holds ink (s large) T rises towards m, catching the strokes.
    ///
    /// m and s come from summed-area tables (in Double, so the sums of squares of a 9-megapixel
    /// page lose nothing), so the cost is O(pixels) whatever the window.
    ///
    /// - Parameters:
    ///   - window: side of the square in pixels (made odd); about two to three stroke heights
    ///     — e.g. 31 to 61 for digits at ~300 dpi. Too small and the inside of thick strokes goes white.
    ///   - k: sensitivity; larger = fewer, thinner ink pixels and cleaner paper. The literature's 0.2–0.5
    ///     suits dark ink; faint pencil on a flattened photo (`flattenedBackground`) needs 0.05–0.1 —
    ///     on the sample climate sheet k = 0.3 kept little but the printed rules, k = 0.1 kept most digits.
    ///   - r: the dynamic range of the standard deviation: 0.5 for values in 0...1 (Sauvola's 128 of 255).
    public func binarizedSauvola(window: Int = 41, k: Float = 0.1, r: Float = 0.5) -> GrayImage {
        guard width > 0, height > 0 else { return self }
        let half = max(1, window / 2)
        let w = width, h = height, stride = width + 1
        let inverseR = Double(1 / r), kk = Double(k)
        // The page is done in bands of rows; each band gets the summed-area tables of its own rows
        // plus `half` rows of margin above and below. Same result as one table for the whole page,
        // but a few MB per thread instead of 16 bytes x 2 per pixel (144 MB for 3000x3000), which
        // costs more in page faults than the arithmetic; and smaller sums keep more precision.
        let band = 128
        let bandCount = (h + band - 1) / band
        let threads = min(max(1, ProcessInfo.processInfo.activeProcessorCount), bandCount)
        let tableRows = band + 2 * half + 1
        let out = pixels.withUnsafeBufferPointer { src in
            pageCleaningPixels(count: w * h) { d in
                let s = src.baseAddress!
                DispatchQueue.concurrentPerform(iterations: threads) { thread in
                    // Table row i, column x: sums over input rows top..<top+i and columns 0..<x.
                    let S = UnsafeMutablePointer<Double>.allocate(capacity: tableRows * stride)
                    let Q = UnsafeMutablePointer<Double>.allocate(capacity: tableRows * stride)
                    defer { S.deallocate(); Q.deallocate() }
                    S.initialize(repeating: 0, count: stride)
                    Q.initialize(repeating: 0, count: stride)
                    var b = thread
                    while b < bandCount {
                        defer { b += threads }
                        let y0 = b * band, y1 = Swift.min(h, y0 + band)
                        let top = Swift.max(0, y0 - half), bottom = Swift.min(h, y1 + half)
                        for i in 0..<(bottom - top) {
                            let line = s + (top + i) * w
                            let sumAbove = S + i * stride, squareAbove = Q + i * stride
                            let sumRow = S + (i + 1) * stride, squareRow = Q + (i + 1) * stride
                            sumRow[0] = 0; squareRow[0] = 0
                            var a = 0.0, q = 0.0
                            for x in 0..<w {
                                let v = Double(line[x])
                                a += v; q += v * v
                                sumRow[x + 1] = sumAbove[x + 1] + a
                                squareRow[x + 1] = squareAbove[x + 1] + q
                            }
                        }
                        for y in y0..<y1 {
                            let windowTop = Swift.max(0, y - half) - top, windowBottom = Swift.min(h, y + half + 1) - top
                            let St = S + windowTop * stride, Sb = S + windowBottom * stride
                            let Qt = Q + windowTop * stride, Qb = Q + windowBottom * stride
                            let rowsInWindow = Double(windowBottom - windowTop)
                            let line = s + y * w, target = d + y * w
                            @inline(__always) func decide(_ x: Int, _ left: Int, _ right: Int, _ inverseCount: Double) {
                                let total = Sb[right] - Sb[left] - St[right] + St[left]
                                let totalSquares = Qb[right] - Qb[left] - Qt[right] + Qt[left]
                                let mean = total * inverseCount
                                let deviation = Swift.max(totalSquares * inverseCount - mean * mean, 0).squareRoot()
                                let threshold = mean * (1 + kk * (deviation * inverseR - 1))
                                target[x] = Double(line[x]) < threshold ? 0 : 1
                            }
                            // Interior columns have a full-width window (a loop the compiler can
                            // vectorise); the columns near the left and right edges are clipped.
                            let interiorStart = Swift.min(half, w), interiorEnd = Swift.max(interiorStart, w - half - 1)
                            for x in 0..<interiorStart {
                                let left = 0, right = Swift.min(w, x + half + 1)
                                decide(x, left, right, 1 / (rowsInWindow * Double(right - left)))
                            }
                            let inverseFull = 1 / (rowsInWindow * Double(2 * half + 1))
                            for x in interiorStart..<interiorEnd { decide(x, x - half, x + half + 1, inverseFull) }
                            for x in interiorEnd..<w {
                                let left = Swift.max(0, x - half), right = Swift.min(w, x + half + 1)
                                decide(x, left, right, 1 / (rowsInWindow * Double(right - left)))
                            }
                        }
                    }
                }
            }
        }
        return GrayImage(width: w, height: h, pixels: out)
    }

    /// Hysteresis: this image's ink (0) plus every ink pixel of `weak` 8-connected to it through
    /// `weak`'s ink. Both images 0 = ink, 1 = paper, of one size. A pencil stroke fades along its
    /// length (a 2's hook, a 6's loop): a threshold strict enough to keep the paper clean cuts it
    /// into pieces, and one lax enough to keep it whole fills the paper with specks; growing the
    /// sure ink through the lax one keeps the stroke and leaves the specks that touch no stroke.
    public func grown(within weak: GrayImage) -> GrayImage {
        precondition(weak.width == width && weak.height == height, "grown(within:): sizes differ")
        let w = width, h = height
        var out = pixels
        var stack = [Int32]()
        out.withUnsafeMutableBufferPointer { o in
            weak.pixels.withUnsafeBufferPointer { faint in
                for start in 0..<(w * h) where o[start] == 0 {
                    stack.append(Int32(start))
                    while let last = stack.popLast() {
                        let i = Int(last), x = i % w, y = i / w
                        for dy in -1...1 {
                            let ny = y + dy
                            guard ny >= 0 && ny < h else { continue }
                            for dx in -1...1 {
                                let nx = x + dx
                                guard nx >= 0 && nx < w else { continue }
                                let n = ny * w + nx
                                // Taken: marked ink now, so each pixel enters the stack once.
                                if o[n] != 0 && faint[n] == 0 { o[n] = 0; stack.append(Int32(n)) }
                            }
                        }
                    }
                }
            }
        }
        return GrayImage(width: w, height: h, pixels: out)
    }

    /// Counts of pixels per grey level, `bins` equal bins over 0...1 (values outside are clamped).
    func greyHistogram(bins: Int) -> [Int] {
        var histogram = [Int](repeating: 0, count: bins)
        let lock = NSLock()
        pixels.withUnsafeBufferPointer { src in
            let s = src.baseAddress!, w = width
            pageCleaningChunks(height) { rows in
                // Four interleaved sub-histograms: runs of equal pixels (paper) would otherwise make
                // every increment wait for the previous one to the same counter.
                let local = UnsafeMutablePointer<Int32>.allocate(capacity: 4 * bins)
                local.initialize(repeating: 0, count: 4 * bins)
                defer { local.deallocate() }
                let scale = Float(bins), top = Float(bins - 1)
                @inline(__always) func bin(_ v: Float) -> Int {
                    // Clamped to the end bins; NaN fails both tests and lands in bin 0.
                    Int(v > 0 ? Swift.min(v * scale, top) : 0)
                }
                let first = rows.lowerBound * w, last = rows.upperBound * w
                var i = first
                while i + 4 <= last {
                    local[bin(s[i])] += 1
                    local[bins + bin(s[i + 1])] += 1
                    local[2 * bins + bin(s[i + 2])] += 1
                    local[3 * bins + bin(s[i + 3])] += 1
                    i += 4
                }
                while i < last { local[bin(s[i])] += 1; i += 1 }
                var merged = [Int](repeating: 0, count: bins)
                for b in 0..<bins { merged[b] = Int(local[b]) + Int(local[bins + b]) + Int(local[2 * bins + b]) + Int(local[3 * bins + b]) }
                lock.lock()
                for b in 0..<bins { histogram[b] += merged[b] }
                lock.unlock()
            }
        }
        return histogram
    }
}
