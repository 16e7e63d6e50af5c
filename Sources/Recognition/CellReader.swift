import Foundation
import Imaging
import NeuralNet

/// What a reader makes of a cell, for the person checking the output.
public enum CellFlag: String, Sendable, Codable, CaseIterable {
    /// Read, every digit at or above the review threshold.
    case ok
    /// Read, but at least one digit is below the review threshold: a person should look.
    case review
    /// No digit-like ink (after rules, specks and neighbours' strokes are removed).
    case empty
    /// Ink that could not be turned into a number: more digits than allowed, or digits the
    /// cutter produced but that hold no ink after normalisation.
    case unreadable
}

/// One classified digit of a cell.
public struct DigitReading: Sendable, Equatable {
    /// A class and its softmax probability.
    public struct Alternative: Sendable, Equatable {
        public var digit: Int
        public var probability: Float
        public init(digit: Int, probability: Float) {
            self.digit = digit
            self.probability = probability
        }
    }

    /// The winning class.
    public var digit: Int
    /// Its softmax probability.
    public var probability: Float
    /// The three most probable classes, best first (the first is `digit` itself).
    public var alternatives: [Alternative]
    /// Where the digit is in the cell image (pixels, inclusive).
    public var box: CutCell.Box

    public init(digit: Int, probability: Float, alternatives: [Alternative], box: CutCell.Box) {
        self.digit = digit
        self.probability = probability
        self.alternatives = alternatives
        self.box = box
    }
}

/// A cell read into a value.
public struct CellReading: Sendable, Equatable {
    /// The number as read, e.g. "28.7"; "" for an empty cell and for a cell without classified
    /// digits. An unreadable cell with too many digits still carries its digits here (for review).
    public var value: String
    /// The digits, left to right.
    public var digits: [DigitReading]
    /// Number of digits before the decimal point ("28.7": 2), or nil for an integer.
    public var separatorAfter: Int?
    /// Whether `separatorAfter` comes from a separator seen in the cell (true) or from the
    /// column's expected decimals (false); false too when there is none.
    public var separatorSeen: Bool
    /// The lowest digit probability: 1 for an empty cell, 0 for an unreadable cell without digits.
    public var confidence: Float
    public var flag: CellFlag
    /// Set by `TableChecks`: the reading before the sheet's arithmetic corrected it (nil when
    /// it stands as read), and the checks (`total`, `mean`, `midrange`, ...) that hold and
    /// that break for this cell. `verified`: an equality check holds and none breaks.
    public var uncheckedValue: String? = nil
    /// Where the cutter saw a separator (digits before it), whatever the column's convention
    /// made of it: the raw evidence for a table's decimals.
    public var separatorSighted: Int? = nil
    /// Set by `CombinedCellReader`: a second reader read another number (kept here).
    public var readersDisagree = false
    public var secondOpinion: SecondOpinion? = nil
    /// Set where a cell breaks a check with one digit fewer than its column usually has (the page
    /// pipeline, `evaluate-cells`): the segmenter's ink with a piece split in two, read. The table checks may
    /// take one when the arithmetic asks for it (a hooked 1 written against the 3 of 13.4 is cut
    /// and read as one sure 0; the row's mean needs 13.4).
    public var recutOpinions: [SecondOpinion] = []
    /// The other reader's value where the two read different numbers (nil where they agree): what
    /// a reviewer is offered beside the reading.
    public var otherReading: String? { readersDisagree ? secondOpinion?.value : nil }
    public var checksHeld: [String] = []
    public var checksBroken: [String] = []
    /// What the checks leave in doubt: checks met only by correcting another of their cells,
    /// where this cell could as well have been the misread one (`CorrectionSearch.doubtedChecks`),
    /// and `confusion`: a digit the checks kept correcting on this sheet, read here unchecked
    /// (`TableChecks.doubtWriterConfusions`).
    public var checksDoubted: [String] = []
    public var verified = false
    /// Verified by a relation of its row (a midrange or sum, three cells read apart) rather than
    /// only by a total or a mean: evidence of its own, which a broken column total does not outweigh.
    public var verifiedInRow = false
    /// Set by `TableChecks` where only checks that hold to rounding verify the cell (a midrange, a
    /// mean: (30.0 + 17.0) / 2 and (30.0 + 17.1) / 2 are both a written 23.5): its last digit keeps
    /// its doubt and is flagged below this probability or the review threshold, whichever is
    /// higher (0 on a sheet without totals: the review threshold alone). nil where an exact check
    /// (a total, a sum) verifies it, or none does.
    public var roundingDoubtThreshold: Float? = nil

