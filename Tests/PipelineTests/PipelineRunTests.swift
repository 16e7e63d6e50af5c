import Foundation
import XCTest
import Imaging
import NeuralNet
import Recognition
@testable import Pipeline

/// The manifest's skip, re-run and stale logic, bad pages, --strict and atomic outputs, on small
/// synthetic pages with a tiny random model (what it reads does not matter here).
final class PipelineRunTests: XCTestCase {
    override func setUp() { Threads.set(2) }

    func makeRun(pages: Int = 2) throws -> (scans: String, model: String, out: String) {
        let root = PipelineFixtures.temporaryFolder(self, "run")
        try PipelineFixtures.writePages(PipelineFixtures.pageOptions(pages: pages), to: root + "/scans")
        try FileManager.default.removeItem(atPath: root + "/scans/truth.csv")
        return (root + "/scans", try PipelineFixtures.tinyModel(in: root), root + "/out")
    }

    /// The whole-cell model counts by content: retrained in place, it reruns classify.
    func testANewWholeCellModelAtTheSamePathRerunsClassify() throws {
        let (scans, model, out) = try makeRun(pages: 1)
        let cellModel = out + "-cells.safetensors"
        let config = CRNNConfig(inputHeight: 16, inputWidth: 32, convChannels: [2], pools: [[16, 1]], lstmHidden: 2)
        try CRNN(config: config, seed: 1).save(to: cellModel)
        var request = PipelineFixtures.request(folder: out, scans: [scans], model: model)
        request.overrides = ["cell_model=" + cellModel]
        XCTAssertEqual(try PipelineRunner(request).run().ran[.classify], 1)
        XCTAssertNil(try PipelineRunner(request).run().ran[.classify], "unchanged: classify is skipped")
        try CRNN(config: config, seed: 2).save(to: cellModel)
        XCTAssertEqual(try PipelineRunner(request).run().ran[.classify], 1, "same path, new weights")
    }

    func testSecondRunSkipsEverythingAndChangesRerunOnlyWhatTheyFeed() throws {
        let (scans, model, out) = try makeRun()
        let first = try PipelineRunner(PipelineFixtures.request(folder: out, scans: [scans], model: model)).run()
        XCTAssertEqual(first.failures, [])
        XCTAssertEqual(first.finished, 2)
        for stage in StageName.pageStages { XCTAssertEqual(first.ran[stage], 2, stage.rawValue) }
        XCTAssertEqual(first.ran[.export], 1)
        let transcription = try String(contentsOfFile: out + "/transcription.csv", encoding: .utf8)
        XCTAssertTrue(transcription.hasPrefix(ExportStage.header + "\n"))
        XCTAssertGreaterThan(transcription.split(separator: "\n").count, 20)

        // Unchanged: nothing runs, nothing is rewritten.
        let second = try PipelineRunner(PipelineFixtures.request(folder: out, scans: [scans], model: model)).run()
        for stage in StageName.pageStages { XCTAssertNil(second.ran[stage], stage.rawValue); XCTAssertEqual(second.skipped[stage], 2) }
        XCTAssertNil(second.ran[.export])
        XCTAssertEqual(try String(contentsOfFile: out + "/transcription.csv", encoding: .utf8), transcription)

        // A classify parameter: classify runs again, export is stale until the next run.
        var request = PipelineFixtures.request(folder: out, scans: [], model: model)
        request.overrides = ["classify.review_threshold=0.5"]
        let classified = try PipelineRunner(request).runStage(.classify, downstream: false)
        XCTAssertEqual(classified.ran[.classify], 2)
        XCTAssertNil(classified.ran[.segment])
        XCTAssertEqual(classified.stale[.export], 1)
        var manifest = try RunManifest.load(runFolder: out)
        XCTAssertEqual(manifest.export?.status, .stale)
        XCTAssertEqual(manifest.pipeline.overrides, ["classify.review_threshold=0.5"])
        XCTAssertTrue(try String(contentsOfFile: out + "/pipeline.yaml", encoding: .utf8).contains("review_threshold: 0.5"))
        XCTAssertTrue(RunStatus.text(manifest, folder: out).contains("export     stale"))
        // The next run keeps the run's pipeline (with the change) and only exports.
        let third = try PipelineRunner(PipelineFixtures.request(folder: out, scans: [scans], model: model)).run()
        XCTAssertEqual(third.ran[.export], 1)
        XCTAssertNil(third.ran[.classify])

        // A binarize parameter without --downstream: later stages of changed pages go stale...
        request.overrides = ["binarize.k=0.3"]
        let binarized = try PipelineRunner(request).runStage(.binarize, downstream: false)
        XCTAssertEqual(binarized.ran[.binarize], 2)
        XCTAssertNil(binarized.ran[.segment])
        manifest = try RunManifest.load(runFolder: out)
        XCTAssertTrue(manifest.pages.allSatisfy { $0.record(.segment)?.status == .stale && $0.record(.classify)?.status == .stale })
        // ... and run again: everything after binarize runs, binarize itself is up to date.
        let fourth = try PipelineRunner(PipelineFixtures.request(folder: out, scans: [scans], model: model)).run()
        XCTAssertNil(fourth.ran[.binarize])
        XCTAssertEqual(fourth.ran[.segment], 2)
        XCTAssertEqual(fourth.ran[.classify], 2)
        XCTAssertEqual(fourth.ran[.export], 1)
        XCTAssertTrue(try RunManifest.load(runFolder: out).pages.allSatisfy(\.isComplete))

        // --downstream runs the later stages at once.
        request.overrides = ["segment.cell_inset=2"]
        let downstream = try PipelineRunner(request).runStage(.segment, downstream: true)
        XCTAssertEqual(downstream.ran[.segment], 2)
        XCTAssertEqual(downstream.ran[.classify], 2)
        XCTAssertEqual(downstream.ran[.export], 1)
        XCTAssertEqual(downstream.stale, [:])
    }

