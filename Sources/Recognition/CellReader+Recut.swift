import Imaging

// Where the two readers disagree, the segmenter's ink cut another way may read what the whole-cell
// reader read: touching digits joined otherwise (a 1 against an 8 joined into a sure 8), or a
// piece it never split, when the whole-cell reader sees one digit more. Two readers agreeing that
// way outvote the digit network's surer cut. The page pipeline (`ClassifyStage`) and the cell path
// (`CombinedCellReader`, `logbook evaluate-cells`) both use these.

/// A cut of a cell's ink with its digits classified: what `CellReader.agreeing` weighs.
public protocol ClassifiedCut {
    var cut: CutCell { get }
    var digits: [DigitReading] { get }
    /// One of the digits' images is blank (the cell reads as unreadable).
    var blank: Bool { get }
}

/// A cell's cut read another way, with its classified digits.
public struct Recut: ClassifiedCut, Sendable {
    public var cut: CutCell
    public var digits: [DigitReading]
    /// Where each digit came from: its index in the cut it was made from, or -1 for a new image
    /// (a join or a split half).
    public var sources: [Int]

    public init(cut: CutCell, digits: [DigitReading], sources: [Int]) {
        self.cut = cut
        self.digits = digits
        self.sources = sources
    }

    public var blank: Bool { false }
}

extension CellReader {
    /// Every other joining of `cut`'s touching digits (each set of disjoint join candidates but
    /// `chosen`), the joined digits classified now; `digits` are the cut's digits as classified.
    public func joinings(of cut: CutCell, digits: [DigitReading], chosen: [Range<Int>] = []) -> [Recut] {
        let spans = cut.joinCandidates
        guard !spans.isEmpty, digits.count == cut.digits.count else { return [] }
        let images = spans.flatMap { DigitNormalizer.normalize(scan: cut.joined($0).image) }
        let probabilities = classify(normalized: images), classes = model.config.classes
        let ordered = { (spans: [Range<Int>]) in spans.sorted { $0.lowerBound < $1.lowerBound } }
        return CellReader.joinings(of: spans).filter { ordered($0) != ordered(chosen) }.map { joining in
            var read: [DigitReading] = [], sources: [Int] = [], index = 0
            let joined = cut.joining(joining)
            while index < cut.digits.count {
                if let span = joining.first(where: { $0.lowerBound == index }), let k = spans.firstIndex(of: span) {
                    read.append(CellReader.digitReading(probabilities: probabilities[(k * classes)..<((k + 1) * classes)],
                                                        box: joined.digits[read.count].box))
                    sources.append(-1)
                    index = span.upperBound
                } else {
                    read.append(digits[index])
                    sources.append(index)
                    index += 1
                }
            }
            return Recut(cut: joined, digits: read, sources: sources)
        }
    }

    /// `cut` with one of its wide digits cut in two at each of its split columns
    /// (`CutCell.splitColumns`), the halves classified now: only when another reader read
    /// `digitCount` digits, one more than the cut has.
    public func splits(of cut: CutCell, digits: [DigitReading], digitCount: Int) -> [Recut] {
        guard digitCount == cut.digits.count + 1, digits.count == cut.digits.count else { return [] }
        var splits: [(cut: CutCell, at: Int)] = []
        for index in cut.splittableDigits {
            for x in cut.splitColumns(of: index) {
                if let split = cut.splitting(index, at: x) { splits.append((split, index)) }
            }
        }
        guard !splits.isEmpty else { return [] }
        var images: [Float] = []
        for split in splits {
            images += DigitNormalizer.normalize(scan: split.cut.digits[split.at].image)
            images += DigitNormalizer.normalize(scan: split.cut.digits[split.at + 1].image)
        }
        let probabilities = classify(normalized: images), classes = model.config.classes
        return splits.enumerated().map { k, split in
            let halves = (0..<2).map { side in
                CellReader.digitReading(probabilities: probabilities[((2 * k + side) * classes)..<((2 * k + side + 1) * classes)],
                                        box: split.cut.digits[split.at + side].box)
            }
            var read = digits, sources = Array(digits.indices)
            read.replaceSubrange(split.at...split.at, with: halves)
            sources.replaceSubrange(split.at...split.at, with: [-1, -1])
            return Recut(cut: split.cut, digits: read, sources: sources)
        }
    }

    /// Recut readings offered to the table checks per cell, at most.
    public static let maximumRecutOpinions = 3

