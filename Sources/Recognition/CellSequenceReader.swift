import Foundation
import Imaging
import NeuralNet

/// Reads whole cells with a CRNN trained with CTC (`logbook train-cells`): no digit segmentation;
/// the network reads the cell as a sequence over `0-9 . -` and greedy decoding gives the
/// characters. Returns the same `CellReading`s as the segmenting `CellReader`, so the two paths
/// are interchangeable.
///
/// Per character: the probability at its most confident frame, with the other digits' probabilities
/// at that frame as alternatives, and its box spanning its frames. The decimal point: where the
/// network reads one; otherwise the column's expected decimals (`CellReaderSettings`).
///
/// Not thread-safe (the model keeps per-forward state): one `read` at a time per reader.
public final class CellSequenceReader {
    public let model: CRNN
    public var settings: CellReaderSettings
    /// Whether the points the digit cutter sees count for the columns' decimals (read alone: yes;
    /// in a `CombinedCellReader`, which pools the segmenter's sightings itself, no).
    public var usesCutterSightings = true

    public init(model: CRNN, settings: CellReaderSettings = CellReaderSettings()) {
        self.model = model
        self.settings = settings
    }

    /// A reading whose confidence is below this is flagged for review (what `CellImageReader` asks).
    public var reviewThreshold: Float { settings.reviewThreshold }

    /// Loads a model file written by `logbook train-cells`; a temperature stored in the file
    /// (`Calibration.temperatureMetadataKey`) replaces `settings.temperature`.
    public convenience init(modelPath path: String, settings: CellReaderSettings = CellReaderSettings()) throws {
        var settings = settings
        if let temperature = try Calibration.temperature(ofModelAt: path) { settings.temperature = temperature }
        self.init(model: try CRNN.load(path: path), settings: settings)
    }

    /// Reads `cells` (scan crops in paper polarity: 0 = ink, 1 = paper); `columns`, when given,
    /// names each cell's column for the expected decimals.
    public func read(cells: [GrayImage], columns: [String?]? = nil) -> [CellReading] {
        precondition(columns == nil || columns!.count == cells.count,
                     "CellSequenceReader.read: \(columns!.count) columns for \(cells.count) cells")
        let config = model.config
        let (height, width) = (config.inputHeight, config.inputWidth)
        let pixels = height * width
        var inputs = [Float](repeating: 0, count: cells.count * pixels)
        var scales = [Double](repeating: 1, count: cells.count)
        inputs.withUnsafeMutableBufferPointer { buffer in
            scales.withUnsafeMutableBufferPointer { scaleBuffer in
                Threads.forEachChunk(cells.count, minimumPerChunk: 8) { range in
                    for index in range {
                        let prepared = CellSequenceInput.pixels(cell: cells[index], height: height, width: width)
                        for i in 0..<pixels { buffer[index * pixels + i] = prepared.pixels[i] }
                        scaleBuffer[index] = prepared.scaleX
                    }
                }
            }
        }
        var readings: [CellReading] = []
        readings.reserveCapacity(cells.count)
        let batchSize = max(1, settings.batchSize)
        var start = 0
        while start < cells.count {
            let end = min(cells.count, start + batchSize)
            let batch = Tensor(shape: [end - start, 1, height, width], data: Array(inputs[(start * pixels)..<(end * pixels)]))
            let probabilities = CellSequenceReader.frameProbabilities(model.forward(batch, training: false),
                                                                     temperature: settings.temperature)
            for row in 0..<(end - start) {
                let index = start + row
                readings.append(decode(probabilities, row: row, cell: cells[index], scaleX: scales[index],
                                       column: columns?[index] ?? nil))
            }
            start = end
        }
        guard settings.inferDecimals else { return readings }
        guard usesCutterSightings else { return DecimalInference.repoint(readings, columns: columns, settings: settings) }
        // The network rarely writes a point it was taught may be invisible ("287" for 28.7), so
        // alone it would leave every column without a convention; the points the digit cutter
        // sees, in cells it cuts into as many digits as were read, are evidence too.
        var sighted = [Int?](repeating: nil, count: readings.count)
        sighted.withUnsafeMutableBufferPointer { output in
            Threads.forEachChunk(readings.count, minimumPerChunk: 8) { range in
                for index in range where readings[index].separatorSighted == nil && !readings[index].digits.isEmpty {
                    let cut = CellDigitCutter.cut(cell: cells[index])
                    if let found = cut.separatorIndex, found > 0, found < cut.digits.count, cut.digits.count == readings[index].digits.count {
                        output[index] = found
                    }
                }
            }
        }
        for (index, found) in sighted.enumerated() where found != nil { readings[index].separatorSighted = found }
        return DecimalInference.repoint(readings, columns: columns, settings: settings)
    }