    /// The `checksDoubted` entry of a cell whose point may be there unseen (its column's decimals
    /// unsettled): no check clears it, as the checks hold at any scale.
    public static let decimalsDoubt = "decimals"
    /// The `checksDoubted` entry of a cell whose value the sheet's arithmetic derived where no
    /// reading of its ink fits (`TableChecks.derivedCandidates`): a proposal, always reviewed.
    public static let derivedDoubt = "derived"

    /// An `ok` number read without a point, sent to review with `decimalsDoubt`; any other
    /// reading as it is.
    public func doubtingItsPoint() -> CellReading {
        guard flag == .ok, !value.isEmpty, !value.contains(".") else { return self }
        var doubted = self
        doubted.checksDoubted.append(Self.decimalsDoubt)
        doubted.flag = .review
        return doubted
    }

    public init(value: String, digits: [DigitReading], separatorAfter: Int?, separatorSeen: Bool,
                confidence: Float, flag: CellFlag) {
        self.value = value
        self.digits = digits
        self.separatorAfter = separatorAfter
        self.separatorSeen = separatorSeen
        self.confidence = confidence
        self.flag = flag
    }

    /// The flag this reading gets at a review threshold: empty and unreadable stay; a broken
    /// check means review; a cell the sheet's arithmetic verifies is ok whatever its
    /// confidence (the check is stronger evidence than the network's probability), unless only
    /// checks that hold to rounding verify it and its last digit is unsure (`roundingDoubtThreshold`); a
    /// correction that nothing verifies is review, and so is a cell the correction of a
    /// neighbour left in doubt; otherwise the lowest digit probability decides.
    public func flag(atThreshold threshold: Float) -> CellFlag {
        switch flag {
        case .empty, .unreadable: return flag
        case .ok, .review:
            // Where the point goes is beyond the checks: they hold at any scale.
            if checksDoubted.contains(Self.decimalsDoubt) || checksDoubted.contains(Self.derivedDoubt) { return .review }
            // A broken total says that one of its many cells is wrong, not which: a cell its own
            // row verifies (`verifiedInRow`) stays ok. Any other broken check ties a cell to one
            // or two others, and flags it.
            if checksBroken.contains(where: { $0 != TableConstraint.Kind.total.rawValue }) { return .review }
            if !checksBroken.isEmpty && !verifiedInRow { return .review }
            if verified {
                if let rounding = roundingDoubtThreshold, let last = digits.last, last.probability < max(threshold, rounding) {
                    return .review
                }
                return .ok
            }
            if uncheckedValue != nil || readersDisagree || !checksDoubted.isEmpty { return .review }
            return confidence < threshold ? .review : .ok
        }
    }
}

