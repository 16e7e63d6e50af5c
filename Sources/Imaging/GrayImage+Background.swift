import Dispatch
import Foundation

// Page cleaning, part 1: illumination flattening for photographed pages.
//
// A phone photo of a logbook page has paper that is anything but uniform: a light fall-off towards
// the corners, the shadow of the photographer's hand, darker valleys along folds and at the binding.
// A global threshold then eats whole shadowed regions, and even local ones struggle where the shadow
// edge is sharp. Since shading multiplies the reflectance (pixel = paper reflectance x illumination),
// dividing by an estimate of the illumination — the brightness the PAPER would have at each point —
// gives back a page with evenly white paper and the ink at its own relative darkness.

/// Splits `0..<count` into contiguous chunks and runs them on all cores (DispatchQueue.concurrentPerform).
/// Chunks are a few per core so a core that is busy with someone else's work does not hold up the
/// rest; small jobs run inline because dispatching costs more than it saves.
func pageCleaningChunks(_ count: Int, minimumChunk: Int = 8, _ body: (Range<Int>) -> Void) {
    guard count > 0 else { return }
    let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
    let chunks = min(cores * 4, max(1, count / max(1, minimumChunk)))
    if chunks <= 1 { body(0..<count); return }
    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
        let start = count * chunk / chunks, end = count * (chunk + 1) / chunks
        if start < end { body(start..<end) }
    }
}

/// A new pixel array of `count` values, written by `fill` without being zeroed first (so the pages
/// of a large image are first touched by the threads that fill them, not by one zeroing pass).
/// `fill` must write every value.
func pageCleaningPixels(count: Int, _ fill: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
    guard count > 0 else { return [] }
    return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
        fill(buffer.baseAddress!)
        initialized = count
    }
}

/// The paper brightness on a coarse grid: one value per `factor` x `factor` block of the page.
/// Sampled back at full resolution by bilinear interpolation between block centres.
struct PaperBackgroundGrid {
    var grid: GrayImage
    var factor: Int
    /// Per full-resolution column: the left grid column and the weight of the right one.
    private var columnStart: [Int] = []
    private var columnWeight: [Float] = []

    init(grid: GrayImage, factor: Int, width: Int) {
        self.grid = grid
        self.factor = factor
        for x in 0..<width {
            let (start, weight) = Self.tap(x, factor: factor, cells: grid.width)
            columnStart.append(start)
            columnWeight.append(weight)
        }
    }

    /// Grid cell i has its centre at full-resolution position (i + 0.5) * factor - 0.5; beyond the
    /// outermost centres the edge value is held.
    private static func tap(_ position: Int, factor: Int, cells: Int) -> (Int, Float) {
        let g = min(max((Float(position) + 0.5) / Float(factor) - 0.5, 0), Float(cells - 1))
        let start = min(Int(g), max(cells - 2, 0))
        return (start, cells > 1 ? g - Float(start) : 0)
    }

    /// Bilinear sample of the grid for the full-resolution row `y`, written into `row` (`width` values).
    func sampleRow(_ y: Int, width: Int, into row: UnsafeMutablePointer<Float>) {
        let gw = grid.width, gh = grid.height
        let (y0, fy) = Self.tap(y, factor: factor, cells: gh)
        let y1 = min(y0 + 1, gh - 1)
        grid.pixels.withUnsafeBufferPointer { g in
            columnStart.withUnsafeBufferPointer { starts in
                columnWeight.withUnsafeBufferPointer { weights in
                    let top = g.baseAddress! + y0 * gw, bottom = g.baseAddress! + y1 * gw
                    let lastColumn = gw - 1
                    for x in 0..<width {
                        let x0 = starts[x], x1 = Swift.min(x0 + 1, lastColumn), fx = weights[x]
                        let upper = top[x0] + (top[x1] - top[x0]) * fx
                        let lower = bottom[x0] + (bottom[x1] - bottom[x0]) * fx
                        row[x] = upper + (lower - upper) * fy
                    }
                }
            }
        }
    }
}

