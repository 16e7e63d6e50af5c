import Dispatch
import Foundation

// Page cleaning, part 3: skew.
//
// Angle convention used throughout: a positive angle means the page content is turned
// COUNTER-CLOCKWISE as seen on screen (y pointing down), i.e. its horizontal lines rise to the right
// (y falls by tan(angle) per pixel to the right). `rotated(degrees: a)` produces such a skew and
// `skewAngle()` measures it, so `rotated(degrees: -skewAngle())` straightens a page.

extension GrayImage {
    /// The content rotated counter-clockwise (as seen on screen) by `degrees` about the image centre,
    /// same size as before: corners that leave the frame are cut off, corners that enter it are
    /// paper white. Bilinear, with `warpedAffine`'s conventions (pixel centres at integers, neighbours
    /// outside the image count as white), but rows run in parallel with a fast inner loop.
    public func rotated(degrees: Double) -> GrayImage {
        guard width > 0, height > 0, degrees != 0, degrees.isFinite else { return self }
        return warpedAffineFast(rotationMap(degrees: degrees))
    }

    /// Output-to-input map (warpedAffine's convention) of a counter-clockwise turn on screen (y down)
    /// by `degrees` about the centre: the output pixel at offset (u, v) from the centre shows the
    /// input at (c·u − s·v, s·u + c·v).
    func rotationMap(degrees: Double) -> AffineCoefficients {
        let theta = degrees * .pi / 180
        let c = cos(theta), s = sin(theta)
        let cx = Double(width - 1) / 2, cy = Double(height - 1) / 2
        return (c, -s, cx - c * cx + s * cy, s, c, cy - s * cx - c * cy)
    }

    /// Same result as `warpedAffine(m, width: width, height: height, fill: 1)` (up to float rounding
    /// of the sample positions), about 5x faster on a large page: each output row is split into the
    /// run whose samples lie wholly inside the image, done with no bounds checks, and the few pixels
    /// either side, done the careful way. `warpedAffine` alone does ~10 ns a pixel, 90 ms a 3000x3000 page.
    func warpedAffineFast(_ m: AffineCoefficients) -> GrayImage {
        let w = width, h = height
        let out = pixels.withUnsafeBufferPointer { src in
            pageCleaningPixels(count: w * h) { d in
                let s = src.baseAddress!
                @inline(__always) func at(_ x: Int, _ y: Int) -> Float {
                    (x >= 0 && x < w && y >= 0 && y < h) ? s[y * w + x] : 1
                }
                // warpedAffine's per-pixel rule, for the pixels near the image border.
                @inline(__always) func careful(_ sx: Double, _ sy: Double) -> Float {
                    guard sx > -1, sy > -1, sx < Double(w), sy < Double(h) else { return 1 }
                    let x0 = Int(sx.rounded(.down)), y0 = Int(sy.rounded(.down))
                    let fx = Float(sx - Double(x0)), fy = Float(sy - Double(y0))
                    let top = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx
                    let bottom = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx
                    return top * (1 - fy) + bottom * fy
                }
                // The x range where lo <= p·x + q <= hi, as a closed interval of reals.
                func span(_ p: Double, _ q: Double, _ lo: Double, _ hi: Double) -> (Double, Double) {
                    if abs(p) < 1e-12 { return (lo <= q && q <= hi) ? (-.infinity, .infinity) : (1, 0) }
                    let a = (lo - q) / p, b = (hi - q) / p
                    return (Swift.min(a, b), Swift.max(a, b))
                }
                pageCleaningChunks(h, minimumChunk: 16) { rows in
                    for y in rows {
                        let rowX = m.1 * Double(y) + m.2, rowY = m.4 * Double(y) + m.5
                        let target = d + y * w
                        // Inside run: both bilinear neighbours in the image, with a pixel of margin.
                        let (ax, bx) = span(m.0, rowX, 0, Double(w - 2))
                        let (ay, by) = span(m.3, rowY, 0, Double(h - 2))
                        let lower = Swift.max(ax, ay, 0), upper = Swift.min(bx, by, Double(w - 1))
                        var start = 0, end = 0
                        if lower <= upper, w >= 2, h >= 2 {
                            start = Swift.min(w, Int(lower.rounded(.up)) + 1)
                            end = Swift.max(start, Int(upper.rounded(.down)))
                        }
                        for x in 0..<start { target[x] = careful(m.0 * Double(x) + rowX, m.3 * Double(x) + rowY) }
                        let px = Float(m.0), py = Float(m.3), qx = Float(rowX), qy = Float(rowY)
                        let maxX = w - 2, maxY = h - 2
                        for x in start..<end {
                            let sx = px * Float(x) + qx, sy = py * Float(x) + qy
                            // Clamps only guard against float rounding at the run's ends.
                            let x0 = Swift.min(Swift.max(Int(sx), 0), maxX), y0 = Swift.min(Swift.max(Int(sy), 0), maxY)
                            let fx = sx - Float(x0), fy = sy - Float(y0)
                            let p = s + y0 * w + x0
                            let top = p[0] + (p[1] - p[0]) * fx
                            let bottom = p[w] + (p[w + 1] - p[w]) * fx
                            target[x] = top + (bottom - top) * fy
                        }
                        for x in end..<w { target[x] = careful(m.0 * Double(x) + rowX, m.3 * Double(x) + rowY) }
                    }
                }
            }
        }
        return GrayImage(width: w, height: h, pixels: out)
    }

