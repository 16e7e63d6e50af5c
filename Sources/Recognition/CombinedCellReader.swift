import Foundation
import Imaging

/// Reads every cell with two readers that fail differently (the whole-cell sequence reader and
/// the segment-then-classify reader) and keeps the first's reading. Where the two read different
/// numbers the cell is flagged for review and the second reading travels along as a
/// `secondOpinion`, which the table checks may take instead when the sheet's arithmetic prefers it.
public final class CombinedCellReader: CellImageReader {
    public let primary: any CellImageReader
    public let secondary: any CellImageReader

    /// For the decimals: the column hints, and whether to learn them from the points either reader saw.
    public var settings: CellReaderSettings

    public init(primary: any CellImageReader, secondary: any CellImageReader, settings: CellReaderSettings = CellReaderSettings()) {
        self.primary = primary
        self.secondary = secondary
        self.settings = settings
        // The segmenter's sightings are pooled below, after the readings are combined.
        if secondary is CellReader { (primary as? CellSequenceReader)?.usesCutterSightings = false }
    }

    public var reviewThreshold: Float { primary.reviewThreshold }

    public func read(cells: [GrayImage], columns: [String?]?) -> [CellReading] {
        let first = primary.read(cells: cells, columns: columns)
        var combined: [CellReading]
        if let segmenter = secondary as? CellReader {
            let (second, cuts) = segmenter.readWithCuts(cells: cells, columns: columns)
            combined = zip(first, second).map { CombinedCellReader.combine($0, $1) }
            recut(&combined, first: first, second: second, cuts: cuts, segmenter: segmenter, columns: columns)
        } else {
            combined = zip(first, secondary.read(cells: cells, columns: columns)).map { CombinedCellReader.combine($0, $1) }
        }
        // A sequence reader rarely reads a point the hand left faint; the segmenter's cutter may
        // have seen it. Pooling both readers' sightings decides the columns' decimals.
        return settings.inferDecimals ? DecimalInference.repoint(combined, columns: columns, settings: settings) : combined
    }

    /// The segmenter's (`CellReader.recutOpinions`).
    public func recutOpinions(cells: [GrayImage], columns: [String?]?, digitCounts: [Int]) -> [[SecondOpinion]] {
        secondary.recutOpinions(cells: cells, columns: columns, digitCounts: digitCounts)
    }

    /// Where the readers disagree, the segmenter's ink cut another way (`CellReader.joinings`,
    /// and `splits` when the first reader read one digit more and that is the column's usual
    /// count): a recut reading the first reader's digits (and sign) makes the two agree.
    func recut(_ combined: inout [CellReading], first: [CellReading], second: [CellReading], cuts: [CutCell],
               segmenter: CellReader, columns: [String?]?) {
        let keys = cuts.indices.map { (columns?[$0] ?? nil) ?? "" }
        let usual = CellReader.usualDigitCounts(columns: keys, cuts: cuts)
        for index in combined.indices where combined[index].readersDisagree && !first[index].digits.isEmpty {
            let cut = cuts[index], digits = second[index].digits
            guard digits.count == cut.digits.count, second[index].flag != .unreadable else { continue }
            let wanted = first[index].digits.map(\.digit), negative = first[index].value.hasPrefix("-")
            let splitTo = usual[keys[index]] == wanted.count ? wanted.count : -1
            let column = columns?[index] ?? nil
            let matches = { (reading: CellReading) in reading.digits.map(\.digit) == wanted && reading.value.hasPrefix("-") == negative }
            let joinings = CellReader.usableJoinings(segmenter.joinings(of: cut, digits: digits), digitCount: cut.digits.count,
                                                     usualCount: splitTo)
            if let (_, reading) = segmenter.agreeing(joinings, column: column, matches: matches)
                ?? segmenter.agreeing(segmenter.splits(of: cut, digits: digits, digitCount: splitTo), column: column, matches: matches) {
                combined[index] = CombinedCellReader.agreement(first: first[index], segmented: second[index], agreed: reading,
                                                               reviewThreshold: segmenter.reviewThreshold)
            }
        }
    }

    /// The primary reading, with the secondary's value as a second opinion when the numbers differ.
    public static func combine(_ first: CellReading, _ second: CellReading) -> CellReading {
        // When they disagree, the surer reader's reading leads (the primary on ties).
        let a0 = CellEvaluation.number(first.value), b0 = CellEvaluation.number(second.value)
        if a0 != b0, b0 != nil, second.flag != .unreadable,
           a0 == nil || first.flag == .unreadable || second.confidence > first.confidence {
            return combineOrdered(second, first)
        }
        return combineOrdered(first, second)
    }

    static func combineOrdered(_ first: CellReading, _ second: CellReading) -> CellReading {
        var reading = first
        if reading.separatorSighted == nil, let sighted = second.separatorSighted, second.digits.count == first.digits.count {
            reading.separatorSighted = sighted
        }
        let a = CellEvaluation.number(first.value), b = CellEvaluation.number(second.value)
        if first.flag == .empty && second.flag == .empty { return reading }
        if a != nil && a == b { return reading }
        // A sequence reader's missing point is not a disagreement when the digits are the same;
        // a minus sign one reader sees and the other does not is.
        if first.digits.map(\.digit) == second.digits.map(\.digit) && !first.digits.isEmpty
            && first.value.hasPrefix("-") == second.value.hasPrefix("-") { return reading }
        if !second.value.isEmpty && b != nil {
            reading.secondOpinion = SecondOpinion(value: second.value, confidence: second.confidence,
                                                  digits: second.digits, separatorAfter: second.separatorAfter)
        }
        reading.readersDisagree = true
        if reading.flag == .ok { reading.flag = .review }
        if reading.flag == .empty && b != nil { reading.flag = .review }
        return reading
    }
}

/// What a second reader made of a cell when it disagreed with the first.
public struct SecondOpinion: Sendable, Equatable {
    public var value: String
    public var confidence: Float
    public var digits: [DigitReading]
    public var separatorAfter: Int?

    public init(value: String, confidence: Float, digits: [DigitReading], separatorAfter: Int?) {
        self.value = value
        self.confidence = confidence
        self.digits = digits
        self.separatorAfter = separatorAfter
    }
}

extension CellSequenceReader: CellImageReader {}
