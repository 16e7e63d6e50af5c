import Foundation
import Imaging
import NeuralNet
import Recognition

// Stage 5, classify: the normalised digits of several pages go through the network together, in
// batches (`classify.batch_size`) that cross cell and page boundaries; each cell's value, its
// confidence (lowest digit probability) and flag come from Recognition's `CellReader`, exactly as
// in `logbook evaluate-cells`. Where a cell shows no decimal separator, the column's decimals
// (hint, `table.decimals`, or with `auto` the count most of the column's cells with a visible
// separator have on this page) place the point. Output: `readings.json`.

public struct AlternativeRecord: Codable, Equatable, Sendable {
    public var digit: Int
    public var probability: Float
}

public struct DigitRecord: Codable, Equatable, Sendable {
    public var digit: Int
    public var probability: Float
    /// Best classes first (the first is `digit`).
    public var alternatives: [AlternativeRecord]
    /// minX, minY, maxX, maxY in the cell image.
    public var box: [Int]
    /// Its image in normalized.bin: the cell's digit `entry`, or past the digits, join
    /// `entry - digits` (`SegmentedCell.joins`).
    public var entry: Int
}

public struct CellReadingRecord: Codable, Equatable, Sendable {
    public var row: Int
    public var column: Int
    public var name: String
    public var value: String
    public var confidence: Float
    public var flag: CellFlag
    public var digits: [DigitRecord]
    public var separatorAfter: Int?
    public var separatorSeen: Bool
    /// x, y, width, height on the scan.
    public var box: [Int]
    /// Set by the table checks: the reading before they corrected it, the checks that hold and
    /// that break ("midrange at-least"), and what leaves the cell in doubt (`checks_doubted`):
    /// checks met only by correcting another cell that this one could as well have been,
    /// "confusion" for a digit the checks kept correcting on this page, and "derived" for a value
    /// the arithmetic gave where no reading of the ink fits.
    public var uncheckedValue: String? = nil
    public var checksHeld: String? = nil
    public var checksBroken: String? = nil
    public var checksDoubted: String? = nil
    /// Where the two readers read different numbers: the other reader's value and confidence
    /// (for the reviewer, and to measure which reader is right when they disagree).
    public var otherReading: String? = nil
    public var otherConfidence: Float? = nil

    enum CodingKeys: String, CodingKey {
        case row, column, name, value, confidence, flag, digits, separatorAfter = "separator_after"
        case separatorSeen = "separator_seen", box, uncheckedValue = "unchecked_value"
        case checksHeld = "checks_held", checksBroken = "checks_broken", checksDoubted = "checks_doubted"
        case otherReading = "other_reading", otherConfidence = "other_confidence"
    }
}

public struct PageReadings: Codable, Equatable, Sendable {
    /// Decimals used per column (as text keys), where a column has them.
    public var decimals: [String: Int]
    /// Columns read as row numbers (1, 2, 3, ... down the rows) and left out of `cells`.
    public var rowLabelColumns: [Int]
    public var cells: [CellReadingRecord]

    enum CodingKeys: String, CodingKey {
        case decimals, rowLabelColumns = "row_label_columns", cells
    }
}

