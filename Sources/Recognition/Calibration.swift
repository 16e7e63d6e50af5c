import Foundation
import Imaging
import NeuralNet

/// Temperature scaling (Guo et al. 2017, "On Calibration of Modern Neural Networks"): one scalar T
/// fitted on held-out data so that softmax(logits / T) gives probabilities that match accuracy.
/// T > 1 softens over-confident outputs; the predicted class never changes. The fitted T travels
/// in the model file's metadata (`logbook.temperature`) and `CellReader` applies it.
public enum Calibration {
    /// Metadata key of the temperature in a model file.
    public static let temperatureMetadataKey = "logbook.temperature"
    /// The range `fitTemperature` searches.
    public static let temperatureRange: ClosedRange<Float> = 0.05...20

    // MARK: Fitting

    /// Mean negative log-likelihood of softmax(logits / T) at the labels; `logits` is n x classes,
    /// row-major. Computed in Double with the log-sum-exp shift.
    public static func negativeLogLikelihood(logits: [Float], labels: [Int], classes: Int, temperature: Float = 1) -> Double {
        precondition(classes > 0 && logits.count == labels.count * classes,
                     "Calibration: \(logits.count) logits for \(labels.count) labels of \(classes) classes")
        guard !labels.isEmpty else { return 0 }
        let inverse = 1 / Double(temperature)
        var total = 0.0
        for (row, label) in labels.enumerated() {
            let base = row * classes
            var maximum = -Double.infinity
            for c in 0..<classes { maximum = max(maximum, Double(logits[base + c]) * inverse) }
            var sum = 0.0
            for c in 0..<classes { sum += exp(Double(logits[base + c]) * inverse - maximum) }
            total += maximum + log(sum) - Double(logits[base + label]) * inverse
        }
        return total / Double(labels.count)
    }

    /// The temperature in `temperatureRange` minimising the mean NLL of softmax(logits / T):
    /// golden-section search on log T (the NLL is convex in 1/T, unimodal in log T). Deterministic.
    public static func fitTemperature(logits: [Float], labels: [Int], classes: Int) -> Float {
        guard !labels.isEmpty else { return 1 }
        func nll(_ logT: Double) -> Double {
            negativeLogLikelihood(logits: logits, labels: labels, classes: classes, temperature: Float(exp(logT)))
        }
        var low = log(Double(temperatureRange.lowerBound)), high = log(Double(temperatureRange.upperBound))
        let ratio = (sqrt(5.0) - 1) / 2
        var a = high - ratio * (high - low), b = low + ratio * (high - low)
        var fa = nll(a), fb = nll(b)
        for _ in 0..<60 where high - low > 1e-6 {
            if fa <= fb {
                high = b; b = a; fb = fa
                a = high - ratio * (high - low); fa = nll(a)
            } else {
                low = a; a = b; fa = fb
                b = low + ratio * (high - low); fb = nll(b)
            }
        }
        let best = Float(exp((low + high) / 2))
        return min(max(best, temperatureRange.lowerBound), temperatureRange.upperBound)
    }

    // MARK: Measuring

    /// One bin of a reliability diagram: predictions whose confidence falls in [lower, upper).
    public struct ReliabilityBin: Sendable, Equatable {
        public var lower: Double
        public var upper: Double
        public var count: Int
        /// Mean confidence of the bin's predictions (NaN when empty).
        public var meanConfidence: Double
        /// Share of the bin's predictions that are right (NaN when empty).
        public var accuracy: Double
    }

    /// Equal-width confidence bins over [0, 1] (1 itself goes in the last bin).
    public static func reliability(confidences: [Float], correct: [Bool], bins: Int = 15) -> [ReliabilityBin] {
        precondition(confidences.count == correct.count, "Calibration: \(confidences.count) confidences, \(correct.count) outcomes")
        precondition(bins > 0, "Calibration: at least one bin")
        var counts = [Int](repeating: 0, count: bins), right = [Int](repeating: 0, count: bins)
        var sums = [Double](repeating: 0, count: bins)
        for (confidence, isRight) in zip(confidences, correct) {
            let c = min(max(Double(confidence), 0), 1)
            let bin = min(bins - 1, Int(c * Double(bins)))
            counts[bin] += 1
            sums[bin] += c
            if isRight { right[bin] += 1 }
        }
        return (0..<bins).map { k in
            ReliabilityBin(lower: Double(k) / Double(bins), upper: Double(k + 1) / Double(bins), count: counts[k],
                           meanConfidence: counts[k] == 0 ? .nan : sums[k] / Double(counts[k]),
                           accuracy: counts[k] == 0 ? .nan : Double(right[k]) / Double(counts[k]))
        }
    }

