import Foundation
import Imaging
import NeuralNet

/// Synthetic table cells composed from single handwritten digits (the training split of the
/// MNIST-family corpus): values shaped like logbook readings (1-3 digits, usually one decimal),
/// varied spacing, touching digits, a decimal dot or comma or none, a rare minus sign, ruling-line
/// remnants and dotted underlines at the edges, strokes of neighbouring cells, blur, noise and
/// binarisation. Teaches the CRNN what a cell looks like beyond the few real stations.
public struct CellSynthesizer: Sendable {
    public let digits: DigitDataset
    /// Image indices per digit class.
    private let byClass: [[Int]]
    /// Chance that a 1 or a 7 is drawn in its continental form (`ContinentalDigits`).
    public var continentalProbability: Float = 0

    public init(digits: DigitDataset) {
        precondition(!digits.isEmpty, "CellSynthesizer needs digits")
        self.digits = digits
        var byClass = [[Int]](repeating: [], count: 10)
        for (index, label) in digits.labels.enumerated() { byClass[label].append(index) }
        precondition(byClass.allSatisfy { !$0.isEmpty }, "CellSynthesizer needs every digit class")
        self.byClass = byClass
    }

    /// One cell in paper polarity (0 = ink) and its text, e.g. "287" (no visible point) or "28.7".
    public func make(rng: inout RandomGenerator) -> (image: GrayImage, text: String) {
        let height = 44 + rng.nextInt(28), width = 80 + rng.nextInt(70)
        var ink = [Float](repeating: 0, count: width * height)

        // The value: integer digits, decimals, separator drawn or not.
        let integerDigits = [1, 2, 2, 2, 2, 2, 3, 3][rng.nextInt(8)]
        let decimals = rng.nextFloat() < 0.88 ? 1 : 0
        var values: [Int] = (0..<(integerDigits + decimals)).map { _ in rng.nextInt(10) }
        if integerDigits > 1 && values[0] == 0 { values[0] = 1 + rng.nextInt(9) }
        let separatorStyle = decimals == 0 ? 0 : [0, 0, 0, 1, 1, 2][rng.nextInt(6)]   // none, dot, comma
        let negative = rng.nextFloat() < 0.03

        // Glyphs are about 0.75 of their height wide with their gaps: keep the value inside the cell.
        let glyphs = Double(values.count) + (negative ? 0.6 : 0) + (separatorStyle != 0 ? 0.4 : 0)
        let digitHeight = min(Double(height) * Double(rng.nextFloat(in: 0.42..<0.72)), Double(width) * 0.85 / (glyphs * 0.95))
        let slant = Double(rng.nextFloat(in: -0.15..<0.2))
        let room = max(0, Double(width) * 0.92 - glyphs * digitHeight * 0.95)
        var x = min(Double(width) * Double(rng.nextFloat(in: 0.02..<0.3)), room)
        let baseline = Double(height) * Double(rng.nextFloat(in: 0.55..<0.85))
        var text = ""
        if negative {
            let length = digitHeight * Double(rng.nextFloat(in: 0.3..<0.5))
            let y = Int(baseline - digitHeight * 0.5)
            drawLine(&ink, width: width, height: height, x0: x, y0: Double(y), x1: x + length, y1: Double(y),
                     thickness: 1 + rng.nextInt(2))
            x += length + digitHeight * 0.15
            text += "-"
        }
        for (position, digit) in values.enumerated() {
            if position == integerDigits && separatorStyle != 0 {
                let size = max(2.0, digitHeight * Double(rng.nextFloat(in: 0.08..<0.16)))
                let cx = x + size * 0.8, cy = baseline - size * 0.6
                if separatorStyle == 1 {
                    drawDot(&ink, width: width, height: height, cx: cx, cy: cy, radius: size / 2)
                } else {
                    drawLine(&ink, width: width, height: height, x0: cx + size * 0.3, y0: cy - size * 0.4,
                             x1: cx - size * 0.4, y1: cy + size * 1.4, thickness: max(1, Int(size / 2)))
                }
                x += size * 1.6 + Double(rng.nextFloat(in: 0..<0.15)) * digitHeight
                text += "."
            }
            let glyphHeight = digitHeight * Double(rng.nextFloat(in: 0.9..<1.08))
            let placed = pasteDigit(&ink, width: width, height: height, digit: digit, x: x,
                                    bottom: baseline + Double(rng.nextFloat(in: -0.06..<0.06)) * digitHeight,
                                    glyphHeight: glyphHeight, aspect: Double(rng.nextFloat(in: 0.8..<1.2)), slant: slant,
                                    rng: &rng)
            x += placed + glyphHeight * Double(rng.nextFloat(in: -0.08..<0.45))
            text += String(digit)
        }

        // Table furniture and neighbours.
        if rng.nextFloat() < 0.5 {   // dotted or drawn underline under the digits
            let y = min(height - 1, Int(baseline + Double(2 + rng.nextInt(5))))
            let dotted = rng.nextFloat() < 0.7
            var px = Double(rng.nextInt(width / 4))
            let end = Double(width - rng.nextInt(width / 5))
            while px < end {
                let length = dotted ? 1.0 + Double(rng.nextInt(3)) : end - px
                drawLine(&ink, width: width, height: height, x0: px, y0: Double(y), x1: px + length, y1: Double(y), thickness: 1 + rng.nextInt(2))
                px += length + (dotted ? 2.0 + Double(rng.nextInt(4)) : 0)
            }
        }
        for side in 0..<4 where rng.nextFloat() < [0.55, 0.3, 0.35, 0.3][side] {   // rule remnants
            let thickness = 1 + rng.nextInt(3)
            let inset = Double(rng.nextInt(6))
            let from = Double(rng.nextFloat(in: 0..<0.3)), to = Double(rng.nextFloat(in: 0.7..<1.0))
            switch side {
            case 0: drawLine(&ink, width: width, height: height, x0: Double(width - 1) - inset, y0: from * Double(height),
                             x1: Double(width - 1) - inset, y1: to * Double(height), thickness: thickness)
            case 1: drawLine(&ink, width: width, height: height, x0: inset, y0: from * Double(height),
                             x1: inset, y1: to * Double(height), thickness: thickness)
            case 2: drawLine(&ink, width: width, height: height, x0: from * Double(width), y0: inset,
                             x1: to * Double(width), y1: inset, thickness: thickness)
            default: drawLine(&ink, width: width, height: height, x0: from * Double(width), y0: Double(height - 1) - inset,
                              x1: to * Double(width), y1: Double(height - 1) - inset, thickness: thickness)
            }
        }
        if rng.nextFloat() < 0.3 {   // a stroke of the cell above or below, cut by the crop
            let above = rng.nextFloat() < 0.5
            let glyphHeight = digitHeight * Double(rng.nextFloat(in: 0.8..<1.1))
            let visible = glyphHeight * Double(rng.nextFloat(in: 0.1..<0.3))
            let bottom = above ? visible : Double(height) + glyphHeight - visible
            _ = pasteDigit(&ink, width: width, height: height, digit: rng.nextInt(10),
                           x: Double(rng.nextInt(max(1, width - Int(glyphHeight)))), bottom: bottom,
                           glyphHeight: glyphHeight, aspect: 1, slant: slant, rng: &rng)
        }
        if rng.nextFloat() < 0.15 {   // the last digit of the cell on the left
            let glyphHeight = digitHeight
            _ = pasteDigit(&ink, width: width, height: height, digit: rng.nextInt(10),
                           x: -glyphHeight * Double(rng.nextFloat(in: 0.45..<0.75)), bottom: baseline,
                           glyphHeight: glyphHeight, aspect: 1, slant: slant, rng: &rng)
        }
        return (GrayImage(width: width, height: height, pixels: ink.map { 1 - min(1, $0) }), text)
    }