    /// Softmax over classes of (N, T, C) logits divided by `temperature`.
    static func frameProbabilities(_ logits: Tensor, temperature: Float) -> Tensor {
        let (n, t, c) = (logits.shape[0], logits.shape[1], logits.shape[2])
        var scaled = logits.reshaped([n * t, c])
        if temperature != 1 {
            let inverse = 1 / temperature
            for i in scaled.data.indices { scaled.data[i] *= inverse }
        }
        return softmax(scaled).reshaped([n, t, c])
    }

    func decode(_ probabilities: Tensor, row: Int, cell: GrayImage, scaleX: Double, column: String?) -> CellReading {
        let (frames, classes) = (probabilities.shape[1], probabilities.shape[2])
        let alphabet = Array(model.config.alphabet)
        let offset = row * frames * classes
        let characters = probabilities.data.withUnsafeBufferPointer { p in
            ctcGreedyDecode(probabilities: UnsafeBufferPointer(rebasing: p[offset..<(offset + frames * classes)]),
                            frames: frames, classes: classes)
        }
        if characters.isEmpty {
            return CellReading(value: "", digits: [], separatorAfter: nil, separatorSeen: false, confidence: 1, flag: .empty)
        }
        let framePixels = Double(model.config.inputWidth) / Double(frames) / scaleX
        var digits: [DigitReading] = []
        var separator: Int? = nil, separators = 0, signs = 0, signMisplaced = false
        var lowest: Float = 1
        for (position, character) in characters.enumerated() {
            lowest = min(lowest, character.probability)
            let symbol = alphabet[character.label - 1]
            if let digit = symbol.wholeNumberValue {
                let base = offset + character.peakFrame * classes
                var alternatives: [DigitReading.Alternative] = []
                for (k, s) in alphabet.enumerated() {
                    if let d = s.wholeNumberValue { alternatives.append(.init(digit: d, probability: probabilities.data[base + k + 1])) }
                }
                alternatives.sort { $0.probability != $1.probability ? $0.probability > $1.probability : $0.digit < $1.digit }
                let minX = max(0, min(cell.width - 1, Int(Double(character.firstFrame) * framePixels)))
                let maxX = max(minX, min(cell.width - 1, Int(Double(character.lastFrame + 1) * framePixels) - 1))
                digits.append(DigitReading(digit: digit, probability: character.probability,
                                           alternatives: Array(alternatives.prefix(3)),
                                           box: .init(minX: minX, minY: 0, maxX: maxX, maxY: cell.height - 1)))
            } else if symbol == "." || symbol == "," {
                separators += 1
                separator = digits.count
            } else if symbol == "-" {
                signs += 1
                if position != 0 { signMisplaced = true }
            }
        }
        var seen = false
        if let found = separator, separators == 1, found > 0, found < digits.count {
            seen = true
        } else if let decimals = settings.expectedDecimals(column: column), decimals > 0, digits.count > decimals {
            separator = digits.count - decimals
        } else {
            separator = nil
        }
        let negative = signs == 1 && !signMisplaced
        let value = digits.isEmpty ? "" : (negative ? "-" : "") + CellReader.value(digits: digits.map(\.digit), separatorAfter: separator)
        let malformed = digits.isEmpty || digits.count > settings.maxDigits || separators > 1 || signs > 1 || signMisplaced
            || (separators == 1 && !seen)
        let flag: CellFlag = malformed ? .unreadable : (lowest < settings.reviewThreshold ? .review : .ok)
        var reading = CellReading(value: value, digits: digits, separatorAfter: digits.isEmpty ? nil : separator,
                                  separatorSeen: seen, confidence: digits.isEmpty ? 0 : lowest, flag: flag)
        reading.separatorSighted = seen ? separator : nil
        return reading
    }
}