    func testBadPagesAreRecordedWithTheReasonAndTheOthersFinish() throws {
        let (scans, model, out) = try makeRun()
        try "not an image".write(toFile: scans + "/garbage.png", atomically: true, encoding: .utf8)
        let good = try Data(contentsOf: URL(fileURLWithPath: scans + "/synth-0001.png"))
        try good.prefix(200).write(to: URL(fileURLWithPath: scans + "/truncated.png"))
        try writePNG(GrayImage(width: 300, height: 300, fill: 1), to: scans + "/blank.png")

        let outcome = try PipelineRunner(PipelineFixtures.request(folder: out, scans: [scans], model: model)).run()
        XCTAssertEqual(outcome.finished, 2)
        let failures = Dictionary(uniqueKeysWithValues: outcome.failures.map { ($0.page, $0) })
        XCTAssertEqual(Set(failures.keys), ["garbage", "truncated", "blank"])
        XCTAssertEqual(failures["garbage"]?.stage, .ingest)
        XCTAssertTrue(failures["garbage"]!.error.contains("not a PNG, JPEG or TIFF"), failures["garbage"]!.error)
        XCTAssertEqual(failures["truncated"]?.stage, .ingest)
        XCTAssertEqual(failures["blank"]?.stage, .segment)
        XCTAssertTrue(failures["blank"]!.error.contains("no ruled table"), failures["blank"]!.error)
        // Recorded in the manifest and shown by status; the transcription has the good pages only.
        let manifest = try RunManifest.load(runFolder: out)
        XCTAssertEqual(manifest.pages.count, 5)
        XCTAssertTrue(RunStatus.text(manifest, folder: out).contains("FAILED at segment: no ruled table"))
        let pages = Set(try CSVTable.load(path: out + "/transcription.csv").rows.map { $0[0] })
        XCTAssertEqual(pages, ["synth-0001", "synth-0002"])
    }