    /// Pastes a random training image of `digit`, its ink box scaled to `glyphHeight`, with its
    /// left edge at `x` and its bottom at `bottom`; returns the width it took.
    private func pasteDigit(_ ink: inout [Float], width: Int, height: Int, digit: Int, x: Double, bottom: Double,
                            glyphHeight: Double, aspect: Double, slant: Double, rng: inout RandomGenerator) -> Double {
        let choices = byClass[digit]
        var image = digits.image(at: choices[rng.nextInt(choices.count)])
        let side = DigitDataset.side
        // Draws from rng only when enabled, so runs without it make the cells they always made.
        if continentalProbability > 0, digit == 1 || digit == 7, rng.nextFloat() < continentalProbability {
            ContinentalDigits.restyle(&image, side: side, digit: digit, rng: &rng)
        }
        var minX = side, maxX = -1, minY = side, maxY = -1
        for y in 0..<side {
            for x in 0..<side where image[y * side + x] > 0.2 {
                minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
            }
        }
        guard maxX >= minX else { return glyphHeight * 0.5 }
        let boxWidth = Double(maxX - minX + 1), boxHeight = Double(maxY - minY + 1)
        let scale = glyphHeight / boxHeight
        let scaleX = scale * aspect
        let outWidth = boxWidth * scaleX
        let top = bottom - glyphHeight
        // Inverse mapping, bilinear, with a shear: x_src depends on the distance from the bottom.
        let x0 = Int((x - abs(slant) * glyphHeight).rounded(.down)), x1 = Int((x + outWidth + abs(slant) * glyphHeight).rounded(.up))
        let y0 = Int(top.rounded(.down)), y1 = Int(bottom.rounded(.up))
        let rowRange = max(0, y0)..<max(max(0, y0), min(height, y1 + 1))
        let columnRange = max(0, x0)..<max(max(0, x0), min(width, x1 + 1))
        for py in rowRange {
            let sy = (Double(py) + 0.5 - top) / scale - 0.5 + Double(minY)
            let shear = slant * (bottom - Double(py))
            for px in columnRange {
                let sx = (Double(px) + 0.5 - x - shear) / scaleX - 0.5 + Double(minX)
                let value = bilinear(image, side: side, x: sx, y: sy)
                if value > ink[py * width + px] { ink[py * width + px] = value }
            }
        }
        return outWidth
    }
}