/// How a `CellReader` turns digits into values.
public struct CellReaderSettings: Sendable, Equatable {
    /// A read cell whose lowest digit probability is below this is flagged `review`.
    public var reviewThreshold: Float
    /// Decimals a column's values have (e.g. ["D": 1]); when a cell of such a column shows no
    /// separator, the decimal point is put that many digits from the right (only when at least
    /// one digit stays before it). Columns not listed, and cells read without a column, use
    /// `defaultDecimals`; nil means: no point unless one is seen.
    public var decimalsByColumn: [String: Int]
    public var defaultDecimals: Int?
    /// A cell cut into more digits than this is `unreadable`.
    public var maxDigits: Int
    /// Digits per network batch.
    public var batchSize: Int
    /// Softmax temperature: logits are divided by it before the softmax (1 = raw softmax; a
    /// fitted `Calibration` temperature, usually above 1, makes the probabilities calibrated).
    public var temperature: Float
    /// When a column has no expected decimals, learn them from the cells read together: if at
    /// least `DecimalInference.minimumSightings` cells of the column show a separator and most
    /// of those agree on the digits after it, the column gets that many decimals. Hand-written
    /// sheets often leave the point out or make it a speck the cutter drops ("246" for 24.6),
    /// while the cells that do show it tell the column's convention.
    public var inferDecimals: Bool

    public init(reviewThreshold: Float = 0.9, decimalsByColumn: [String: Int] = [:], defaultDecimals: Int? = nil,
                maxDigits: Int = 5, batchSize: Int = 256, temperature: Float = 1, inferDecimals: Bool = true) {
        precondition(temperature > 0 && temperature.isFinite, "CellReaderSettings: temperature must be positive, not \(temperature)")
        self.reviewThreshold = reviewThreshold
        self.decimalsByColumn = decimalsByColumn
        self.defaultDecimals = defaultDecimals
        self.maxDigits = maxDigits
        self.batchSize = batchSize
        self.temperature = temperature
        self.inferDecimals = inferDecimals
    }

    /// The expected decimals for a cell of `column`, if any.
    public func expectedDecimals(column: String?) -> Int? {
        if let column, let decimals = decimalsByColumn[column] { return decimals }
        return defaultDecimals
    }
}

/// Anything that reads cell images into values: the segment-then-classify `CellReader`, the
/// whole-cell sequence reader, or both together.
public protocol CellImageReader: AnyObject {
    /// A reading whose confidence is below this is flagged for review.
    var reviewThreshold: Float { get }
    /// Reads `cells` (paper polarity: 0 = ink, 1 = paper); `columns` names each cell's column.
    func read(cells: [GrayImage], columns: [String?]?) -> [CellReading]
    /// Per cell, its ink cut with one piece split in two, read (`CellReader.recutOpinions`), where
    /// the cut has one digit fewer than `digitCounts` asks; empty for readers that do not cut cells.
    func recutOpinions(cells: [GrayImage], columns: [String?]?, digitCounts: [Int]) -> [[SecondOpinion]]
}

extension CellImageReader {
    public func recutOpinions(cells: [GrayImage], columns: [String?]?, digitCounts: [Int]) -> [[SecondOpinion]] {
        [[SecondOpinion]](repeating: [], count: cells.count)
    }
}

/// Reads cropped table cells into numbers: cuts each cell into digits (`CellDigitCutter`),
/// normalises them (`DigitNormalizer`), classifies every digit of every cell in batches in one
/// pass through the model, and assembles values with their confidence and a flag.
///
/// Not thread-safe (the model keeps per-forward state): one `read` at a time per reader.
public final class CellReader: CellImageReader {
    public let model: ResNet
    public var settings: CellReaderSettings
    public var reviewThreshold: Float { settings.reviewThreshold }

    public init(model: ResNet, settings: CellReaderSettings = CellReaderSettings()) {
        precondition(model.config.classes == 10, "CellReader needs a 10-class digit model, not \(model.config.classes)")
        self.model = model
        self.settings = settings
    }

    /// Loads the model file at `path`; when the file carries a temperature
    /// (`Calibration.temperatureMetadataKey`), it replaces `settings.temperature`.
    public convenience init(modelPath path: String, settings: CellReaderSettings = CellReaderSettings()) throws {
        var settings = settings
        if let temperature = try Calibration.temperature(ofModelAt: path) { settings.temperature = temperature }
        self.init(model: try ResNet.load(path: path), settings: settings)
    }