public enum ClassifyStage {
    /// The stage's work on a group of pages: one pass of all their digits through `reader`.
    /// With `sequence` (and each page's binary image in `binaries`), cells are read whole by the
    /// CRNN too: `sequenceOnly` keeps its readings, otherwise they come first and the segment
    /// reader's second (`CombinedCellReader.combine`: disagreements flagged).
    public static func classify(_ pages: [(page: SegmentedPage, digits: NormalizedDigits)], reader: CellReader,
                                table: TableHints, checks: CheckParameters = CheckParameters(),
                                sequence: CellSequenceReader? = nil, sequenceOnly: Bool = false,
                                binaries: [GrayImage?] = []) throws -> [PageReadings] {
        var all: [Float] = []
        all.reserveCapacity(pages.reduce(0) { $0 + $1.digits.values.count })
        for item in pages { all += item.digits.values }
        let probabilities = reader.classify(normalized: all)
        let classes = reader.model.config.classes, pixels = NormalizeStage.pixels
        var digitOffset = 0
        var results: [PageReadings] = []
        let savedSettings = reader.settings
        defer { reader.settings = savedSettings }
        for (pageIndex, (page, digits)) in pages.enumerated() {
            // Cuts and classified digits of each cell.
            var cuts: [CutCell] = [], classified: [[DigitReading]] = [], blanks: [Bool] = []
            var pageDigits = 0
            var entries: [[Int]] = []
            // Per cell, the other ways of joining its touching digits (`joinOptions`).
            var otherJoinings: [[JoinOption]] = []
            for cell in page.cells {
                let cut = try SegmentStage.cut(of: cell)
                var best = JoinOption(cut: cut, digits: [], entries: [], blank: false)
                var others: [JoinOption] = []
                if NormalizeStage.isClassified(cell, maxDigits: page.maxDigits) {
                    let first = digitOffset + pageDigits
                    guard first + cell.entryCount <= all.count / pixels else {
                        throw PipelineError(path: "", problem: "normalized digits do not match segment.json (run normalize again)")
                    }
                    func entryProbabilities(_ entry: Int) -> ArraySlice<Float> {
                        probabilities[((first + entry) * classes)..<((first + entry + 1) * classes)]
                    }
                    func isBlank(_ entry: Int) -> Bool {
                        !all[((first + entry) * pixels)..<((first + entry + 1) * pixels)].contains(where: { $0 > 0 })
                    }
                    let spans = cell.joins.map { $0[0]..<$0[1] }
                    func option(joining chosen: [Range<Int>]) -> JoinOption {
                        var used: [Int] = [], index = 0
                        while index < cut.digits.count {
                            if let span = chosen.first(where: { $0.lowerBound == index }), let k = spans.firstIndex(of: span) {
                                used.append(cut.digits.count + k)
                                index = span.upperBound
                            } else {
                                used.append(index)
                                index += 1
                            }
                        }
                        let joined = cut.joining(chosen)
                        let read = zip(joined.digits, used).map { digit, entry in
                            CellReader.digitReading(probabilities: entryProbabilities(entry), box: digit.box)
                        }
                        return JoinOption(cut: joined, digits: read, entries: used, blank: used.contains(where: isBlank))
                    }
                    // Touching digits: joined or apart, whichever the network is surer of.
                    let chosen = cut.bestJoins(digitProbability: (0..<cut.digits.count).map { entryProbabilities($0).max()! },
                                               joinProbability: spans.indices.map { entryProbabilities(cut.digits.count + $0).max()! })
                    best = option(joining: chosen)
                    // Every joining; a disagreement uses those `CellReader.usableJoinings` keeps.
                    others = CellReader.joinings(of: spans).map { option(joining: $0) }
                    pageDigits += cell.entryCount
                }
                cuts.append(best.cut)
                classified.append(best.digits)
                blanks.append(best.blank)
                entries.append(best.entries)
                otherJoinings.append(others)
            }
            guard pageDigits == digits.count else {
                throw PipelineError(path: "", problem: "normalized digits (\(digits.count)) do not match segment.json (\(pageDigits)): run normalize again")
            }
            digitOffset += pageDigits

            let (decimals, undecidedDecimals) = columnDecimals(page: page, cuts: cuts, table: table)
            reader.settings = savedSettings
            reader.settings.maxDigits = page.maxDigits
            reader.settings.decimalsByColumn = Dictionary(uniqueKeysWithValues: decimals.map { (String($0.key), $0.value) })
            reader.settings.defaultDecimals = nil
            var cellReadings = page.cells.indices.map { index in
                reader.reading(cut: cuts[index], digits: classified[index], blank: blanks[index],
                               column: String(page.cells[index].column))
            }
            let usualDigits = CellReader.usualDigitCounts(columns: page.cells.map(\.column), cuts: cuts)
            if let sequence, pageIndex < binaries.count, let binary = binaries[pageIndex] {
                sequence.settings = sequenceSettings(page: reader.settings, sequence: sequence.settings)
                let read = page.cells.indices.filter { !cellReadings[$0].digits.isEmpty || cellReadings[$0].flag != .empty }
                let crops = read.map { inkCrop(ExportStage.crop(binary, corners: page.cells[$0].corners, margin: 0)) }
                let whole = sequence.read(cells: crops, columns: read.map { String(page.cells[$0].column) })
                for (k, index) in read.enumerated() {
                    let first = whole[k], segmented = cellReadings[index]
                    cellReadings[index] = sequenceOnly ? first : CombinedCellReader.combine(first, segmented)
                    // Where the readers disagree, another way of cutting the segmenter's ink may read
                    // what the whole-cell reader read: touching digits it joined (a 1 against an 8,
                    // joined into a sure 8), or a piece it never split when the whole-cell reader
                    // sees one digit more. Two readers agreeing that way outvote the network's surer cut.
                    if !sequenceOnly && cellReadings[index].readersDisagree, let number = CellEvaluation.number(first.value) {
                        let column = String(page.cells[index].column)
                        let matches = { (reading: CellReading) in CellEvaluation.number(reading.value) == number }
                        let current = JoinOption(cut: cuts[index], digits: classified[index], entries: entries[index], blank: blanks[index])
                        // A split only to give the cell its column's usual number of digits (a 6 cut
                        // into 1 and 0 reads 104 among humidities of two digits).
                        let usual = usualDigits[page.cells[index].column]
                        let splitTo = usual == first.digits.count ? first.digits.count : -1
                        let joinings = CellReader.usableJoinings(otherJoinings[index], digitCount: cuts[index].digits.count,
                                                                 usualCount: splitTo)
                        if let (option, reading) = reader.agreeing(joinings, column: column, matches: matches)
                            ?? reader.agreeing(ClassifyStage.splitOptions(current, reader: reader, digitCount: splitTo),
                                               column: column, matches: matches) {
                            cuts[index] = option.cut
                            classified[index] = option.digits
                            entries[index] = option.entries
                            cellReadings[index] = CombinedCellReader.agreement(first: first, segmented: segmented, agreed: reading,
                                                                               reviewThreshold: reader.settings.reviewThreshold)
                        }
                    }
                    // Digits the whole-cell reader read have no image in normalized.bin.
                    if cellReadings[index].digits.map(\.box) != classified[index].map(\.box) {
                        entries[index] = [Int](repeating: -1, count: cellReadings[index].digits.count)
                    }
                }
            }
            func record(_ index: Int, _ reading: CellReading) -> CellReadingRecord {
                let cell = page.cells[index]
                return CellReadingRecord(
                    row: cell.row, column: cell.column, name: cell.name, value: reading.value,
                    confidence: reading.confidence, flag: reading.flag,
                    digits: zip(reading.digits, entries[index]).map { d, entry in
                        DigitRecord(digit: d.digit, probability: d.probability,
                                    alternatives: d.alternatives.map { AlternativeRecord(digit: $0.digit, probability: $0.probability) },
                                    box: [d.box.minX, d.box.minY, d.box.maxX, d.box.maxY], entry: entry)
                    },
                    separatorAfter: reading.separatorAfter, separatorSeen: reading.separatorSeen, box: cell.box,
                    uncheckedValue: reading.uncheckedValue,
                    checksHeld: reading.checksHeld.isEmpty ? nil : reading.checksHeld.joined(separator: " "),
                    checksBroken: reading.checksBroken.isEmpty ? nil : reading.checksBroken.joined(separator: " "),
                    checksDoubted: reading.checksDoubted.isEmpty ? nil : reading.checksDoubted.joined(separator: " "),
                    otherReading: reading.otherReading,
                    otherConfidence: reading.readersDisagree ? reading.secondOpinion?.confidence : nil)
            }
            var records = cellReadings.indices.map { record($0, cellReadings[$0]) }
            let labels = table.numericColumns.given == nil ? rowLabelColumns(records, keeping: table.dateColumns) : []
            if checks.enabled {
                // Row-number and date columns are labels, not data: they take no part in the arithmetic.
                let positions = page.cells.map { cell -> TablePosition? in
                    labels.contains(cell.column) || table.dateColumns.contains(cell.column) ? nil
                        : TablePosition(sheet: "page", row: cell.row, rowLabel: "", column: String(cell.column))
                }
                // A page's rows carry no labels: its total and mean rows, if any, are found from the numbers.
                var layout = Recognition.TableLayout(relations: checks.relations.compactMap { declared in
                    Recognition.TableLayout.RelationKind(rawValue: declared.kind).map { Recognition.TableLayout.Relation($0, declared.columns.map(String.init)) }
                }, learnRelations: checks.learnRelations)
                // The page's decimals are settled above (hints, or the column's visible points).
                layout.chooseDecimals = false
                if !checks.ranges { layout.rangeDeviations = nil }
                layout.roundingDoubtThreshold = checks.roundingDoubt > 0 ? Float(checks.roundingDoubt) : nil
                if checks.correct {
                    // A cell that breaks a check with a digit fewer than its column usually has may
                    // hold a piece both readers saw as one digit (a hooked 1 against a 3): its cut
                    // with a piece split in two is offered to the checks, which take it only when
                    // the arithmetic asks for it. Splitting only these keeps the network's work small.
                    let short = TableChecks.shortCellsBreakingChecks(
                        readings: cellReadings, positions: positions, layout: layout, reviewThreshold: reader.settings.reviewThreshold,
                        digitCounts: page.cells.indices.map { blanks[$0] ? 0 : cuts[$0].digits.count },
                        usualCounts: page.cells.map { usualDigits[$0.column] })
                    for index in short {
                        cellReadings[index].recutOpinions = reader.recutOpinions(of: cuts[index], digits: classified[index],
                                                                                 column: String(page.cells[index].column))
                    }
                }
                cellReadings = TableChecks.apply(readings: cellReadings, positions: positions, layout: layout,
                                                 reviewThreshold: reader.settings.reviewThreshold, correct: checks.correct).readings
                // A reading the checks took from a recut has digits with no image in normalized.bin.
                for index in page.cells.indices where cellReadings[index].digits.map(\.box) != classified[index].map(\.box) {
                    entries[index] = [Int](repeating: -1, count: cellReadings[index].digits.count)
                }
                // Date columns are checked against the rows instead (day = row + k down a daily sheet):
                // a printed day the network misreads with confidence breaks the page's sequence.
                if checks.dates {
                    for column in table.dateColumns.sorted() {
                        let cells = page.cells.indices.filter { page.cells[$0].column == column }
                        let outcome = TableChecks.checkDates(readings: cells.map { cellReadings[$0] }, rows: cells.map { page.cells[$0].row },
                                                             reviewThreshold: reader.settings.reviewThreshold, correct: checks.correct)
                        for (k, index) in cells.enumerated() { cellReadings[index] = outcome.readings[k] }
                    }
                }
                cellReadings = doubtingUnsettledDecimals(cellReadings, columns: page.cells.map(\.column), undecided: undecidedDecimals)
                records = cellReadings.indices.map { record($0, cellReadings[$0]) }
            }
            results.append(PageReadings(decimals: Dictionary(uniqueKeysWithValues: decimals.map { (String($0.key), $0.value) }),
                                        rowLabelColumns: labels, cells: records.filter { !labels.contains($0.column) }))
        }
        return results
    }