    /// Expected calibration error: sum over equal-width bins of (bin share) x |accuracy - mean confidence|.
    public static func expectedCalibrationError(confidences: [Float], correct: [Bool], bins: Int = 15) -> Double {
        guard !confidences.isEmpty else { return 0 }
        let total = Double(confidences.count)
        return reliability(confidences: confidences, correct: correct, bins: bins)
            .filter { $0.count > 0 }
            .reduce(0) { $0 + Double($1.count) / total * abs($1.accuracy - $1.meanConfidence) }
    }

    /// Winning-class probability and correctness of each row of softmax(logits / T).
    public static func confidences(logits: [Float], labels: [Int], classes: Int, temperature: Float = 1)
        -> (confidences: [Float], correct: [Bool]) {
        precondition(classes > 0 && logits.count == labels.count * classes)
        var confidences: [Float] = [], correct: [Bool] = []
        confidences.reserveCapacity(labels.count)
        correct.reserveCapacity(labels.count)
        let inverse = 1 / Double(temperature)
        for (row, label) in labels.enumerated() {
            let base = row * classes
            var best = 0
            for c in 1..<classes where logits[base + c] > logits[base + best] { best = c }
            let maximum = Double(logits[base + best]) * inverse
            var sum = 0.0
            for c in 0..<classes { sum += exp(Double(logits[base + c]) * inverse - maximum) }
            confidences.append(Float(1 / sum))
            correct.append(best == label)
        }
        return (confidences, correct)
    }

    /// NLL, ECE and accuracy of logits at a temperature.
    public struct Summary: Sendable, Equatable {
        public var count: Int
        public var accuracy: Double
        public var negativeLogLikelihood: Double
        public var expectedCalibrationError: Double
        public var meanConfidence: Double
    }

    public static func summary(logits: [Float], labels: [Int], classes: Int, temperature: Float = 1, bins: Int = 15) -> Summary {
        let scored = confidences(logits: logits, labels: labels, classes: classes, temperature: temperature)
        let n = Double(max(1, labels.count))
        return Summary(count: labels.count,
                       accuracy: Double(scored.correct.filter { $0 }.count) / n,
                       negativeLogLikelihood: negativeLogLikelihood(logits: logits, labels: labels, classes: classes,
                                                                    temperature: temperature),
                       expectedCalibrationError: expectedCalibrationError(confidences: scored.confidences,
                                                                          correct: scored.correct, bins: bins),
                       meanConfidence: scored.confidences.reduce(0.0) { $0 + Double($1) } / n)
    }

    /// The model's logits over the whole set (evaluation mode, in batches): n x classes, row-major.
    public static func collectLogits(model: ResNet, dataset: DigitDataset, batchSize: Int = 256) -> [Float] {
        var logits: [Float] = []
        logits.reserveCapacity(dataset.count * model.config.classes)
        var start = 0
        while start < dataset.count {
            let indices = Array(start..<min(dataset.count, start + max(1, batchSize)))
            logits += model.forward(dataset.tensor(for: indices), training: false).data
            start += max(1, batchSize)
        }
        return logits
    }

    // MARK: Model files

    /// The temperature stored in a model file's metadata, or nil when it has none (or it is not a
    /// positive finite number).
    public static func temperature(ofModelAt path: String) throws -> Float? {
        temperature(metadata: try SafeTensors.read(path: path).metadata)
    }

    public static func temperature(metadata: [String: String]) -> Float? {
        guard let text = metadata[temperatureMetadataKey], let value = Float(text.trimmingCharacters(in: .whitespaces)),
              value.isFinite, value > 0 else { return nil }
        return value
    }

