import Foundation
import NeuralNet

/// Continental forms of handwritten digits that the MNIST family (American hands) hardly has: the 7
/// with a bar across its stem and the 1 with a long up-stroke (a flag) to its top. The archival
/// stations write them so (MeteoSaver station 508's 1s and 7s are read as 7, 9 and 1 by models that
/// never saw them); drawing them onto training digits teaches the readers the shapes without a
/// single transcribed cell of such a hand.
///
/// Works on `DigitDataset` images (side x side, ink = 1, the normaliser's 48-pixel box), before any
/// augmentation, so the added strokes are warped, thickened, blurred and binarised like the rest.
public enum ContinentalDigits {
    /// Restyles `image` (a digit of class `digit`) in place: a 7 gets a crossbar, a 1 a flag.
    /// Other digits, and images without ink, are left alone. Returns whether it drew anything.
    @discardableResult
    public static func restyle(_ image: inout [Float], side: Int, digit: Int, rng: inout RandomGenerator) -> Bool {
        guard digit == 1 || digit == 7, let box = inkBox(image, side: side) else { return false }
        let height = Double(box.maxY - box.minY + 1)
        guard height >= 8 else { return false }
        let thickness = max(2, min(7, Int(strokeWidth(image, side: side).rounded())))
        if digit == 7 {
            // The bar crosses the stem a little below the middle, about as wide as the 7's top arm is long.
            let y = box.minY + Int(height * Double(rng.nextFloat(in: 0.45..<0.62)))
            guard let stem = runCentres(image, side: side, row: y).first else { return false }
            let half = height * Double(rng.nextFloat(in: 0.16..<0.28))
            let tilt = height * Double(rng.nextFloat(in: -0.05..<0.05))
            stroke(&image, side: side, x0: stem - half, y0: Double(y) + tilt, x1: stem + half * Double(rng.nextFloat(in: 0.7..<1.1)),
                   y1: Double(y) - tilt, thickness: thickness)
        } else {
            // The flag starts left of and below the top and runs up into it.
            guard let top = runCentres(image, side: side, row: box.minY).first else { return false }
            let length = height * Double(rng.nextFloat(in: 0.22..<0.4))
            let angle = Double(rng.nextFloat(in: 0.45..<0.95))   // radians below the horizontal
            stroke(&image, side: side, x0: top - length * cos(angle), y0: Double(box.minY) + length * sin(angle),
                   x1: top, y1: Double(box.minY), thickness: thickness)
        }
        return true
    }

    /// The ink's bounding box (pixels above 0.5), nil without ink.
    static func inkBox(_ image: [Float], side: Int) -> (minX: Int, minY: Int, maxX: Int, maxY: Int)? {
        var minX = side, minY = side, maxX = -1, maxY = -1
        for y in 0..<side {
            for x in 0..<side where image[y * side + x] > 0.5 {
                minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
            }
        }
        return maxX >= 0 ? (minX, minY, maxX, maxY) : nil
    }

    /// Mean length of the horizontal ink runs: about the pen's width for the mostly upright
    /// strokes of 1 and 7.
    static func strokeWidth(_ image: [Float], side: Int) -> Double {
        var ink = 0, runs = 0
        for y in 0..<side {
            var inside = false
            for x in 0..<side {
                let on = image[y * side + x] > 0.5
                if on { ink += 1 }
                if on && !inside { runs += 1 }
                inside = on
            }
        }
        return runs == 0 ? 3 : Double(ink) / Double(runs)
    }

    /// Centres of the ink runs of one row, left to right.
    static func runCentres(_ image: [Float], side: Int, row: Int) -> [Double] {
        var centres: [Double] = []
        var start: Int? = nil
        for x in 0...side {
            let on = x < side && image[row * side + x] > 0.5
            if on && start == nil { start = x }
            if !on, let s = start {
                centres.append(Double(s + x - 1) / 2)
                start = nil
            }
        }
        return centres
    }

    /// A straight stroke of full ink, `thickness` pixels wide, clipped to the image.
    static func stroke(_ image: inout [Float], side: Int, x0: Double, y0: Double, x1: Double, y1: Double, thickness: Int) {
        let steps = max(1, Int(max(abs(x1 - x0), abs(y1 - y0)).rounded(.up)) * 2)
        let radius = Double(thickness) / 2
        for s in 0...steps {
            let t = Double(s) / Double(steps)
            let cx = x0 + (x1 - x0) * t, cy = y0 + (y1 - y0) * t
            for y in stride(from: max(0, Int((cy - radius).rounded(.down))), through: min(side - 1, Int((cy + radius).rounded(.up))), by: 1) {
                for x in stride(from: max(0, Int((cx - radius).rounded(.down))), through: min(side - 1, Int((cx + radius).rounded(.up))), by: 1)
                where (Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy) <= radius * radius {
                    image[y * side + x] = 1
                }
            }
        }
    }
}