    /// One way of reading a cell's touching digits: its cut with some of them joined, the
    /// classified digits, their images in normalized.bin, and whether one of them is blank.
    struct JoinOption: ClassifiedCut {
        var cut: CutCell
        var digits: [DigitReading]
        var entries: [Int]
        var blank: Bool
    }

    /// `option` with one of its wide digits split (`CellReader.splits`): only when another
    /// reader read `digitCount` digits, one more than `option` has. The halves have no image in
    /// normalized.bin (entry -1).
    static func splitOptions(_ option: JoinOption, reader: CellReader, digitCount: Int) -> [JoinOption] {
        guard !option.blank else { return [] }
        return reader.splits(of: option.cut, digits: option.digits, digitCount: digitCount).map { split in
            JoinOption(cut: split.cut, digits: split.digits, entries: split.sources.map { $0 >= 0 ? option.entries[$0] : -1 }, blank: false)
        }
    }

    /// The whole-cell reader's settings for a page: the page's decimals, limits and review
    /// threshold, but its own model's calibration (the digit model's temperature would flatten
    /// the CRNN's probabilities: 1.09 cost 0.5 points of exact cells and many flags on synthetic
    /// pages), and no decimals learnt per reader (the combined readings learn them).
    static func sequenceSettings(page: CellReaderSettings, sequence: CellReaderSettings) -> CellReaderSettings {
        var settings = page
        settings.temperature = sequence.temperature
        settings.inferDecimals = false
        return settings
    }

