import Foundation
import Imaging
import NeuralNet

/// A whole cell image as the CRNN's input: ink = 1 on background 0 (the digit datasets' polarity),
/// scaled to the model's height keeping its aspect ratio, left-aligned and padded with background
/// to the model's width (squeezed horizontally when it is wider than that).
public enum CellSequenceInput {
    /// The input pixels (height x width, row-major) and the horizontal scale (input pixels per
    /// cell pixel), to map CTC frames back to cell columns.
    public static func pixels(cell: GrayImage, height: Int, width: Int) -> (pixels: [Float], scaleX: Double) {
        var out = [Float](repeating: 0, count: height * width)
        guard cell.width > 0, cell.height > 0 else { return (out, 1) }
        let natural = Int((Double(cell.width) * Double(height) / Double(cell.height)).rounded())
        let scaledWidth = max(1, min(width, natural))
        let scaled = cell.resized(width: scaledWidth, height: height)
        for y in 0..<height {
            for x in 0..<scaledWidth { out[y * width + x] = 1 - min(1, max(0, scaled.pixels[y * scaledWidth + x])) }
        }
        return (out, Double(scaledWidth) / Double(cell.width))
    }

    /// The CTC label sequences a transcribed value may show in the cell, most likely first. The
    /// truth's "." is often invisible in the ink and a whole value may be written with its ".0"
    /// ("20" as 200): training scores every candidate and learns from the one the model finds most
    /// likely (the others are alternatives, not noise). Characters outside the alphabet make the
    /// value unusable (nil).
    public static func targetAlternatives(value: String, alphabet: String, expectedDecimals: Int?) -> [[Int]]? {
        let characters = Array(alphabet)
        func encode(_ text: String) -> [Int]? {
            var labels: [Int] = []
            for character in text {
                guard let index = characters.firstIndex(of: character == "," ? "." : character) else { return nil }
                labels.append(index + 1)
            }
            return labels
        }
        var texts: [String] = []
        let normalized = value.replacingOccurrences(of: ",", with: ".")
        let withoutPoint = normalized.replacingOccurrences(of: ".", with: "")
        texts.append(withoutPoint)
        if normalized.contains(".") {
            texts.append(normalized)
        } else if let decimals = expectedDecimals, decimals > 0 {
            let zeros = String(repeating: "0", count: decimals)
            texts += [withoutPoint, withoutPoint + zeros, normalized + "." + zeros]
        }
        var seen = Set<String>()
        let unique = texts.filter { seen.insert($0).inserted }
        let encoded = unique.compactMap(encode)
        return encoded.count == unique.count && !encoded.isEmpty ? encoded : nil
    }
}