@inline(__always) func bilinear(_ image: [Float], side: Int, x: Double, y: Double) -> Float {
    bilinear(image, width: side, height: side, x: x, y: y)
}

/// Bilinear sample of a (height x width) image, 0 outside.
@inline(__always) func bilinear(_ image: [Float], width: Int, height: Int, x: Double, y: Double) -> Float {
    let fx = x.rounded(.down), fy = y.rounded(.down)
    let ix = Int(fx), iy = Int(fy)
    guard ix >= -1, iy >= -1, ix < width, iy < height else { return 0 }
    let ax = Float(x - fx), ay = Float(y - fy)
    func at(_ x: Int, _ y: Int) -> Float { x >= 0 && y >= 0 && x < width && y < height ? image[y * width + x] : 0 }
    return (1 - ay) * ((1 - ax) * at(ix, iy) + ax * at(ix + 1, iy)) + ay * ((1 - ax) * at(ix, iy + 1) + ax * at(ix + 1, iy + 1))
}

/// A straight stroke of `thickness` pixels (ink = 1).
func drawLine(_ ink: inout [Float], width: Int, height: Int, x0: Double, y0: Double, x1: Double, y1: Double, thickness: Int) {
    let steps = max(1, Int(max(abs(x1 - x0), abs(y1 - y0)).rounded(.up)) * 2)
    let half = thickness / 2
    for s in 0...steps {
        let t = Double(s) / Double(steps)
        let cx = Int((x0 + (x1 - x0) * t).rounded()), cy = Int((y0 + (y1 - y0) * t).rounded())
        for dy in -half..<(thickness - half) {
            for dx in -half..<(thickness - half) {
                let x = cx + dx, y = cy + dy
                if x >= 0 && y >= 0 && x < width && y < height { ink[y * width + x] = 1 }
            }
        }
    }
}

func drawDot(_ ink: inout [Float], width: Int, height: Int, cx: Double, cy: Double, radius: Double) {
    let r = max(0.8, radius)
    for y in stride(from: max(0, Int((cy - r).rounded(.down))), through: min(height - 1, Int((cy + r).rounded(.up))), by: 1) {
        for x in stride(from: max(0, Int((cx - r).rounded(.down))), through: min(width - 1, Int((cx + r).rounded(.up))), by: 1) {
            let d = ((Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy)).squareRoot()
            if d <= r { ink[y * width + x] = 1 }
        }
    }
}