    func testStrictStopsAtTheFirstFailure() throws {
        let (scans, model, out) = try makeRun()
        try "not an image".write(toFile: scans + "/a-garbage.png", atomically: true, encoding: .utf8)
        var request = PipelineFixtures.request(folder: out, scans: [scans], model: model)
        request.strict = true
        XCTAssertThrowsError(try PipelineRunner(request).run()) { error in
            XCTAssertTrue("\(error)".contains("stopped at the first failure (--strict): page a-garbage"), "\(error)")
        }
        let manifest = try RunManifest.load(runFolder: out)
        XCTAssertEqual(manifest.pages.map(\.id), ["a-garbage"])
        XCTAssertEqual(manifest.pages[0].failure?.stage, .ingest)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/transcription.csv"))
    }

    func testOutputsAreWholeAndMatchTheirChecksums() throws {
        let (scans, model, out) = try makeRun()
        _ = try PipelineRunner(PipelineFixtures.request(folder: out, scans: [scans], model: model)).run()
        let files = PipelineFixtures.files(under: out)
        XCTAssertTrue(files.allSatisfy { !$0.contains(".tmp") && !$0.contains(".new-") && !$0.contains(".old-") }, "\(files)")
        let manifest = try RunManifest.load(runFolder: out)
        var checked = 0
        for record in manifest.pages.flatMap({ $0.stages.values }) + [manifest.export!] {
            for (path, sum) in record.outputs {
                XCTAssertEqual(try SHA256.hex(fileAt: out + "/" + path), sum, path)
                checked += 1
            }
        }
        XCTAssertEqual(checked, 2 * 4 + 2)
        XCTAssertEqual(SHA256.hex(try String(contentsOfFile: out + "/pipeline.yaml", encoding: .utf8)), manifest.pipeline.sha256)
        XCTAssertEqual(manifest.model.sha256, try SHA256.hex(fileAt: model))
    }

    /// The stages read a cell exactly as `CellReader.read` does (the cell path shared with
    /// `logbook evaluate-cells`), cells with touching digits aside (the pipeline also tries them joined),
    /// before the table checks (which may re-read a cell: a tiny random model's readings break the ranges).
    func testStagesReadCellsAsTheCellReaderDoes() throws {
        let root = PipelineFixtures.temporaryFolder(self, "cells")
        var rng = SyntheticPages.generator(forPage: 0, seed: 5)
        let options = PipelineFixtures.pageOptions(pages: 1, seed: 5)
        let page = SyntheticPages.render(page: 0, options: options, digits: SyntheticPageTests.fontDigits, rng: &rng).image
        var config = PipelineConfig()
        config.table.headerRows = .value(1)
        config.table.numericColumns = .value([1, 2, 3, 4, 5, 6])
        config.table.decimals = .none
        let binarized = BinarizeStage.binarize(page, parameters: config.binarize)
        let (segmented, grid, _) = try SegmentStage.segment(binarized, parameters: config.segment, table: config.table)
        let digits = try NormalizeStage.normalize(segmented)
        let model = try ResNet.load(path: try PipelineFixtures.tinyModel(in: root))
        let reader = CellReader(model: model, settings: CellReaderSettings(reviewThreshold: 0.9, maxDigits: 5, batchSize: 7))
        config.checks.enabled = false
        let readings = try ClassifyStage.classify([(segmented, digits)], reader: reader, table: config.table, checks: config.checks)[0]
        XCTAssertEqual(readings.cells.count, segmented.cells.count)

        var compared = 0
        for (cell, reading) in zip(segmented.cells, readings.cells) where cell.joins.isEmpty {
            let tableCell = grid.cell(row: cell.row, column: cell.column)!
            let image = grid.cellImage(tableCell, from: binarized.image, inset: config.segment.cellInset)
            let pad = Int((Double(image.width) * config.segment.cellPadding).rounded())
            var padded = GrayImage(width: image.width + 2 * pad, height: image.height, fill: 1)
            for y in 0..<image.height { for x in 0..<image.width { padded[x + pad, y] = image[x, y] } }
            let direct = CellReader(model: model, settings: CellReaderSettings(reviewThreshold: 0.9, maxDigits: 5)).read(cells: [padded])[0]
            XCTAssertEqual(reading.value, direct.value, "row \(cell.row) column \(cell.column)")
            XCTAssertEqual(reading.flag, direct.flag)
            XCTAssertEqual(reading.confidence, direct.confidence, accuracy: 1e-4)
            XCTAssertEqual(reading.digits.map(\.digit), direct.digits.map(\.digit))
            compared += 1
        }
        XCTAssertGreaterThan(compared, segmented.cells.count / 2)
    }