    /// A cell crop narrowed to its ink, rules at the edges left out, with a margin of a quarter of
    /// its height each side: the whole-cell reader was trained on cells that the number fills
    /// (archival crops), not on wide ruled boxes with the number at one end.
    static func inkCrop(_ cell: GrayImage) -> GrayImage {
        let inset = max(2, cell.height / 10)
        guard cell.width > 2 * inset + 2, cell.height > 2 * inset + 2 else { return cell }
        var minX = Int.max, maxX = -1
        for y in inset..<(cell.height - inset) {
            for x in inset..<(cell.width - inset) where cell[x, y] < 0.5 {
                minX = min(minX, x); maxX = max(maxX, x)
            }
        }
        guard maxX >= minX else { return cell }
        let margin = cell.height / 4
        let x0 = max(0, minX - margin), x1 = min(cell.width - 1, maxX + margin)
        return cell.cropped(x: x0, y: 0, width: x1 - x0 + 1, height: cell.height)
    }

    /// Columns whose values count the rows (day numbers, printed or written): whole numbers of
    /// which at least 70% (and 6) are their row plus one and the same offset. A misread label
    /// (18 for 10 in a type the digit model reads poorly) costs one cell, not the two pairs
    /// around it. They label the rows; they are not data, unless they are `keeping` (the user's
    /// `table.date_columns`: the dates a SEF export takes).
    static func rowLabelColumns(_ cells: [CellReadingRecord], keeping: [Int] = []) -> [Int] {
        var result: [Int] = []
        for column in Set(cells.map(\.column)).sorted() where !keeping.contains(column) {
            let numbers = cells.filter { $0.column == column }.compactMap { cell -> (row: Int, value: Int)? in
                guard !cell.value.contains("."), let value = Int(cell.value) else { return nil }
                return (cell.row, value)
            }.sorted { $0.row < $1.row }
            guard numbers.count >= 6 else { continue }
            var offsets: [Int: Int] = [:]
            for number in numbers { offsets[number.value - number.row, default: 0] += 1 }
            let counting = offsets.values.max() ?? 0
            if counting >= 6 && counting * 10 >= numbers.count * 7 { result.append(column) }
        }
        return result
    }