    /// The float type a safetensors file stores its weights in: F16 when any floating tensor is
    /// F16, otherwise F32 (read from the header only).
    public static func storedFloatType(ofFileAt path: String) throws -> SafeTensors.DType {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CalibrationError(path: path, problem: "cannot be read")
        }
        defer { try? handle.close() }
        let prefix = handle.readData(ofLength: 8)
        guard prefix.count == 8 else { throw CalibrationError(path: path, problem: "too short to be a safetensors file") }
        var length: UInt64 = 0
        for i in 0..<8 { length |= UInt64(prefix[prefix.startIndex + i]) << (8 * UInt64(i)) }
        guard length < 100_000_000 else { throw CalibrationError(path: path, problem: "header too large") }
        let headerData = handle.readData(ofLength: Int(length))
        guard let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
            throw CalibrationError(path: path, problem: "the header is not a JSON object")
        }
        let types = header.compactMap { name, info -> String? in
            name == "__metadata__" ? nil : (info as? [String: Any])?["dtype"] as? String
        }
        return types.contains(SafeTensors.DType.f16.rawValue) ? .f16 : .f32
    }

    /// Rewrites a model file with `temperature` in its metadata (other metadata kept), atomically,
    /// in the float type the input had. `output` defaults to `input` (in place).
    public static func writeModel(from input: String, to output: String? = nil, temperature: Float) throws {
        let file = try SafeTensors.read(path: input)
        let dtype = try storedFloatType(ofFileAt: input)
        let model = try ResNet.load(path: input)
        var metadata = file.metadata
        metadata[temperatureMetadataKey] = String(format: "%.6g", Double(temperature))
        try model.save(to: output ?? input, dtype: dtype, metadata: metadata)
    }

    // MARK: Reliability diagram

    /// Bars of accuracy per confidence bin (blue, with the gap to the bin's mean confidence in
    /// red) against the diagonal of perfect calibration; one panel per reliability table.
    public static func renderReliability(panels: [(title: String, bins: [ReliabilityBin])], panelSize: Int = 420) -> RGBImage {
        let size = max(200, panelSize)
        var image = RGBImage(width: size * max(1, panels.count), height: size, color: .white)
        for (index, panel) in panels.enumerated() {
            let left = index * size + 56, top = 34, side = size - 56 - 20
            let bottom = top + side
            _ = image.drawText(panel.title, x: index * size + 10, y: 10, scale: 1)
            // Axes, grid and the diagonal.
            for tick in 0...5 {
                let f = Double(tick) / 5
                let y = bottom - Int(f * Double(side)), x = left + Int(f * Double(side))
                image.drawLine(x0: left, y0: y, x1: left + side, y1: y, color: .lightGray)
                image.drawLine(x0: x, y0: top, x1: x, y1: bottom, color: .lightGray)
                _ = image.drawText(String(format: "%.1f", f), x: left - 28, y: y - 3)
                _ = image.drawText(String(format: "%.1f", f), x: x - 8, y: bottom + 6)
            }
            for bin in panel.bins where bin.count > 0 {
                let x0 = left + Int(bin.lower * Double(side)) + 1
                let width = max(1, Int((bin.upper - bin.lower) * Double(side)) - 2)
                let accuracyHeight = Int(bin.accuracy * Double(side))
                image.fillRect(x: x0, y: bottom - accuracyHeight, width: width, height: accuracyHeight, color: .blue)
                let confidenceY = bottom - Int(bin.meanConfidence * Double(side))
                let gapTop = min(confidenceY, bottom - accuracyHeight), gapBottom = max(confidenceY, bottom - accuracyHeight)
                if gapBottom > gapTop {
                    image.drawRectangle(x: x0, y: gapTop, width: width, height: gapBottom - gapTop, color: .red)
                }
            }
            image.drawLine(x0: left, y0: bottom, x1: left + side, y1: top, thickness: 2, color: .gray)
            image.drawRectangle(x: left, y: top, width: side, height: side, color: .black)
            _ = image.drawText("confidence", x: left + side / 2 - 30, y: bottom + 18)
            _ = image.drawVerticalText("accuracy", x: index * size + 6, y: top + side / 2 + 24)
        }
        return image
    }
}

/// A model file whose header `Calibration` cannot read.
public struct CalibrationError: Error, CustomStringConvertible, Equatable {
    public var path: String
    public var problem: String
    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }
    public var description: String { "\(path): \(problem)" }
}