/// Sliding max (`takeMax`) or min over a window of `radius` on each side along one axis of a small
/// grid, windows clipped at the border. The grids here are a few hundred cells wide, so the
/// straightforward O(n·radius) loop is cheaper than anything clever.
private func slidingExtremum(_ image: GrayImage, radius: Int, horizontal: Bool, takeMax: Bool) -> GrayImage {
    guard radius > 0 else { return image }
    var out = image
    let w = image.width, h = image.height
    for y in 0..<h {
        for x in 0..<w {
            var best = image.pixels[y * w + x]
            if horizontal {
                for xx in max(0, x - radius)...min(w - 1, x + radius) {
                    let v = image.pixels[y * w + xx]
                    best = takeMax ? max(best, v) : min(best, v)
                }
            } else {
                for yy in max(0, y - radius)...min(h - 1, y + radius) {
                    let v = image.pixels[yy * w + x]
                    best = takeMax ? max(best, v) : min(best, v)
                }
            }
            out.pixels[y * w + x] = best
        }
    }
    return out
}

/// Box mean over a window of `radius` on each side along one axis, windows clipped at the border.
private func boxMean(_ image: GrayImage, radius: Int, horizontal: Bool) -> GrayImage {
    guard radius > 0 else { return image }
    var out = image
    let w = image.width, h = image.height
    for y in 0..<h {
        for x in 0..<w {
            var sum: Float = 0, n: Float = 0
            if horizontal {
                for xx in max(0, x - radius)...min(w - 1, x + radius) { sum += image.pixels[y * w + xx]; n += 1 }
            } else {
                for yy in max(0, y - radius)...min(h - 1, y + radius) { sum += image.pixels[yy * w + x]; n += 1 }
            }
            out.pixels[y * w + x] = sum / n
        }
    }
    return out
}

extension GrayImage {
    /// Estimates the paper background on a coarse grid (see `paperBackground(radius:)`).
    func paperBackgroundGrid(radius: Int) -> PaperBackgroundGrid {
        let radius = max(1, radius)
        // Block size: about a third of the radius, so the grid closing below still has a few cells
        // of reach (radius 30 -> 10x10 blocks -> a 300x300 grid for a 3000x3000 page).
        let factor = max(1, radius / 3)
        let gw = (width + factor - 1) / factor, gh = (height + factor - 1) / factor
        // 1. Block MAX, not mean: ink is darker than paper, so the brightest pixel of a block is
        //    paper unless the block is entirely covered in ink. This removes most handwriting already.
        //    Vertical max over the block's rows first (a straight vectorisable loop), then across.
        let grid = pixels.withUnsafeBufferPointer { src in
            pageCleaningPixels(count: gw * gh) { d in
                let s = src.baseAddress!, w = width, h = height
                pageCleaningChunks(gh, minimumChunk: 4) { rows in
                    let columnMax = UnsafeMutablePointer<Float>.allocate(capacity: w)
                    defer { columnMax.deallocate() }
                    for gy in rows {
                        let y0 = gy * factor, y1 = Swift.min(h, y0 + factor)
                        columnMax.update(from: s + y0 * w, count: w)
                        for y in (y0 + 1)..<Swift.max(y1, y0 + 1) {
                            let line = s + y * w
                            for x in 0..<w { columnMax[x] = Swift.max(columnMax[x], line[x]) }
                        }
                        for gx in 0..<gw {
                            var m = columnMax[gx * factor]
                            for x in (gx * factor)..<Swift.min(w, (gx + 1) * factor) { m = Swift.max(m, columnMax[x]) }
                            d[gy * gw + gx] = m
                        }
                    }
                }
            }
        }
        var small = GrayImage(width: gw, height: gh, pixels: grid)
        // 2. Grey closing (max filter, then min filter, same reach) over `radius` pixels: the max
        //    filter erases dark features narrower than about 2 x radius (digits, rules, blots);
        //    the min filter then pulls the estimate back so a sharp shadow edge stays where it
        //    was, instead of the bright side bleeding into the dark side and leaving a dark fringe.
        let reach = max(1, (radius + factor - 1) / factor - 1)
        small = slidingExtremum(small, radius: reach, horizontal: true, takeMax: true)
        small = slidingExtremum(small, radius: reach, horizontal: false, takeMax: true)
        small = slidingExtremum(small, radius: reach, horizontal: true, takeMax: false)
        small = slidingExtremum(small, radius: reach, horizontal: false, takeMax: false)
        // 3. A light blur (one cell) against blockiness; any wider and fold edges grow halos.
        small = boxMean(small, radius: 1, horizontal: true)
        small = boxMean(small, radius: 1, horizontal: false)
        return PaperBackgroundGrid(grid: small, factor: factor, width: width)
    }