    /// Reads `cells` (scan crops in paper polarity: 0 = ink, 1 = paper). `columns`, when given,
    /// names each cell's column for `CellReaderSettings.decimalsByColumn` (same count as `cells`).
    public func read(cells: [GrayImage], columns: [String?]? = nil) -> [CellReading] {
        readWithCuts(cells: cells, columns: columns).readings
    }

    /// `read`, and each cell's cut (for reading it again another way: `joinings`, `splits`).
    public func readWithCuts(cells: [GrayImage], columns: [String?]? = nil) -> (readings: [CellReading], cuts: [CutCell]) {
        precondition(columns == nil || columns!.count == cells.count,
                     "CellReader.read: \(columns!.count) columns for \(cells.count) cells")
        let side = DigitNormalizer.side, pixels = side * side
        let maxDigits = settings.maxDigits

        // 1. Cut and normalise, cells spread over the threads.
        struct Prepared {
            var cut: CutCell
            var images: [Float] = []   // digits x 64 x 64, only for cells that get classified
            var blank = false          // a digit with no ink after normalisation
        }
        var prepared = [Prepared?](repeating: nil, count: cells.count)
        prepared.withUnsafeMutableBufferPointer { output in
            Threads.forEachChunk(cells.count, minimumPerChunk: 4) { range in
                for index in range {
                    let cut = CellDigitCutter.cut(cell: cells[index])
                    var item = Prepared(cut: cut)
                    if !cut.digits.isEmpty && cut.digits.count <= 2 * maxDigits {
                        item.images.reserveCapacity(cut.digits.count * pixels)
                        for digit in cut.digits {
                            let normalized = DigitNormalizer.normalize(scan: digit.image)
                            if !normalized.contains(where: { $0 > 0 }) { item.blank = true }
                            item.images += normalized
                        }
                    }
                    output[index] = item
                }
            }
        }

        // 2. One pass over all digits of all cells, in batches (`classify(normalized:)`).
        var owners: [(cell: Int, digit: Int)] = []
        var all = [Float]()
        for (cell, item) in prepared.enumerated() {
            for digit in 0..<(item!.images.count / pixels) { owners.append((cell, digit)) }
            all += item!.images
        }
        let probabilities = classify(normalized: all)
        let classes = model.config.classes
        var classified = [[DigitReading]](repeating: [], count: cells.count)
        for (index, owner) in owners.enumerated() {
            classified[owner.cell].append(CellReader.digitReading(
                probabilities: probabilities[(index * classes)..<((index + 1) * classes)],
                box: prepared[owner.cell]!.cut.digits[owner.digit].box))
        }

        // 3. Values and flags, with decimals learnt per column where none are given.
        var inferred: [String: Int] = [:]
        if settings.inferDecimals {
            let sightings = prepared.indices.map { index -> (column: String, decimals: Int?) in
                let cut = prepared[index]!.cut
                // Cells too long to classify count by their cut alone.
                let digits = classified[index].count == cut.digits.count ? classified[index].map(\.digit)
                    : [Int](repeating: -1, count: cut.digits.count)
                return ((columns?[index] ?? nil) ?? "", DecimalInference.decimals(sighted: cut.separatorIndex, digits: digits))
            }
            inferred = DecimalInference.decimalsByColumn(sightings)
        }
        let readings = (0..<cells.count).map { index in
            let column = columns?[index] ?? nil
            let decimals = settings.expectedDecimals(column: column) ?? inferred[column ?? ""]
            var reading = assemble(cut: prepared[index]!.cut, digits: classified[index], blank: prepared[index]!.blank,
                                   decimals: decimals)
            let cut = prepared[index]!.cut
            reading.separatorSighted = cut.separatorIndex.flatMap { $0 > 0 && $0 < cut.digits.count ? $0 : nil }
            return reading
        }
        return (readings, prepared.map { $0!.cut })
    }