    /// The skew of a text or table page in degrees (see the convention above), searched within
    /// ±`maxAngle`. 0 when there is too little ink to tell (blank or tiny pages).
    ///
    /// Method: projection profiles. The page is shrunk to about 1000 pixels on its long side
    /// (block averaging), its shading flattened and Otsu-binarised; then for each candidate angle
    /// the ink pixels are projected onto the direction perpendicular to that angle and the row
    /// histogram's sum of squares is taken. Ruled lines and lines of writing pile up into a few
    /// tall bins only when the angle matches, so the sum of squares peaks there. Candidates are
    /// searched coarse to fine (0.25°, then 0.05°) and the peak refined with a parabola.
    public func skewAngle(maxAngle: Double = 10) -> Double {
        let maxAngle = min(abs(maxAngle), 45)
        guard width >= 8, height >= 8, maxAngle > 0 else { return 0 }
        // 1. Shrink: the profile needs lines, not strokes, and the search cost scales with the ink.
        let factor = max(1, max(width, height) / 1000)
        let small = factor > 1 ? blockAveraged(factor: factor) : self
        // 2. Ink pixels, after flattening (shadows would otherwise count as ink and tilt the profile).
        let flat = small.flattenedBackground(radius: 10)
        let threshold = min(flat.otsuThreshold(), 0.75)
        var xs: [Float] = [], ys: [Float] = []
        let cx = Float(small.width - 1) / 2, cy = Float(small.height - 1) / 2
        for y in 0..<small.height {
            for x in 0..<small.width where flat.pixels[y * small.width + x] < threshold {
                xs.append(Float(x) - cx); ys.append(Float(y) - cy)
            }
        }
        // Too little ink to carry a direction (also: a blank page, where "ink" is noise).
        guard xs.count >= 50, xs.count < small.width * small.height / 2 else { return 0 }
        let diagonal = Int((Float(small.width * small.width + small.height * small.height)).squareRoot()) + 4
        let points = xs.count

        // Sum of squared bin counts of the ink projected perpendicular to `degrees`.
        func score(_ degrees: Double, every step: Int = 1) -> Double {
            let theta = degrees * .pi / 180
            let s = Float(sin(theta)), c = Float(cos(theta))
            let offset = Float(diagonal / 2)
            var bins = [Int32](repeating: 0, count: diagonal)
            xs.withUnsafeBufferPointer { px in
                ys.withUnsafeBufferPointer { py in
                    bins.withUnsafeMutableBufferPointer { b in
                        for i in Swift.stride(from: 0, to: points, by: step) {
                            // A line rising to the right by `degrees` has constant x·sin + y·cos.
                            let v = px[i] * s + py[i] * c + offset
                            b[Int(v)] += 1
                        }
                    }
                }
            }
            var total = 0.0
            for count in bins { total += Double(count) * Double(count) }
            return total
        }
        func scores(_ angles: [Double], every step: Int = 1) -> [Double] {
            var result = [Double](repeating: 0, count: angles.count)
            result.withUnsafeMutableBufferPointer { r in
                let base = r.baseAddress!
                pageCleaningChunks(angles.count, minimumChunk: 1) { range in
                    for i in range { base[i] = score(angles[i], every: step) }
                }
            }
            return result
        }
        // Ties go to the angle nearest 0, so a page with nothing to prefer is left alone.
        func best(_ angles: [Double], _ values: [Double]) -> Int {
            var pick = 0
            for i in angles.indices where values[i] > values[pick] || (values[i] == values[pick] && abs(angles[i]) < abs(angles[pick])) {
                pick = i
            }
            return pick
        }
        // 3. Coarse: every 0.25°. The peak of a page of lines is about atan(line height / width)
        //    wide, i.e. ~0.5° or more at this size, so a 0.25° grid cannot step over it.
        let coarseStep = 0.25
        let coarseCount = Int((maxAngle / coarseStep).rounded(.down))
        let coarse = (-coarseCount...coarseCount).map { Double($0) * coarseStep }
        // The coarse pass needs the lines, not every pixel of them: at most ~60k ink points.
        let coarseScores = scores(coarse, every: max(1, points / 60_000))
        let coarseBest = coarse[best(coarse, coarseScores)]
        // A flat profile everywhere (no lines at all) says nothing about skew.
        guard let lowest = coarseScores.min(), let highest = coarseScores.max(), highest > lowest * 1.02 else { return 0 }
        // 4. Fine: every 0.05° around the coarse peak, then a parabola through the top three.
        let fineStep = 0.05
        let fine = (-5...5).map { coarseBest + Double($0) * fineStep }.filter { abs($0) <= maxAngle + 1e-9 }
        let fineScores = scores(fine)
        let i = best(fine, fineScores)
        var angle = fine[i]
        if i > 0, i < fine.count - 1 {
            let a = fineScores[i - 1], b = fineScores[i], c = fineScores[i + 1]
            let denominator = a - 2 * b + c
            if denominator < 0 { angle += fineStep * 0.5 * (a - c) / denominator }
        }
        return min(max(angle, -maxAngle), maxAngle)
    }

