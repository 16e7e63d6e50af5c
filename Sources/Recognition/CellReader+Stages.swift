import Imaging
import NeuralNet

// The steps of `CellReader.read(cells:columns:)` one by one, for the scan pipeline, which runs
// them as separate stages with their results on disk (segment: `CellDigitCutter.cut`; normalize:
// `DigitNormalizer.normalize(scan:)`; classify: `classify(normalized:)`; then `reading(...)`).
// Same cutter, normaliser, temperature, flags and value assembly as `read`, so a cell gets the
// same reading in `logbook run` as in `logbook evaluate-cells` (a test keeps them equal).

extension CellReader {
    /// Whether a cell cut into `digitCount` digits is normalised and classified at all (`read`
    /// leaves cells with more than twice `maxDigits` unclassified: they are unreadable anyway).
    public static func classifies(digitCount: Int, maxDigits: Int) -> Bool {
        digitCount > 0 && digitCount <= 2 * maxDigits
    }

    /// Softmax probabilities (with the reader's temperature) of normalised digits: `normalized`
    /// holds n x 64 x 64 values (`DigitNormalizer.side`); returns n x 10 probabilities. The
    /// digits are classified in batches of `settings.batchSize`, whatever cells or pages they
    /// come from.
    public func classify(normalized: [Float]) -> [Float] {
        let side = DigitNormalizer.side, pixels = side * side
        precondition(normalized.count % pixels == 0, "CellReader.classify: \(normalized.count) values is not a whole number of 64x64 digits")
        let count = normalized.count / pixels
        let classes = model.config.classes
        var probabilities = [Float]()
        probabilities.reserveCapacity(count * classes)
        let batchSize = max(1, settings.batchSize)
        var start = 0
        while start < count {
            let end = min(count, start + batchSize)
            // input: (batch, 1, 64, 64)
            let input = Tensor(shape: [end - start, 1, side, side], data: Array(normalized[(start * pixels)..<(end * pixels)]))
            var logits = model.forward(input, training: false)
            if settings.temperature != 1 {
                let inverse = 1 / settings.temperature
                for i in logits.data.indices { logits.data[i] *= inverse }
            }
            probabilities += softmax(logits).data
            start = end
        }
        return probabilities
    }

    /// One digit's reading from its 10 probabilities: the winner and the three best classes, as
    /// `read` ranks them (ties to the lower digit).
    public static func digitReading(probabilities p: ArraySlice<Float>, box: CutCell.Box) -> DigitReading {
        let p = Array(p)
        let ranked = p.indices.sorted { p[$0] != p[$1] ? p[$0] > p[$1] : $0 < $1 }
        let alternatives = ranked.prefix(3).map { DigitReading.Alternative(digit: $0, probability: p[$0]) }
        return DigitReading(digit: ranked[0], probability: p[ranked[0]], alternatives: alternatives, box: box)
    }

    /// The value, confidence and flag of a cell from its cut and classified digits (empty when
    /// the cell was not classified). `blank`: a digit had no ink after normalisation. `column`
    /// selects `settings.decimalsByColumn`.
    public func reading(cut: CutCell, digits: [DigitReading], blank: Bool, column: String?) -> CellReading {
        var reading = assemble(cut: cut, digits: digits, blank: blank, decimals: settings.expectedDecimals(column: column))
        reading.separatorSighted = cut.separatorIndex.flatMap { $0 > 0 && $0 < cut.digits.count ? $0 : nil }
        return reading
    }
}