    /// `cut` (its digits classified as `digits`) with one piece split in two (`splits`, one digit
    /// more), read: the surest reading of each value, surest first, at most `maximumRecutOpinions`.
    /// For the table checks (`CellReading.recutOpinions`), which take one only when the arithmetic asks.
    public func recutOpinions(of cut: CutCell, digits: [DigitReading], column: String?) -> [SecondOpinion] {
        var best: [String: CellReading] = [:]
        for split in splits(of: cut, digits: digits, digitCount: cut.digits.count + 1) {
            let reading = self.reading(cut: split.cut, digits: split.digits, blank: false, column: column)
            guard reading.flag != .unreadable, !reading.digits.isEmpty else { continue }
            if let known = best[reading.value], known.confidence >= reading.confidence { continue }
            best[reading.value] = reading
        }
        return best.values.sorted { ($0.confidence, $0.value) > ($1.confidence, $1.value) }.prefix(CellReader.maximumRecutOpinions).map {
            SecondOpinion(value: $0.value, confidence: $0.confidence, digits: $0.digits, separatorAfter: $0.separatorAfter)
        }
    }

    /// Per cell, `recutOpinions(of:digits:column:)` of its cut, where the cut has one digit fewer
    /// than `digitCounts` asks (the cells are cut and read again: only the few that need it are passed).
    public func recutOpinions(cells: [GrayImage], columns: [String?]?, digitCounts: [Int]) -> [[SecondOpinion]] {
        let (readings, cuts) = readWithCuts(cells: cells, columns: columns)
        return cells.indices.map { index in
            let cut = cuts[index], digits = readings[index].digits
            guard digitCounts[index] == cut.digits.count + 1, digits.count == cut.digits.count,
                  readings[index].flag != .unreadable else { return [] }
            return recutOpinions(of: cut, digits: digits, column: columns?[index] ?? nil)
        }
    }

    /// Of the other joinings of a cut of `digitCount` digits, those a disagreement may use: any that
    /// keeps more digits apart (a touching 1 joined to its neighbour is the network's sure mistake),
    /// and one that joins more only when that gives `usualCount`, the column's usual number of
    /// digits when the other reader read that many (-1: none). A 0 whose tail is cut off as a 2
    /// (0.0 read 20.0) is joined back; other regroupings agree with a wrong whole-cell reading by chance.
    public static func usableJoinings<Option: ClassifiedCut>(_ joinings: [Option], digitCount: Int, usualCount: Int) -> [Option] {
        joinings.filter { $0.digits.count > digitCount || ($0.digits.count < digitCount && $0.digits.count == usualCount) }
    }

    /// Every set of pairwise disjoint `spans`, the empty set first (at most 64: the first found).
    public static func joinings(of spans: [Range<Int>]) -> [[Range<Int>]] {
        var result: [[Range<Int>]] = [[]]
        for span in spans {
            for existing in result where result.count < 64 && existing.allSatisfy({ !$0.overlaps(span) }) {
                result.append(existing + [span])
            }
        }
        return result
    }

    /// Per column, the digit count most of its cut cells have (ties: the larger); empty cells
    /// do not count.
    public static func usualDigitCounts<Column: Hashable>(columns: [Column], cuts: [CutCell]) -> [Column: Int] {
        usualDigitCounts(columns: columns, digitCounts: cuts.map(\.digits.count))
    }

    /// Per column, the most frequent of `digitCounts` (ties: the larger); zeros do not count.
    public static func usualDigitCounts<Column: Hashable>(columns: [Column], digitCounts: [Int]) -> [Column: Int] {
        var counts: [Column: [Int: Int]] = [:]
        for (column, count) in zip(columns, digitCounts) where count > 0 {
            counts[column, default: [:]][count, default: 0] += 1
        }
        return counts.mapValues { tally in tally.max { ($0.value, $0.key) < ($1.value, $1.key) }!.key }
    }

    /// Of `recuts`, the surest whose reading `matches`, with that reading (`reading(cut:...)`).
    public func agreeing<Option: ClassifiedCut>(_ recuts: [Option], column: String?,
                                                matches: (CellReading) -> Bool) -> (Option, CellReading)? {
        recuts.map { ($0, reading(cut: $0.cut, digits: $0.digits, blank: $0.blank, column: column)) }
            .filter { $0.1.flag != .unreadable && matches($0.1) }
            .max { $0.1.confidence < $1.1.confidence }
    }
}

extension CombinedCellReader {
    /// `combined` (the whole-cell reading `first` combined with the segmenter's `segmented`) with
    /// the segmenter's reading replaced by `agreed` when a recut reads what `first` read: the two
    /// agree at the lower of their confidences, the segmenter's own reading kept as a second
    /// opinion for the table checks.
    public static func agreement(first: CellReading, segmented: CellReading, agreed: CellReading, reviewThreshold: Float) -> CellReading {
        var reading = combine(first, agreed)
        reading.confidence = min(reading.confidence, agreed.confidence)
        reading.flag = reading.flag(atThreshold: reviewThreshold)
        reading.secondOpinion = SecondOpinion(value: segmented.value, confidence: segmented.confidence,
                                              digits: segmented.digits, separatorAfter: segmented.separatorAfter)
        return reading
    }
}