    /// The page straightened: `skewAngle(maxAngle:)` measured, then the content rotated back by it
    /// about the centre (same size, white where the corners come in). `angle` is the skew that was
    /// found and removed; when it is 0 the image is returned untouched.
    public func deskewed(maxAngle: Double = 10) -> (image: GrayImage, angle: Double) {
        let angle = skewAngle(maxAngle: maxAngle)
        return (angle == 0 ? self : rotated(degrees: -angle), angle)
    }

    /// Mean of each `factor` x `factor` block (the last row/column of blocks may be partial).
    func blockAveraged(factor: Int) -> GrayImage {
        guard factor > 1 else { return self }
        let sw = (width + factor - 1) / factor, sh = (height + factor - 1) / factor
        var out = [Float](repeating: 0, count: sw * sh)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                let s = src.baseAddress!, d = dst.baseAddress!, w = width, h = height
                pageCleaningChunks(sh, minimumChunk: 4) { rows in
                    for by in rows {
                        let target = d + by * sw
                        let y0 = by * factor, y1 = Swift.min(h, y0 + factor)
                        for y in y0..<y1 {
                            let line = s + y * w
                            for bx in 0..<sw {
                                var total: Float = 0
                                for x in (bx * factor)..<Swift.min(w, (bx + 1) * factor) { total += line[x] }
                                target[bx] += total
                            }
                        }
                        for bx in 0..<sw {
                            let count = (y1 - y0) * (Swift.min(w, (bx + 1) * factor) - bx * factor)
                            target[bx] /= Float(count)
                        }
                    }
                }
            }
        }
        return GrayImage(width: sw, height: sh, pixels: out)
    }
}
