/// An affine map (a, b, c, d, e, f): x' = a·x + b·y + c, y' = d·x + e·y + f.
public typealias AffineCoefficients = (Double, Double, Double, Double, Double, Double)

/// The inverse of an affine map, or nil when it is singular (it squashes the plane onto a line).
/// Handy for turning "where does the page go" into the output-to-input map `warpedAffine` takes.
public func invertedAffine(_ m: AffineCoefficients) -> AffineCoefficients? {
    let determinant = m.0 * m.4 - m.1 * m.3
    guard determinant.isFinite, abs(determinant) > 1e-12 else { return nil }
    let a = m.4 / determinant, b = -m.1 / determinant
    let d = -m.3 / determinant, e = m.0 / determinant
    return (a, b, -(a * m.2 + b * m.5), d, e, -(d * m.2 + e * m.5))
}

extension GrayImage {
    /// Resamples the image through an affine map, e.g. to deskew a page or normalise a digit.
    ///
    /// Convention (inverse mapping): `m` takes an OUTPUT pixel position (x, y) to the INPUT
    /// position it samples from: xIn = m.0·x + m.1·y + m.2, yIn = m.3·x + m.4·y + m.5. Positions
    /// are pixel centres, with pixel (0, 0) centred at (0, 0). Inverse mapping gives every output
    /// pixel exactly one value (no holes); use `invertedAffine` if you have the forward map.
    /// Samples are bilinear; neighbours outside the input count as `fill` (default: paper white),
    /// so the page edge blends into the background instead of smearing.
    ///
    /// Example: (1, 0, -5, 0, 1, -3) moves the content 5 pixels right and 3 down.
    public func warpedAffine(_ m: AffineCoefficients, width outputWidth: Int, height outputHeight: Int,
                             fill: Float = 1) -> GrayImage {
        precondition(outputWidth >= 0 && outputHeight >= 0, "warpedAffine: negative size")
        var result = [Float](repeating: fill, count: outputWidth * outputHeight)
        guard width > 0, height > 0 else { return GrayImage(width: outputWidth, height: outputHeight, pixels: result) }
        @inline(__always) func sample(_ x: Int, _ y: Int) -> Float {
            (x >= 0 && x < width && y >= 0 && y < height) ? pixels[y * width + x] : fill
        }
        for y in 0..<outputHeight {
            for x in 0..<outputWidth {
                let sourceX = m.0 * Double(x) + m.1 * Double(y) + m.2
                let sourceY = m.3 * Double(x) + m.4 * Double(y) + m.5
                guard sourceX.isFinite, sourceY.isFinite,
                      sourceX > -1, sourceY > -1, sourceX < Double(width), sourceY < Double(height) else { continue }
                let x0 = Int(sourceX.rounded(.down)), y0 = Int(sourceY.rounded(.down))
                let fx = Float(sourceX - Double(x0)), fy = Float(sourceY - Double(y0))
                let top = sample(x0, y0) * (1 - fx) + sample(x0 + 1, y0) * fx
                let bottom = sample(x0, y0 + 1) * (1 - fx) + sample(x0 + 1, y0 + 1) * fx
                result[y * outputWidth + x] = top * (1 - fy) + bottom * fy
            }
        }
        return GrayImage(width: outputWidth, height: outputHeight, pixels: result)
    }
}