    /// Decimals per numeric column of a page: the column hint's, else `table.decimals`; with
    /// `auto`, what the cells' visible separators settle (`decimals(separatorCounts:numbers:)`).
    /// `undecided`: the `auto` columns whose separators were seen but settle nothing.
    static func columnDecimals(page: SegmentedPage, cuts: [CutCell], table: TableHints) -> (decimals: [Int: Int], undecided: Set<Int>) {
        var result: [Int: Int] = [:]
        var undecided = Set<Int>()
        let columns = Set(page.cells.map(\.column))
        for column in columns.sorted() {
            // Dates are whole numbers: a stray dot or a page-wide `table.decimals` must not make 12 into 1.2.
            if table.dateColumns.contains(column) {
                result[column] = 0
                continue
            }
            if let given = table.hint(column: column)?.decimals {
                result[column] = given
                continue
            }
            switch table.decimals {
            case .none: continue
            case .fixed(let count): result[column] = count
            case .auto:
                var counts: [Int: Int] = [:], numbers = 0
                for (index, cell) in page.cells.enumerated() where cell.column == column {
                    let cut = cuts[index]
                    guard (1...page.maxDigits).contains(cut.digits.count) else { continue }
                    numbers += 1
                    if let separator = cut.separatorIndex, separator > 0, separator < cut.digits.count {
                        counts[cut.digits.count - separator, default: 0] += 1
                    }
                }
                switch decimals(separatorCounts: counts, numbers: numbers) {
                case .settled(let count): result[column] = count
                case .undecided: undecided.insert(column)
                case .unseen: break
                }
            }
        }
        return (result, undecided)
    }