/// Roughening of a CRNN input (ink = 1, height x width): a small affine warp, thicker or thinner
/// strokes, blur, specks and noise, binarisation. Applied to real and synthetic cells alike.
public enum CellSequenceAugmenter {
    /// A cell crop shifted like a different cutter would: each side cropped or padded with paper
    /// by up to `fraction` of the size.
    public static func jitterCrop(_ cell: GrayImage, fraction: Double, rng: inout RandomGenerator) -> GrayImage {
        func offset(_ size: Int) -> Int {
            let limit = max(1, Int(Double(size) * fraction))
            return rng.nextInt(2 * limit + 1) - limit
        }
        let left = offset(cell.width), right = offset(cell.width), top = offset(cell.height), bottom = offset(cell.height)
        let newWidth = max(8, cell.width - left - right), newHeight = max(8, cell.height - top - bottom)
        var out = GrayImage(width: newWidth, height: newHeight, fill: 1)
        for y in 0..<newHeight {
            let sy = y + top
            guard sy >= 0 && sy < cell.height else { continue }
            for x in 0..<newWidth {
                let sx = x + left
                if sx >= 0 && sx < cell.width { out.pixels[y * newWidth + x] = cell.pixels[sy * cell.width + sx] }
            }
        }
        return out
    }

    public static func roughen(_ image: inout [Float], width: Int, height: Int, rng: inout RandomGenerator) {
        if rng.nextFloat() < 0.8 {
            // Rotation, shear and scale about the centre of the inked part.
            let angle = Double(rng.nextFloat(in: -3..<3)) * Double.pi / 180
            let shear = Double(rng.nextFloat(in: -0.18..<0.18))
            let scaleX = Double(rng.nextFloat(in: 0.88..<1.12)), scaleY = Double(rng.nextFloat(in: 0.9..<1.1))
            let shiftY = Double(rng.nextFloat(in: -2..<2))
            let cx = Double(width) / 2, cy = Double(height) / 2
            let (c, s) = (cos(angle), sin(angle))
            var out = [Float](repeating: 0, count: width * height)
            for y in 0..<height {
                for x in 0..<width {
                    // Inverse map: output -> source.
                    let dx = (Double(x) - cx) / scaleX, dy = (Double(y) - cy - shiftY) / scaleY
                    let ux = c * dx + s * dy - shear * dy, uy = -s * dx + c * dy
                    out[y * width + x] = bilinear(image, width: width, height: height, x: ux + cx, y: uy + cy)
                }
            }
            image = out
        }
        let r = rng.nextFloat()
        if r < 0.3 { morphology(&image, width: width, height: height, thicken: true) }
        else if r < 0.38 { morphology(&image, width: width, height: height, thicken: false) }
        if rng.nextFloat() < 0.25 { blur(&image, width: width, height: height) }
        if rng.nextFloat() < 0.25 {
            for _ in 0..<rng.nextInt(6) { image[rng.nextInt(image.count)] = 1 }
        }
        if rng.nextFloat() < 0.7 {
            let level = rng.nextFloat(in: 0.3..<0.6)
            for i in image.indices { image[i] = image[i] >= level ? 1 : 0 }
        } else if rng.nextFloat() < 0.4 {
            let deviation = rng.nextFloat(in: 0..<0.1)
            for i in image.indices { image[i] = min(1, max(0, image[i] + rng.nextNormal() * deviation)) }
        }
    }

    /// Grey dilation (thicken) or erosion (thin) with a plus-shaped neighbourhood.
    static func morphology(_ image: inout [Float], width: Int, height: Int, thicken: Bool) {
        let source = image
        for y in 0..<height {
            for x in 0..<width {
                var v = source[y * width + x]
                for (dx, dy) in [(-1, 0), (1, 0), (0, -1), (0, 1)] {
                    let nx = x + dx, ny = y + dy
                    let n = nx >= 0 && ny >= 0 && nx < width && ny < height ? source[ny * width + nx] : 0
                    v = thicken ? max(v, n) : min(v, n)
                }
                image[y * width + x] = v
            }
        }
    }

    /// One 3x3 binomial pass.
    static func blur(_ image: inout [Float], width: Int, height: Int) {
        let source = image
        let k: [Float] = [1, 2, 1]
        for y in 0..<height {
            for x in 0..<width {
                var sum: Float = 0, weight: Float = 0
                for dy in -1...1 {
                    for dx in -1...1 {
                        let nx = x + dx, ny = y + dy
                        guard nx >= 0 && ny >= 0 && nx < width && ny < height else { continue }
                        let w = k[dx + 1] * k[dy + 1]
                        sum += w * source[ny * width + nx]
                        weight += w
                    }
                }
                image[y * width + x] = sum / weight
            }
        }
    }
}