    /// The estimated brightness of the bare paper at every pixel (same size as the page): what the
    /// page would look like with all the ink taken off, shading, shadows and folds included.
    ///
    /// - Parameter radius: in pixels, a bit more than half the width of the widest dark feature to
    ///   be treated as ink rather than shadow (strokes, digits, ruled lines, small blots). Shading
    ///   that changes over distances much shorter than this is not followed. About 30 suits a page
    ///   photographed or scanned at ~300 dpi; 10–15 for a page a third of that size.
    public func paperBackground(radius: Int = 30) -> GrayImage {
        guard width > 0, height > 0 else { return self }
        let background = paperBackgroundGrid(radius: radius)
        let w = width
        let out = pageCleaningPixels(count: width * height) { d in
            pageCleaningChunks(height) { rows in
                for y in rows { background.sampleRow(y, width: w, into: d + y * w) }
            }
        }
        return GrayImage(width: width, height: height, pixels: out)
    }

    /// The page divided by its estimated paper background (`paperBackground(radius:)`), so shading,
    /// shadows and fold valleys vanish: paper comes out evenly white (1), ink keeps its darkness
    /// relative to the paper around it. Values are clamped to 0...1.
    ///
    /// After the division the typical paper level (the histogram peak above mid-grey) is scaled to
    /// exactly 1: the block maximum behind the estimate sits at the top of the paper's noise, which
    /// would otherwise leave the paper a little grey.
    ///
    /// - Parameter radius: see `paperBackground(radius:)`; about 30 for a ~300 dpi page.
    public func flattenedBackground(radius: Int = 30) -> GrayImage {
        guard width > 0, height > 0 else { return self }
        let background = paperBackgroundGrid(radius: radius)
        let w = width, h = height
        return pixels.withUnsafeBufferPointer { src in
            let s = src.baseAddress!
            // Paper level, from every 4th row (plenty for a histogram peak): the most common ratio
            // above mid-grey, the page being mostly paper. Ratios binned over 0..<2.
            let bins = 512, range: Float = 2
            var histogram = [Int](repeating: 0, count: bins)
            var bg = [Float](repeating: 1, count: w)
            bg.withUnsafeMutableBufferPointer { bgRow in
                for y in stride(from: 0, to: h, by: 4) {
                    background.sampleRow(y, width: w, into: bgRow.baseAddress!)
                    for x in 0..<w {
                        let ratio = s[y * w + x] / Swift.max(bgRow[x], 0.02)
                        histogram[Int(Swift.min(Swift.max(ratio, 0), range - 1e-3) * Float(bins) / range)] += 1
                    }
                }
            }
            let lowest = bins / 4  // ratio 0.5
            var peak = lowest
            for i in lowest..<bins where histogram[i] > histogram[peak] { peak = i }
            let paperLevel = histogram[peak] > 0 ? (Float(peak) + 0.5) * range / Float(bins) : 1
            let gain = 1 / paperLevel
            let out = pageCleaningPixels(count: w * h) { d in
                pageCleaningChunks(h) { rows in
                    let bgRow = UnsafeMutablePointer<Float>.allocate(capacity: w)
                    defer { bgRow.deallocate() }
                    for y in rows {
                        background.sampleRow(y, width: w, into: bgRow)
                        let line = s + y * w, target = d + y * w
                        for x in 0..<w {
                            // Floor the divisor: a black border around the photo would otherwise
                            // divide noise by almost nothing.
                            target[x] = Swift.min(Swift.max(line[x] * gain / Swift.max(bgRow[x], 0.02), 0), 1)
                        }
                    }
                }
            }
            return GrayImage(width: w, height: h, pixels: out)
        }
    }
}
