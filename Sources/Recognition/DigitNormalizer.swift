import Imaging

/// The one normalisation every digit goes through before the network sees it: the training sets
/// (MNIST, OpenCV, folders) and, later, the digits cut from scanned logbook cells. Using the same
/// code for both is what makes a model trained on clean digits applicable to scans at all.
///
/// Convention:
/// - Input is an INK MAP of any size: 1 = full ink, 0 = background (`normalize(ink:width:height:)`),
///   or a scan crop in paper polarity, 0 = black ink, 1 = white paper (`normalize(scan:)`).
/// - Output is `side` x `side` (64 x 64), row-major, ink = 1, background = 0.
/// - The ink's bounding box (pixels above `inkThreshold`; no binarisation, faint anti-aliased
///   edges keep their values) is cropped and scaled so that its longer side is `boxSide` (48),
///   keeping the aspect ratio: a "1" stays thin instead of being stretched into a blob. Shrinking
///   averages areas (thin strokes fade rather than vanish); enlarging interpolates bilinearly
///   (the same resampling as Imaging's `GrayImage.resized`).
/// - The scaled digit is placed so that its centre of mass lands on the field's centre, as MNIST
///   does (centring by mass is steadier than by box for digits with a long tail, like 7 or 9),
///   but clamped so that nothing is cut off.
/// - An input with no ink above the threshold yields all zeros.
public enum DigitNormalizer {
    /// Width and height of the normalised field.
    public static let side = 64
    /// The longer side of the digit's box after scaling; the rest is margin for centring and for
    /// augmentations (rotation, translation) to move into.
    public static let boxSide = 48
    /// Pixels above this ink value count for the bounding box.
    public static let inkThreshold: Float = 0.1

    /// Normalises an ink map (1 = ink, 0 = background) of `width` x `height` into a
    /// `side` x `side` ink map. Values are expected in 0...1.
    public static func normalize(ink: [Float], width: Int, height: Int) -> [Float] {
        precondition(width >= 0 && height >= 0 && ink.count == width * height,
                     "DigitNormalizer: \(ink.count) values for \(width)x\(height)")
        var output = [Float](repeating: 0, count: side * side)
        output.withUnsafeMutableBufferPointer { target in
            ink.withUnsafeBufferPointer { source in
                normalize(ink: source, width: width, height: height, into: target)
            }
        }
        return output
    }

    /// Normalises a scan crop in paper polarity (0 = black ink, 1 = white paper), e.g. a digit cut
    /// from a logbook cell.
    public static func normalize(scan: GrayImage) -> [Float] {
        normalize(ink: scan.pixels.map { 1 - $0 }, width: scan.width, height: scan.height)
    }

    /// Writes the normalised image into `target` (`side * side` values, fully overwritten), so
    /// loaders can fill a dataset's storage in place from several threads.
    static func normalize(ink source: UnsafeBufferPointer<Float>, width: Int, height: Int,
                          into target: UnsafeMutableBufferPointer<Float>) {
        precondition(target.count == side * side)
        for i in 0..<target.count { target[i] = 0 }
        // Bounding box of the ink.
        var left = width, right = -1, top = height, bottom = -1
        for y in 0..<height {
            let row = y * width
            for x in 0..<width where source[row + x] > inkThreshold {
                if x < left { left = x }
                if x > right { right = x }
                if y < top { top = y }
                bottom = y
            }
        }
        guard right >= left, bottom >= top else { return }
        let boxWidth = right - left + 1, boxHeight = bottom - top + 1

        let scale = Double(boxSide) / Double(max(boxWidth, boxHeight))
        let scaledWidth = min(boxSide, max(1, Int((Double(boxWidth) * scale).rounded())))
        let scaledHeight = min(boxSide, max(1, Int((Double(boxHeight) * scale).rounded())))
        let scaled = resample(source, width: width, box: (left, top, boxWidth, boxHeight),
                              toWidth: scaledWidth, toHeight: scaledHeight)

        // Centre of mass of the scaled digit, in its own pixel-centre coordinates.
        var mass: Double = 0, massX: Double = 0, massY: Double = 0
        for y in 0..<scaledHeight {
            for x in 0..<scaledWidth {
                let value = Double(scaled[y * scaledWidth + x])
                mass += value
                massX += value * Double(x)
                massY += value * Double(y)
            }
        }
        let centre = Double(side - 1) / 2
        let centreX = mass > 0 ? massX / mass : Double(scaledWidth - 1) / 2
        let centreY = mass > 0 ? massY / mass : Double(scaledHeight - 1) / 2
        let offsetX = min(max(Int((centre - centreX).rounded()), 0), side - scaledWidth)
        let offsetY = min(max(Int((centre - centreY).rounded()), 0), side - scaledHeight)
        for y in 0..<scaledHeight {
            let targetRow = (offsetY + y) * side + offsetX
            for x in 0..<scaledWidth {
                target[targetRow + x] = min(max(scaled[y * scaledWidth + x], 0), 1)
            }
        }
    }