    enum SeparatorVerdict: Equatable {
        case settled(Int)
        /// Separators seen, but too few or too split to settle the column.
        case undecided
        /// Fewer than `minimumSeparatorsToDoubt`: a column of whole numbers, or a stray dot.
        case unseen
    }

    /// Separators seen in a column before its cells read without one are doubted when the
    /// column's decimals stay unsettled.
    static let minimumSeparatorsToDoubt = 2

    /// A column's decimals from `separatorCounts` (digits after the separator -> cells) among its
    /// `numbers` read cells: the count most of them agree on, when at least 3 cells and 10% of the
    /// numbers show one and 60% of those agree. A faint hand's dots are often lost, and a digit
    /// drawn small may be taken for one (a writer's tiny 1 before the 0 of 1002.6), so a column
    /// of one-decimal values may show a quarter of its separators in the wrong place; a column
    /// without decimals rarely shows a stray dot.
    static func decimals(separatorCounts counts: [Int: Int], numbers: Int) -> SeparatorVerdict {
        let seen = counts.values.reduce(0, +)
        if seen >= 3, seen * 10 >= numbers,
           let best = counts.max(by: { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }),
           best.value * 5 >= seen * 3 {
            return .settled(best.key)
        }
        return seen >= minimumSeparatorsToDoubt ? .undecided : .unseen
    }

    /// Cells read ok without a point in a column whose decimals stay undecided (`columnDecimals`)
    /// go to review: the point is likely there and unseen, so 18.6 may read 186. Their
    /// `checks_doubted` says `decimals`.
    static func doubtingUnsettledDecimals(_ readings: [CellReading], columns: [Int], undecided: Set<Int>) -> [CellReading] {
        guard !undecided.isEmpty else { return readings }
        return zip(readings, columns).map { reading, column in undecided.contains(column) ? reading.doubtingItsPoint() : reading }
    }

    // MARK: I/O

    static let outputName = "readings.json"

    static func write(_ readings: PageReadings, record: PageRecord, inputs: [String: String], fingerprint: String,
                      seconds: Double, folder: RunFolder) throws -> StageRecord {
        let relative = folder.pageFile(record.id, outputName)
        let data = try PageFiles.encode(readings)
        try AtomicFile.write(data, to: folder.path(relative))
        var flags: [String: Int] = [:]
        for cell in readings.cells { flags[cell.flag.rawValue, default: 0] += 1 }
        let info = Dictionary(uniqueKeysWithValues: flags.map { ($0.key, String($0.value)) })
        return StageRecord(status: .done, inputs: inputs, parameters: fingerprint, outputs: [relative: SHA256.hex(data)],
                           seconds: seconds, finished: Clock.now(), error: nil, info: info)
    }

    static func load(record: PageRecord, folder: RunFolder) throws -> PageReadings {
        try PageFiles.decode(PageReadings.self, from: folder.path(folder.pageFile(record.id, outputName)))
    }
}
