import Foundation
import Imaging

/// Labels for cells nobody transcribed, taken where the two readers agree with confidence
/// (self-training). The whole-cell reader and the segment-then-classify reader fail in different
/// ways (one has no segmentation to get wrong, the other sees each digit alone), so a value both
/// read, each surely, is right far more often than either reading alone; those cells then train
/// the readers on hands and columns the transcriptions do not cover (`logbook pseudo-label`,
/// then `train-cells --extra-truth` and `harvest` + `train --data`).
public enum PseudoLabels {
    /// Why a cell got no label (for the summary).
    public enum Rejection: String, CaseIterable, Sendable, Error {
        case empty, unreadable, disagree, unsure
    }

    /// One labelled cell: the agreed value and both readers' confidences.
    public struct Label: Sendable, Equatable {
        public var index: Int
        public var value: String
        public var sequenceConfidence: Float
        public var segmentConfidence: Float
    }

    public struct Outcome: Sendable {
        public var labels: [Label]
        public var rejected: [Rejection: Int]
        public var cells: Int
    }

    /// The value two readings of one cell agree on, or why there is none. Both must hold digits
    /// (not empty, not unreadable), the same digits in the same order, and each digit read with
    /// at least `minConfidence`. The point is kept where either reader saw one at the same place;
    /// a point only one reader placed by a column convention is left out (the CRNN's targets
    /// already allow a cell written without its point, `CellSequenceInput.targetAlternatives`).
    public static func agreement(_ sequence: CellReading, _ segment: CellReading, minConfidence: Float)
        -> Result<String, Rejection> {
        if sequence.flag == .empty || segment.flag == .empty || sequence.digits.isEmpty || segment.digits.isEmpty {
            return .failure(sequence.flag == .unreadable || segment.flag == .unreadable ? .unreadable : .empty)
        }
        if sequence.flag == .unreadable || segment.flag == .unreadable { return .failure(.unreadable) }
        let digits = sequence.digits.map(\.digit)
        guard digits == segment.digits.map(\.digit) else { return .failure(.disagree) }
        // A seen point where the readers place it differently is a disagreement too.
        let seenA = sequence.separatorSeen ? sequence.separatorAfter : nil
        let seenB = segment.separatorSeen ? segment.separatorAfter : nil
        if let a = seenA, let b = seenB, a != b { return .failure(.disagree) }
        guard sequence.confidence >= minConfidence, segment.confidence >= minConfidence else { return .failure(.unsure) }
        var text = digits.map(String.init).joined()
        if let point = seenA ?? seenB, point > 0, point < digits.count {
            text.insert(".", at: text.index(text.startIndex, offsetBy: point))
        }
        if sequence.value.hasPrefix("-") && segment.value.hasPrefix("-") { text = "-" + text }
        return .success(text)
    }

    /// Reads `cells` with both readers and keeps the agreed values (see `agreement`). The
    /// readers should not learn decimals from these cells' columns (`inferDecimals` off): the
    /// labels carry only the points the cells show.
    public static func label(cells: [GrayImage], sequence: any CellImageReader, segment: any CellImageReader,
                             minConfidence: Float) -> Outcome {
        let first = sequence.read(cells: cells, columns: nil)
        let second = segment.read(cells: cells, columns: nil)
        var labels: [Label] = []
        var rejected: [Rejection: Int] = [:]
        for (index, (a, b)) in zip(first, second).enumerated() {
            switch agreement(a, b, minConfidence: minConfidence) {
            case .success(let value):
                labels.append(Label(index: index, value: value, sequenceConfidence: a.confidence, segmentConfidence: b.confidence))
            case .failure(let why):
                rejected[why, default: 0] += 1
            }
        }
        return Outcome(labels: labels, rejected: rejected, cells: cells.count)
    }

    /// The labels as a truth CSV (`image,value,station,sequence_confidence,segment_confidence`)
    /// that `train-cells --extra-truth`, `harvest --truth` and `evaluate-cells --truth` read.
    public static func truthCSV(_ outcome: Outcome, imagePaths: [String], stations: [String]) -> String {
        var lines = ["image,value,station,sequence_confidence,segment_confidence"]
        for label in outcome.labels {
            let fields = [imagePaths[label.index], label.value, stations[label.index],
                          String(format: "%.4f", label.sequenceConfidence), String(format: "%.4f", label.segmentConfidence)]
            lines.append(fields.map(csvField).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func csvField(_ text: String) -> String {
        text.contains(",") || text.contains("\"") ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }
}