    /// Per output sample along one axis: the first input sample and the weights of the inputs it
    /// averages, flattened (`weights[offsets[i]..<offsets[i + 1]]` belong to output i).
    private struct Taps {
        var first: [Int] = []
        var offsets: [Int] = [0]
        var weights: [Float] = []
    }

    /// The same resampling as Imaging's `GrayImage.resized` (kept equal by a test): area averaging
    /// where an axis shrinks, so thin strokes fade instead of vanishing; centre-aligned linear
    /// interpolation where it grows. Written out here on flat buffers because it runs for every
    /// training digit, and the generic version is slow in debug builds (tests load real data).
    private static func taps(from inputCount: Int, to outputCount: Int) -> Taps {
        var taps = Taps()
        let scale = Double(inputCount) / Double(outputCount)
        for output in 0..<outputCount {
            if outputCount <= inputCount {
                let low = Double(output) * scale, high = Double(output + 1) * scale
                let first = Int(low.rounded(.down)), last = min(Int(high.rounded(.up)) - 1, inputCount - 1)
                taps.first.append(first)
                for input in first...max(first, last) {
                    let overlap = min(high, Double(input + 1)) - max(low, Double(input))
                    taps.weights.append(Float(max(overlap, 0) / scale))
                }
            } else {
                let position = min(max((Double(output) + 0.5) * scale - 0.5, 0), Double(inputCount - 1))
                let first = min(Int(position), max(inputCount - 2, 0))
                let fraction = Float(position - Double(first))
                taps.first.append(first)
                if inputCount > 1 {
                    taps.weights.append(1 - fraction)
                    taps.weights.append(fraction)
                } else {
                    taps.weights.append(1)
                }
            }
            taps.offsets.append(taps.weights.count)
        }
        return taps
    }

    /// Scales the `box` (left, top, width, height) of a `width`-wide image to `toWidth` x `toHeight`.
    private static func resample(_ source: UnsafeBufferPointer<Float>, width: Int, box: (Int, Int, Int, Int),
                                 toWidth: Int, toHeight: Int) -> [Float] {
        let (left, top, boxWidth, boxHeight) = box
        let horizontal = taps(from: boxWidth, to: toWidth), vertical = taps(from: boxHeight, to: toHeight)
        var rows = [Float](repeating: 0, count: boxHeight * toWidth)
        rows.withUnsafeMutableBufferPointer { rows in
            horizontal.weights.withUnsafeBufferPointer { weights in
                for y in 0..<boxHeight {
                    let input = (top + y) * width + left, output = y * toWidth
                    for x in 0..<toWidth {
                        var sum: Float = 0
                        let first = horizontal.first[x], begin = horizontal.offsets[x], end = horizontal.offsets[x + 1]
                        for k in begin..<end { sum += weights[k] * source[input + first + k - begin] }
                        rows[output + x] = sum
                    }
                }
            }
        }
        var result = [Float](repeating: 0, count: toHeight * toWidth)
        result.withUnsafeMutableBufferPointer { result in
            rows.withUnsafeBufferPointer { rows in
                vertical.weights.withUnsafeBufferPointer { weights in
                    for y in 0..<toHeight {
                        let first = vertical.first[y], begin = vertical.offsets[y], end = vertical.offsets[y + 1]
                        let output = y * toWidth
                        for k in begin..<end {
                            let weight = weights[k], input = (first + k - begin) * toWidth
                            for x in 0..<toWidth { result[output + x] += weight * rows[input + x] }
                        }
                    }
                }
            }
        }
        return result
    }
}