    /// The value, confidence and flag of one cell from its cut and classified digits. With
    /// `decimals` (the column's convention), a separator seen elsewhere is taken for a speck
    /// and the convention wins.
    func assemble(cut: CutCell, digits: [DigitReading], blank: Bool, decimals: Int?) -> CellReading {
        if cut.digits.isEmpty {
            return CellReading(value: "", digits: [], separatorAfter: nil, separatorSeen: false, confidence: 1, flag: .empty)
        }
        var separator: Int? = nil, seen = false
        let found = cut.separatorIndex.flatMap { $0 > 0 && $0 < cut.digits.count ? $0 : nil }
        if let decimals, decimals > 0, cut.digits.count > decimals {
            separator = cut.digits.count - decimals
            seen = found == separator
        } else if let found, decimals == nil, DecimalInference.decimals(sighted: found, digits: digits.map(\.digit)) != nil {
            // (Not a hooked 1's foot after a leading 1: see `DecimalInference.decimals`.)
            separator = found
            seen = true
        }
        let value = (cut.minusBox != nil ? "-" : "") + CellReader.value(digits: digits.map(\.digit), separatorAfter: separator)
        let confidence = digits.map(\.probability).min() ?? 0
        let flag: CellFlag
        if digits.count != cut.digits.count || cut.digits.count > settings.maxDigits || blank {
            flag = .unreadable
        } else {
            flag = confidence < settings.reviewThreshold ? .review : .ok
        }
        return CellReading(value: value, digits: digits, separatorAfter: digits.isEmpty ? nil : separator,
                           separatorSeen: seen, confidence: confidence, flag: flag)
    }

    /// Digits joined, with a "." after `separatorAfter` of them: ([2, 8, 7], 2) -> "28.7".
    public static func value(digits: [Int], separatorAfter: Int?) -> String {
        var text = ""
        for (index, digit) in digits.enumerated() {
            if index == separatorAfter && index > 0 { text += "." }
            text += String(digit)
        }
        return text
    }
}

/// Learns a column's decimals from the separators seen in its cells.
public enum DecimalInference {
    /// Fewest cells with a seen separator before a column's convention is trusted.
    public static let minimumSightings = 3
    /// Share of those cells that must agree on the number of decimals.
    public static let minimumAgreement = 0.6
    /// Below this share, a majority against tenths with tenths close behind does not count.
    public static let narrowMajority = 0.6

    /// Points seen in a table (hooked 1s' feet aside) before its cells read without one are doubted
    /// where no convention settled their column.
    public static let minimumSightingsToDoubt = 2

    /// Cells read `ok` without a point in a column where none was placed by a convention (the
    /// reader's, or the checks' `chooseColumnDecimals`), on a table where points were seen
    /// (`minimumSightingsToDoubt`) but too few or too split to settle one: the point is likely
    /// there and unseen (18.6 read 186), and the arithmetic, which holds at any scale, cannot
    /// tell. They go to review, `checksDoubted` saying `decimals`, as the page pipeline does
    /// (`ClassifyStage.doubtingUnsettledDecimals`). Twelve cells of station 508 read alone: 8 of
    /// them were `ok` as whole numbers (262 for 26.2), their rows' midranges holding.
    public static func doubtingUnsettled(_ readings: [CellReading], columns: [String?]?) -> [CellReading] {
        let sightings = readings.filter { decimals(sighted: $0.separatorSighted, digits: $0.digits.map(\.digit)) != nil }.count
        guard sightings >= minimumSightingsToDoubt else { return readings }
        func key(_ index: Int) -> String { (columns?[index] ?? nil) ?? "" }
        // A point placed where none was seen is a convention's.
        let settled = Set(readings.indices.filter { readings[$0].value.contains(".") && !readings[$0].separatorSeen }.map(key))
        return readings.indices.map { settled.contains(key($0)) ? readings[$0] : readings[$0].doubtingItsPoint() }
    }