    func testTouchingDigitsAreJoinedWhenTheNetworkIsSurerOfTheWhole() {
        // Two halves of one stroke, split at a column, then a separate digit and a separator.
        var left = GrayImage(width: 4, height: 10, fill: 1), right = GrayImage(width: 4, height: 10, fill: 1)
        for y in 0..<10 { left[3, y] = 0; right[0, y] = 0 }
        let apart = GrayImage(width: 3, height: 10, fill: 0)
        let cut = CutCell(restoringDigits: [
            CutCell.Digit(restoringBox: CutCell.Box(minX: 0, minY: 0, maxX: 3, maxY: 9), image: left),
            CutCell.Digit(restoringBox: CutCell.Box(minX: 4, minY: 0, maxX: 7, maxY: 9), image: right),
            CutCell.Digit(restoringBox: CutCell.Box(minX: 12, minY: 0, maxX: 14, maxY: 9), image: apart),
        ], separatorIndex: 2, separatorBox: CutCell.Box(minX: 9, minY: 8, maxX: 10, maxY: 9), droppedComponents: 0)
        XCTAssertEqual(cut.touchingRuns, [0..<2])
        XCTAssertEqual(cut.joinCandidates, [0..<2])
        XCTAssertEqual(cut.fewestDigits, 2)
        XCTAssertEqual(cut.bestJoins(digitProbability: [0.6, 0.99, 0.99], joinProbability: [0.95]), [0..<2])
        XCTAssertEqual(cut.bestJoins(digitProbability: [0.97, 0.99, 0.99], joinProbability: [0.95]), [])
        let joined = cut.joining([0..<2])
        XCTAssertEqual(joined.digits.map(\.box), [CutCell.Box(minX: 0, minY: 0, maxX: 7, maxY: 9), cut.digits[2].box])
        XCTAssertEqual(joined.separatorIndex, 1)
        XCTAssertEqual(joined.digits[0].image.pixels.filter { $0 < 0.5 }.count, 20)
    }

    /// The other ways of joining touching digits, and a column's usual digit count (which a
    /// split must give a cell before the whole-cell reader's extra digit is believed).
    func testJoiningsAndUsualDigitCounts() {
        XCTAssertEqual(CellReader.joinings(of: []), [[]])
        XCTAssertEqual(CellReader.joinings(of: [0..<2, 1..<3, 3..<5]),
                       [[], [0..<2], [1..<3], [3..<5], [0..<2, 3..<5], [1..<3, 3..<5]])
        func cut(_ digits: Int) -> CutCell {
            CutCell(restoringDigits: (0..<digits).map { k in
                CutCell.Digit(restoringBox: CutCell.Box(minX: 10 * k, minY: 0, maxX: 10 * k + 5, maxY: 9),
                              image: GrayImage(width: 6, height: 10, fill: 0))
            }, separatorIndex: nil, separatorBox: nil, droppedComponents: 0)
        }
        let usual = CellReader.usualDigitCounts(columns: [1, 1, 1, 2, 2, 2, 2, 3],
                                                   cuts: [cut(2), cut(2), cut(3), cut(4), cut(5), cut(0), cut(0), cut(0)])
        XCTAssertEqual(usual, [1: 2, 2: 5], "ties go to the longer count; empty cells do not count")
    }

