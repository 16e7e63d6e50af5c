/// a + b, pinned to Int's range, so rectangles from untrusted layout data cannot trap on overflow.
func saturatingSum(_ a: Int, _ b: Int) -> Int {
    let (sum, overflow) = a.addingReportingOverflow(b)
    return overflow ? (b > 0 ? .max : .min) : sum
}

/// Per output sample along one axis: which input samples contribute and with what weight.
private struct ResamplingTaps {
    var start: [Int] = []
    var weights: [[Float]] = []
}

/// Shrinking averages every input pixel an output pixel covers (fractionally at the edges), so
/// thin pen strokes fade instead of vanishing between samples; enlarging interpolates linearly
/// between pixel centres.
private func resamplingTaps(from inputCount: Int, to outputCount: Int) -> ResamplingTaps {
    var taps = ResamplingTaps()
    taps.start.reserveCapacity(outputCount)
    taps.weights.reserveCapacity(outputCount)
    let scale = Double(inputCount) / Double(outputCount)
    if outputCount <= inputCount {
        for output in 0..<outputCount {
            let low = Double(output) * scale, high = Double(output + 1) * scale
            let first = Int(low.rounded(.down)), last = min(Int(high.rounded(.up)) - 1, inputCount - 1)
            var weights: [Float] = []
            for input in first...max(first, last) {
                let overlap = min(high, Double(input + 1)) - max(low, Double(input))
                weights.append(Float(max(overlap, 0) / scale))
            }
            taps.start.append(first)
            taps.weights.append(weights)
        }
    } else {
        for output in 0..<outputCount {
            // Centre-aligned: output pixel centres map onto the input's centre grid.
            let position = min(max((Double(output) + 0.5) * scale - 0.5, 0), Double(inputCount - 1))
            let first = min(Int(position), max(inputCount - 2, 0))
            let fraction = Float(position - Double(first))
            taps.start.append(first)
            taps.weights.append(inputCount > 1 ? [1 - fraction, fraction] : [1])
        }
    }
    return taps
}

extension GrayImage {
    /// A copy scaled to exactly `width` x `height` (aspect ratio is the caller's business).
    /// Each axis is handled separately: area averaging where it shrinks, bilinear where it grows.
    public func resized(width newWidth: Int, height newHeight: Int) -> GrayImage {
        precondition(newWidth >= 0 && newHeight >= 0, "resized: negative size \(newWidth)x\(newHeight)")
        if newWidth == width && newHeight == height { return self }
        if newWidth == 0 || newHeight == 0 || width == 0 || height == 0 {
            return GrayImage(width: newWidth, height: newHeight, fill: 1)
        }
        // Horizontal pass first into a (height x newWidth) buffer, then vertical.
        let horizontal = resamplingTaps(from: width, to: newWidth)
        var rows = [Float](repeating: 0, count: height * newWidth)
        for y in 0..<height {
            let source = y * width, target = y * newWidth
            for x in 0..<newWidth {
                let start = horizontal.start[x]
                var sum: Float = 0
                for (k, weight) in horizontal.weights[x].enumerated() { sum += weight * pixels[source + start + k] }
                rows[target + x] = sum
            }
        }
        let vertical = resamplingTaps(from: height, to: newHeight)
        var result = [Float](repeating: 0, count: newHeight * newWidth)
        for y in 0..<newHeight {
            let start = vertical.start[y], target = y * newWidth
            for (k, weight) in vertical.weights[y].enumerated() {
                let source = (start + k) * newWidth
                for x in 0..<newWidth { result[target + x] += weight * rows[source + x] }
            }
        }
        return GrayImage(width: newWidth, height: newHeight, pixels: result)
    }

    /// The part of the image inside the given rectangle. The rectangle is clipped to the image, so
    /// a box found by layout analysis that pokes past the page edge still yields what is there;
    /// a rectangle entirely outside gives a 0x0 image.
    public func cropped(x: Int, y: Int, width cropWidth: Int, height cropHeight: Int) -> GrayImage {
        let left = max(x, 0), top = max(y, 0)
        let right = min(saturatingSum(x, max(cropWidth, 0)), width)
        let bottom = min(saturatingSum(y, max(cropHeight, 0)), height)
        guard right > left, bottom > top else { return GrayImage(width: 0, height: 0, pixels: []) }
        var result = [Float]()
        result.reserveCapacity((right - left) * (bottom - top))
        for row in top..<bottom { result.append(contentsOf: pixels[(row * width + left)..<(row * width + right)]) }
        return GrayImage(width: right - left, height: bottom - top, pixels: result)
    }
}