    /// The decimals a separator seen after `sighted` of `digits` implies; nil when none was seen,
    /// and when it sits right after a leading 1 of three or more digits: the foot of a hooked 1,
    /// low against the next digit, looks like a point. (The minimum-temperature columns of 209 and
    /// 501, all 1x.x, "saw" two decimals in 5 of 7 and 6 of 10 of their sightings.)
    public static func decimals(sighted: Int?, digits: [Int]) -> Int? {
        guard let sighted, sighted > 0, sighted < digits.count else { return nil }
        if sighted == 1 && digits.first == 1 && digits.count >= 3 { return nil }
        return digits.count - sighted
    }

    /// `sightings`: per cell its column and the decimals its seen separator implies (nil: none
    /// seen). Returns the columns whose seen separators agree well enough.
    public static func decimalsByColumn(_ sightings: [(column: String, decimals: Int?)],
                                        minimumAgreement: Double = minimumAgreement) -> [String: Int] {
        var counts: [String: [Int: Int]] = [:]
        for sighting in sightings {
            guard let decimals = sighting.decimals else { continue }
            counts[sighting.column, default: [:]][decimals, default: 0] += 1
        }
        // The table's convention (all columns pooled), when it has one.
        let allColumns = Set(sightings.map(\.column))
        let pooled = allColumns.count > 1
            ? decimalsByColumn(sightings.map { ("", $0.decimals) }, minimumAgreement: 0.5)[""] : nil
        var result: [String: Int] = [:]
        for (column, histogram) in counts {
            let total = histogram.values.reduce(0, +)
            guard let best = histogram.max(by: { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }) else { continue }
            // A column may keep its own convention against the table's only on strong evidence:
            // stray specks between digits (a hooked 1's foot, a dotted leader) look like points.
            let differs = pooled != nil && best.key != pooled!
            let needed = differs ? max(minimumSightings, 5) : minimumSightings
            let agreement = differs ? max(minimumAgreement, 0.8) : minimumAgreement
            guard total >= needed, Double(best.value) >= agreement * Double(total) else { continue }
            result[column] = best.key
            // Specks can outvote the points when the crop is turned a little: a dotted leader's
            // dots climb into the gaps between digits (crops rotated 3 degrees: 14 sightings of two
            // decimals against 11 of one on station 508, every value read a tenth of itself). So a
            // narrow majority against tenths, the reading unit of temperatures, pressures and
            // rain in weather registers, does not overturn it when tenths is the runner-up.
            if best.key != 1, Double(best.value) < narrowMajority * Double(total),
               let tenths = histogram[1], 3 * tenths >= total {
                result[column] = 1
            }
        }
        // Columns without a convention of their own follow the table's.
        if let pooled { for column in allColumns where result[column] == nil { result[column] = pooled } }
        return result
    }

    /// Readings whose column has no given decimals and no point seen, re-pointed with the
    /// decimals their column's seen points agree on (for readers that place points themselves).
    public static func repoint(_ readings: [CellReading], columns: [String?]?, settings: CellReaderSettings) -> [CellReading] {
        let sightings = readings.indices.map { index -> (column: String, decimals: Int?) in
            let reading = readings[index]
            return ((columns?[index] ?? nil) ?? "", DecimalInference.decimals(sighted: reading.separatorSighted, digits: reading.digits.map(\.digit)))
        }
        let inferred = decimalsByColumn(sightings)
        return readings.indices.map { index in
            let reading = readings[index], column = columns?[index] ?? nil
            guard !reading.separatorSeen, settings.expectedDecimals(column: column) == nil,
                  let decimals = inferred[column ?? ""], reading.flag != .unreadable, !reading.digits.isEmpty else { return reading }
            var repointed = TableChecks.repointed(reading, decimals: decimals)
            repointed.separatorSighted = reading.separatorSighted
            return repointed
        }
    }
}