    /// The halves of a split are classified and take the place of the piece; they have no image
    /// in normalized.bin. Nothing is split unless the other reader read one digit more.
    /// A disagreement may use a joining that keeps more digits apart, and one that joins more only
    /// when that gives the column's usual count (a 0's tail cut off as a 2 joined back: 20.0 -> 0.0).
    func testUsableJoiningsJoinMoreOnlyToTheUsualCount() {
        let blank = CellDigitCutter.cut(cell: GrayImage(width: 20, height: 20, fill: 1))
        let digit = DigitReading(digit: 0, probability: 0.9, alternatives: [], box: CutCell.Box(minX: 0, minY: 0, maxX: 1, maxY: 1))
        let options = [1, 2, 3, 4].map { Recut(cut: blank, digits: Array(repeating: digit, count: $0), sources: []) }
        XCTAssertEqual(CellReader.usableJoinings(options, digitCount: 3, usualCount: -1).map(\.digits.count), [4])
        XCTAssertEqual(CellReader.usableJoinings(options, digitCount: 3, usualCount: 2).map(\.digits.count), [2, 4])
        XCTAssertEqual(CellReader.usableJoinings(options, digitCount: 3, usualCount: 3).map(\.digits.count), [4])
    }

    func testSplitOptionsReplaceOnePieceByItsClassifiedHalves() throws {
        let root = PipelineFixtures.temporaryFolder(self, "splits")
        let reader = CellReader(model: try ResNet.load(path: try PipelineFixtures.tinyModel(in: root)))
        var piece = GrayImage(width: 20, height: 20, fill: 1)
        for y in 0..<20 { piece[1, y] = 0; piece[2, y] = 0; piece[8, y] = 0; piece[18, y] = 0 }
        for x in 8...18 { piece[x, 0] = 0; piece[x, 19] = 0 }
        var other = GrayImage(width: 8, height: 20, fill: 1)
        for y in 0..<20 { other[4, y] = 0 }
        let cut = CutCell(restoringDigits: [
            CutCell.Digit(restoringBox: CutCell.Box(minX: 0, minY: 0, maxX: 19, maxY: 19), image: piece),
            CutCell.Digit(restoringBox: CutCell.Box(minX: 30, minY: 0, maxX: 37, maxY: 19), image: other),
        ], separatorIndex: 1, separatorBox: CutCell.Box(minX: 24, minY: 17, maxX: 26, maxY: 19), droppedComponents: 0)
        let reading = DigitReading(digit: 3, probability: 0.9, alternatives: [], box: cut.digits[0].box)
        let option = ClassifyStage.JoinOption(cut: cut, digits: [reading, reading], entries: [0, 1], blank: false)
        XCTAssertTrue(ClassifyStage.splitOptions(option, reader: reader, digitCount: 2).isEmpty)
        let splits = ClassifyStage.splitOptions(option, reader: reader, digitCount: 3)
        XCTAssertFalse(splits.isEmpty)
        for split in splits {
            XCTAssertEqual(split.digits.count, 3)
            XCTAssertEqual(split.entries, [-1, -1, 1])
            XCTAssertEqual(split.cut.separatorIndex, 2, "the point still follows the piece's halves")
            XCTAssertEqual(split.digits[2], reading)
            XCTAssertLessThan(split.digits[0].box.maxX, split.digits[1].box.minX)
            XCTAssertTrue(split.digits[0...1].allSatisfy { $0.probability > 0 && $0.probability <= 1 && $0.alternatives.first?.digit == $0.digit })
        }
    }

    /// A cell's minus sign survives segment.json, and a segment.json written before minus signs
    /// were seen still loads (no minus).
    func testAMinusSignIsStoredWithTheCell() throws {
        let cell = SegmentedCell(row: 1, column: 2, name: "", corners: [0, 0, 10, 0, 10, 5, 0, 5], box: [0, 0, 10, 5],
                                 size: [10, 5], digits: [], separatorIndex: nil, separatorBox: nil, dropped: 0, joins: [],
                                 minusBox: [1, 2, 6, 3])
        let data = try JSONEncoder().encode(cell)
        let decoded = try JSONDecoder().decode(SegmentedCell.self, from: data)
        XCTAssertEqual(try SegmentStage.cut(of: decoded).minusBox, CutCell.Box(minX: 1, minY: 2, maxX: 6, maxY: 3))
        var old = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        old.removeValue(forKey: "minus_box")
        let older = try JSONDecoder().decode(SegmentedCell.self, from: try JSONSerialization.data(withJSONObject: old))
        XCTAssertNil(try SegmentStage.cut(of: older).minusBox)
    }

    /// The whole-cell reader takes the page's decimals and threshold but keeps its own temperature.
    func testSequenceReaderKeepsItsOwnCalibration() {
        let page = CellReaderSettings(reviewThreshold: 0.7, decimalsByColumn: ["3": 1], maxDigits: 4, temperature: 1.09)
        let own = CellReaderSettings(temperature: 1.0)
        let settings = ClassifyStage.sequenceSettings(page: page, sequence: own)
        XCTAssertEqual(settings.temperature, 1.0)
        XCTAssertEqual(settings.reviewThreshold, 0.7)
        XCTAssertEqual(settings.decimalsByColumn, ["3": 1])
        XCTAssertEqual(settings.maxDigits, 4)
        XCTAssertFalse(settings.inferDecimals)
    }

    /// A column's decimals from the separators its cells show: settled when 60% of at least 3
    /// (and 10% of the numbers) agree, even with a quarter in the wrong place; undecided when seen
    /// but split or too rare; unseen for a stray dot or none.
    func testColumnDecimalsFromTheSeparatorsSeen() {
        XCTAssertEqual(ClassifyStage.decimals(separatorCounts: [1: 20, 2: 8], numbers: 29), .settled(1), "71% agree")
        XCTAssertEqual(ClassifyStage.decimals(separatorCounts: [1: 26, 2: 4], numbers: 31), .settled(1))
        XCTAssertEqual(ClassifyStage.decimals(separatorCounts: [2: 9, 1: 10], numbers: 29), .undecided, "53% agree")
        XCTAssertEqual(ClassifyStage.decimals(separatorCounts: [2: 2, 3: 2, 1: 3], numbers: 30), .undecided)
        XCTAssertEqual(ClassifyStage.decimals(separatorCounts: [2: 2], numbers: 29), .undecided, "too few to settle")
        XCTAssertEqual(ClassifyStage.decimals(separatorCounts: [1: 3], numbers: 40), .undecided, "under 10% of the numbers")
        XCTAssertEqual(ClassifyStage.decimals(separatorCounts: [1: 1], numbers: 29), .unseen)
        XCTAssertEqual(ClassifyStage.decimals(separatorCounts: [:], numbers: 29), .unseen)
    }

    /// In a column whose decimals stay undecided, a cell read ok without a point (186 for 18.6)
    /// goes to review; cells with a point, already in review, empty, or in other columns do not change.
    func testCellsWithoutAPointInAnUndecidedColumnAreDoubted() {
        func reading(_ value: String, _ flag: CellFlag) -> CellReading {
            CellReading(value: value, digits: [], separatorAfter: nil, separatorSeen: false, confidence: 0.99, flag: flag)
        }
        let readings = [reading("186", .ok), reading("18.6", .ok), reading("134", .review), reading("", .empty), reading("51", .ok)]
        let doubted = ClassifyStage.doubtingUnsettledDecimals(readings, columns: [1, 1, 1, 1, 6], undecided: [1])
        XCTAssertEqual(doubted.map(\.flag), [.review, .ok, .review, .empty, .ok])
        XCTAssertEqual(doubted[0].checksDoubted, ["decimals"])
        XCTAssertEqual(doubted[2].checksDoubted, [], "already in review: no new reason")
        XCTAssertEqual(doubted.map(\.value), readings.map(\.value), "only flags change")
        XCTAssertEqual(ClassifyStage.doubtingUnsettledDecimals(readings, columns: [1, 1, 1, 1, 6], undecided: []), readings)
    }

    /// Where the readers disagree, the other reader's value goes into readings.json and the
    /// transcription's last column; readings written before it existed still load.
    func testOtherReadingIsExported() throws {
        func cell(_ row: Int, _ value: String, other: String?) -> CellReadingRecord {
            var record = CellReadingRecord(row: row, column: 2, name: "Press.", value: value, confidence: 0.78, flag: .review,
                                           digits: [], separatorAfter: 3, separatorSeen: true, box: [10, 20, 30, 40])
            record.otherReading = other
            record.otherConfidence = other == nil ? nil : 0.54
            return record
        }
        let readings = PageReadings(decimals: [:], rowLabelColumns: [], cells: [cell(1, "1080.8", other: "1010.8"), cell(2, "12.5", other: nil)])
        let page = PageRecord(id: "p1", source: "scans/p1.png", pageIndex: 0, sha256: "", bytes: 0, modified: 0)
        let lines = ExportStage.lines(page: page, readings: readings, alternatives: 2)
        let header = ExportStage.header.split(separator: ",").map(String.init)
        XCTAssertEqual(header.last, "other_reading")
        let fields = lines.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        XCTAssertEqual(fields.map(\.count), [header.count, header.count])
        XCTAssertEqual(fields[0][header.firstIndex(of: "value")!], "1080.8")
        XCTAssertEqual(fields[0].last, "1010.8")
        XCTAssertEqual(fields[1].last, "", "the readers agreed")

        let json = try JSONEncoder().encode(readings)
        XCTAssertEqual(try JSONDecoder().decode(PageReadings.self, from: json), readings)
        XCTAssertTrue(String(decoding: json, as: UTF8.self).contains("\"other_reading\":\"1010.8\""))
        var object = try JSONSerialization.jsonObject(with: json) as! [String: Any]
        object["cells"] = (object["cells"] as! [[String: Any]]).map { $0.filter { !$0.key.hasPrefix("other_") } }
        let older = try JSONDecoder().decode(PageReadings.self, from: JSONSerialization.data(withJSONObject: object))
        XCTAssertEqual(older.cells.map(\.otherReading), [nil, nil])
        XCTAssertEqual(older.cells.map(\.value), ["1080.8", "12.5"])
    }

    func testRowNumberColumnsAreRecognisedAfterReading() {
        func cell(_ row: Int, _ column: Int, _ value: String) -> CellReadingRecord {
            CellReadingRecord(row: row, column: column, name: "", value: value, confidence: 1, flag: .ok, digits: [],
                              separatorAfter: nil, separatorSeen: false, box: [])
        }
        let days = (1...10).map { cell($0, 0, String($0 == 4 ? 9 : $0)) }            // one misread
        let values = (1...10).map { cell($0, 1, String(20 + ($0 * 7) % 5)) }
        let decimals = (1...10).map { cell($0, 2, "\($0).5") }
        XCTAssertEqual(ClassifyStage.rowLabelColumns(days + values + decimals), [0])
        XCTAssertEqual(ClassifyStage.rowLabelColumns(days + values + decimals, keeping: [0]), [],
                       "a day column read for dates (table.date_columns) is kept")
        // Printed labels of a type the digit model reads poorly: 7 of 31 misread, each breaking
        // the count on both sides (19 of 30 consecutive pairs count), 24 of 31 still their row.
        let misread: [Int: String] = [10: "18", 13: "83", 14: "94", 16: "26", 20: "28", 30: "38", 31: "32"]
        let printed = (1...31).map { cell($0, 3, misread[$0] ?? String($0)) }
        XCTAssertEqual(ClassifyStage.rowLabelColumns(printed + values), [3])
        // Counting rows shifted by a header (day 1 on row 2) still counts.
        XCTAssertEqual(ClassifyStage.rowLabelColumns((2...12).map { cell($0, 0, String($0 - 1)) }), [0])
        // A column with a few values equal to their row by chance does not.
        let temperatures = (1...31).map { cell($0, 1, String([$0, 20 + $0 % 7, 30 - $0 % 5][$0 % 3])) }
        XCTAssertEqual(ClassifyStage.rowLabelColumns(temperatures), [])
    }
}
