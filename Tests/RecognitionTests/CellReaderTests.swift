import Foundation
import Imaging
import NeuralNet
import XCTest
@testable import Recognition

/// A cell drawn with Imaging: white paper, black "digits" (rings) and an optional decimal dot.
private func sketchCell(digits: Int, dotAfter: Int? = nil, width: Int? = nil) -> GrayImage {
    let pitch = 34, height = 60
    var canvas = RGBImage(width: width ?? (20 + digits * pitch + 10), height: height, color: .white)
    for k in 0..<digits {
        let x = 14 + k * pitch + (dotAfter != nil && k >= dotAfter! ? 8 : 0)
        // A "0"-like ring: the outline of a rectangle with a thick stroke.
        canvas.fillRect(x: x, y: 10, width: 20, height: 4, color: .black)
        canvas.fillRect(x: x, y: 44, width: 20, height: 4, color: .black)
        canvas.fillRect(x: x, y: 10, width: 4, height: 38, color: .black)
        canvas.fillRect(x: x + 16, y: 10, width: 4, height: 38, color: .black)
    }
    if let dotAfter {
        canvas.fillRect(x: 14 + dotAfter * pitch - 10 + 4, y: 43, width: 5, height: 5, color: .black)
    }
    var gray = GrayImage(width: canvas.width, height: canvas.height)
    for i in 0..<(canvas.width * canvas.height) { gray.pixels[i] = Float(canvas.pixels[3 * i]) / 255 }
    return gray
}

/// A tiny 10-class model whose output does not depend on the input: fc weights zero, fc bias
/// making `digit` win with softmax probability `probability` (the other nine share the rest).
private func fixedModel(digit: Int, probability: Float) -> ResNet {
    let model = ResNet(config: ModelConfig(architecture: .resnet18, width: 0.0625, classes: 10), seed: 3)
    let state = Dictionary(uniqueKeysWithValues: model.namedState())
    state["fc.weight"]!.value.fill(0)
    var bias = Tensor(zeros: [10])
    // p = e^L / (e^L + 9)  =>  L = log(9 p / (1 - p))
    bias.data[digit] = log(9 * probability / (1 - probability))
    state["fc.bias"]!.value = bias
    return model
}

final class CellReaderTests: RecognitionTestCase {
    // MARK: Reading

    /// A level dash at mid-height before the digits is a minus sign: the value is negative and
    /// the dash is no digit. A dash at the top (a 7's flag cut loose) or low down (an underline
    /// stroke) is not a minus.
    func testAMinusSignBeforeTheDigitsMakesTheValueNegative() {
        let reader = CellReader(model: fixedModel(digit: 3, probability: 0.99))
        func cell(dashAt y: Int?) -> GrayImage {
            var image = sketchCell(digits: 2, dotAfter: 1, width: 140)
            var shifted = GrayImage(width: image.width + 20, height: image.height, fill: 1)
            for yy in 0..<image.height { for x in 0..<image.width { shifted[x + 20, yy] = image[x, yy] } }
            image = shifted
            if let y { for yy in y..<(y + 4) { for x in 12...27 { image[x, yy] = 0 } } }
            return image
        }
        let readings = reader.read(cells: [cell(dashAt: 27), cell(dashAt: nil), cell(dashAt: 10)])
        XCTAssertEqual(readings[0].value, "-3.3")
        XCTAssertEqual(readings[0].digits.count, 2)
        XCTAssertEqual(CellDigitCutter.cut(cell: cell(dashAt: 27)).minusBox, CutCell.Box(minX: 12, minY: 27, maxX: 27, maxY: 30))
        XCTAssertEqual(readings[1].value, "3.3")
        XCTAssertEqual(readings[2].value, "3.3", "a dash at the top of the digits is no minus")
        XCTAssertNil(CellDigitCutter.cut(cell: cell(dashAt: 10)).minusBox)
    }

    func testCellStructureValueConfidenceAndFlags() {
        let reader = CellReader(model: fixedModel(digit: 7, probability: 0.8))
        let cells = [sketchCell(digits: 3, dotAfter: 2), GrayImage(width: 90, height: 60, fill: 1), sketchCell(digits: 2)]
        let readings = reader.read(cells: cells)
        XCTAssertEqual(readings.count, 3)

        let decimal = readings[0]
        XCTAssertEqual(decimal.digits.count, 3)
        XCTAssertEqual(decimal.separatorAfter, 2)
        XCTAssertTrue(decimal.separatorSeen)
        XCTAssertEqual(decimal.value, "77.7")
        XCTAssertEqual(decimal.confidence, 0.8, accuracy: 1e-4)
        XCTAssertEqual(decimal.flag, .review, "0.8 is below the default threshold 0.9")
        XCTAssertEqual(decimal.digits[0].alternatives.map(\.digit), [7, 0, 1], "best first, ties by class")
        XCTAssertEqual(decimal.digits[0].alternatives[1].probability, 0.2 / 9, accuracy: 1e-4)
        XCTAssertTrue(zip(decimal.digits, decimal.digits.dropFirst()).allSatisfy { $0.box.maxX < $1.box.minX },
                      "digits left to right")

        let empty = readings[1]
        XCTAssertEqual(empty.flag, .empty)
        XCTAssertEqual(empty.value, "")
        XCTAssertEqual(empty.confidence, 1)
        XCTAssertTrue(empty.digits.isEmpty)

        XCTAssertEqual(readings[2].value, "77")
        XCTAssertNil(readings[2].separatorAfter)

        // The same model at a lower threshold: ok. `flag(atThreshold:)` agrees.
        let lenient = CellReader(model: reader.model, settings: CellReaderSettings(reviewThreshold: 0.75))
        XCTAssertEqual(lenient.read(cells: [cells[0]])[0].flag, .ok)
        XCTAssertEqual(decimal.flag(atThreshold: 0.75), .ok)
        XCTAssertEqual(empty.flag(atThreshold: 0.999), .empty)
    }

    func testTooManyDigitsIsUnreadable() {
        let reader = CellReader(model: fixedModel(digit: 3, probability: 0.99),
                                settings: CellReaderSettings(maxDigits: 4))
        let readings = reader.read(cells: [sketchCell(digits: 5), sketchCell(digits: 4)])
        XCTAssertEqual(readings[0].flag, .unreadable)
        XCTAssertEqual(readings[0].value, "33333", "the guess stays visible for review")
        XCTAssertEqual(readings[1].flag, .ok)
        XCTAssertEqual(readings[1].value, "3333")
    }

    func testExpectedDecimalsPlaceThePointWhenNoneIsSeen() {
        let settings = CellReaderSettings(decimalsByColumn: ["D": 1])
        let reader = CellReader(model: fixedModel(digit: 5, probability: 0.95), settings: settings)
        let cells = [sketchCell(digits: 3), sketchCell(digits: 3), sketchCell(digits: 3, dotAfter: 1), sketchCell(digits: 1)]
        let readings = reader.read(cells: cells, columns: ["D", "E", "D", "D"])
        // The third cell's dot disagrees with the column's convention: taken for a speck.
        XCTAssertEqual(readings.map(\.value), ["55.5", "555", "55.5", "5"])
        XCTAssertEqual(readings.map(\.separatorSeen), [false, false, false, false])
        let agreeing = reader.read(cells: [sketchCell(digits: 3, dotAfter: 2)], columns: ["D"])
        XCTAssertEqual(agreeing.map(\.value), ["55.5"])
        XCTAssertEqual(agreeing.map(\.separatorSeen), [true])
    }

    func testColumnDecimalsAreLearntFromSeenSeparators() {
        let model = fixedModel(digit: 5, probability: 0.95)
        let cells = [sketchCell(digits: 3, dotAfter: 2), sketchCell(digits: 4, dotAfter: 3), sketchCell(digits: 3, dotAfter: 2),
                     sketchCell(digits: 3), sketchCell(digits: 3, dotAfter: 1), sketchCell(digits: 3)]
        let columns = ["T", "T", "T", "T", "T", "U"]
        let learnt = CellReader(model: model).read(cells: cells, columns: columns)
        // Column T: three of four separators say one decimal; U has no sightings and follows the table.
        XCTAssertEqual(learnt.map(\.value), ["55.5", "555.5", "55.5", "55.5", "55.5", "55.5"])
        let literal = CellReader(model: model, settings: CellReaderSettings(inferDecimals: false))
            .read(cells: cells, columns: columns)
        XCTAssertEqual(literal.map(\.value), ["55.5", "555.5", "55.5", "555", "5.55", "555"])
        // Too few sightings: nothing is learnt.
        XCTAssertEqual(DecimalInference.decimalsByColumn([("A", 1), ("A", 1), ("A", nil)]), [:])
        // B's own points disagree; it follows the table's majority (4 of 7 say one decimal).
        XCTAssertEqual(DecimalInference.decimalsByColumn([("A", 1), ("A", 1), ("A", 2), ("A", 1), ("B", 2), ("B", 1), ("B", 0)]), ["A": 1, "B": 1])
        XCTAssertEqual(DecimalInference.decimalsByColumn([("A", 1), ("A", 1), ("A", 1), ("B", 2), ("B", 2), ("B", 0), ("B", 0)]), ["A": 1])
        // A narrow majority (14 of 26) of two decimals over tenths is specks outvoting points:
        // tenths stays, for the table and for its columns; a clear one (16 of 26) is taken.
        func sightings(_ counts: [Int: Int]) -> [(column: String, decimals: Int?)] {
            counts.sorted { $0.key < $1.key }.flatMap { decimals, count in
                (0..<count).map { index in (["D", "E", "F"][index % 3], Optional(decimals)) }
            }
        }
        XCTAssertEqual(DecimalInference.decimalsByColumn(sightings([2: 14, 1: 11, 3: 1])), ["D": 1, "E": 1, "F": 1])
        XCTAssertEqual(DecimalInference.decimalsByColumn(sightings([2: 16, 1: 9, 3: 1])), ["D": 2, "E": 2, "F": 2])
        // A "point" right after a leading 1 of three or more digits is a hooked 1's foot: no sighting.
        XCTAssertNil(DecimalInference.decimals(sighted: 1, digits: [1, 8, 4]))
        XCTAssertNil(DecimalInference.decimals(sighted: 1, digits: [1, 4, 9, 9]))
        XCTAssertEqual(DecimalInference.decimals(sighted: 2, digits: [1, 8, 4]), 1)
        XCTAssertEqual(DecimalInference.decimals(sighted: 1, digits: [2, 8, 4]), 2)
        XCTAssertEqual(DecimalInference.decimals(sighted: 1, digits: [1, 5]), 1)
        XCTAssertNil(DecimalInference.decimals(sighted: nil, digits: [2, 8, 4]))
        XCTAssertNil(DecimalInference.decimals(sighted: 3, digits: [2, 8, 4]))
        // Not when tenths is far behind (two decimals against whole numbers).
        XCTAssertEqual(DecimalInference.decimalsByColumn([("", 2), ("", 2), ("", 2), ("", 0), ("", 0)], minimumAgreement: 0.5), ["": 2])
    }

    /// Points seen in a table but no convention settled: cells read without one are doubted, and
    /// the checks (which hold at any scale) do not clear them; a column whose points were placed by
    /// a convention, or a table with under two sightings, is left alone.
    func testCellsWithoutAPointInAnUnsettledColumnAreDoubted() {
        let box = CutCell.Box(minX: 0, minY: 0, maxX: 1, maxY: 1)
        func cell(_ value: String, seenAfter: Int? = nil) -> CellReading {
            let digits = value.compactMap(\.wholeNumberValue).map {
                DigitReading(digit: $0, probability: 0.99, alternatives: [.init(digit: $0, probability: 0.99)], box: box)
            }
            var reading = CellReading(value: value, digits: digits, separatorAfter: value.firstIndex(of: ".").map { value.distance(from: value.startIndex, to: $0) },
                                      separatorSeen: seenAfter != nil, confidence: 0.99, flag: .ok)
            reading.separatorSighted = seenAfter
            reading.verified = true   // a midrange holds at any scale
            return reading
        }
        let table = [cell("31.7", seenAfter: 2), cell("262"), cell("19.9", seenAfter: 2), cell("243")]
        let doubted = DecimalInference.doubtingUnsettled(table, columns: ["D", "D", "E", "F"])
        XCTAssertEqual(doubted.map(\.flag), [.ok, .review, .ok, .review])
        XCTAssertEqual(doubted[1].checksDoubted, ["decimals"])
        XCTAssertEqual(doubted[1].flag(atThreshold: 0.5), .review, "verified or not")
        // One sighting (the other a hooked 1's foot, 1|84): nothing to go on.
        let footed = [cell("31.7", seenAfter: 2), cell("262"), cell("1.84", seenAfter: 1)]
        XCTAssertEqual(DecimalInference.doubtingUnsettled(footed, columns: ["D", "D", "E"]).map(\.flag), [.ok, .ok, .ok])
        // D's convention placed a point where none was seen: D is settled; F is not.
        let settled = table + [cell("26.2")]
        XCTAssertEqual(DecimalInference.doubtingUnsettled(settled, columns: ["D", "D", "E", "F", "D"]).map(\.flag),
                       [.ok, .ok, .ok, .review, .ok])
    }

    /// A table read without any point gets a warning (the checks cannot see the scale); one
    /// point read or placed anywhere, or too few cells, none.
    func testATableReadWithoutAnyPointIsWarnedOf() {
        let box = CutCell.Box(minX: 0, minY: 0, maxX: 1, maxY: 1)
        func cell(_ value: String) -> CellReading {
            let digits = value.compactMap(\.wholeNumberValue).map { DigitReading(digit: $0, probability: 0.99, alternatives: [], box: box) }
            return CellReading(value: value, digits: digits, separatorAfter: nil, separatorSeen: false, confidence: 0.99, flag: .ok)
        }
        let whole = (0..<12).map { cell("2\($0 % 10)3") }
        XCTAssertNotNil(CellEvaluation.wholeNumbersWarning(whole))
        XCTAssertTrue(CellEvaluation.wholeNumbersWarning(whole)!.contains("12 cells"))
        XCTAssertNil(CellEvaluation.wholeNumbersWarning(whole + [cell("26.2")]))
        XCTAssertNil(CellEvaluation.wholeNumbersWarning(Array(whole.prefix(9))))
    }

    func testBatchingDoesNotChangeReadings() {
        // A real (random) network: outputs depend on the digit images.
        let model = ResNet(config: ModelConfig(architecture: .resnet18, width: 0.0625, classes: 10), seed: 5)
        let cells = [sketchCell(digits: 3, dotAfter: 2), sketchCell(digits: 1), sketchCell(digits: 4), sketchCell(digits: 2)]
        let whole = CellReader(model: model).read(cells: cells)
        let small = CellReader(model: model, settings: CellReaderSettings(batchSize: 3)).read(cells: cells)
        XCTAssertEqual(whole.map(\.digits.count), [3, 1, 4, 2])
        for (a, b) in zip(whole, small) {
            XCTAssertEqual(a.value, b.value)
            XCTAssertEqual(a.confidence, b.confidence, accuracy: 1e-5)
        }
    }

    // MARK: Definitions

    func testNumbersCompareAsNumbers() {
        XCTAssertTrue(CellEvaluation.sameNumber("20", "20.0"))
        XCTAssertTrue(CellEvaluation.sameNumber("28.7", "28.70"))
        XCTAssertTrue(CellEvaluation.sameNumber("07.5", "7.5"))
        XCTAssertTrue(CellEvaluation.sameNumber("28,7", "28.7"))
        XCTAssertFalse(CellEvaluation.sameNumber("28.7", "28.1"))
        XCTAssertFalse(CellEvaluation.sameNumber("200", "20"))
        XCTAssertFalse(CellEvaluation.sameNumber("", "0"))
        XCTAssertFalse(CellEvaluation.sameNumber("2?", "2"))
        XCTAssertNil(CellEvaluation.number("1e3"))
        XCTAssertEqual(CellEvaluation.number("-3"), -3)
    }

    func testDigitAccuracyDefinition() {
        func score(_ truth: String, _ read: [Int]) -> (Int, Int, Bool) {
            let s = CellEvaluation.digitScore(truth: truth, read: read)
            return (s.correct, s.total, s.pairs != nil)
        }
        XCTAssertTrue(score("28.7", [2, 8, 1]) == (2, 3, true))
        XCTAssertTrue(score("20", [2, 0]) == (2, 2, true))
        XCTAssertTrue(score("20", [2, 0, 0]) == (3, 3, true), "20 may be written 20.0")
        XCTAssertTrue(score("28.7", [2, 8]) == (0, 3, false), "length mismatch: the truth's digits are wrong")
        XCTAssertTrue(score("28.7", []) == (0, 3, false))
        XCTAssertTrue(score("-3", [3]) == (1, 1, true), "the sign is not a digit")
        let pairs = CellEvaluation.digitScore(truth: "28.7", read: [2, 3, 7]).pairs!
        XCTAssertEqual(pairs.map(\.truth), [2, 8, 7])
        XCTAssertEqual(pairs.map(\.read), [2, 3, 7])
    }

    func testScoresCurveAndJSON() throws {
        func digits(_ values: [Int], _ p: Float) -> [DigitReading] {
            values.map { DigitReading(digit: $0, probability: p, alternatives: [.init(digit: $0, probability: p)],
                                      box: .init(minX: 0, minY: 0, maxX: 1, maxY: 1)) }
        }
        func reading(_ value: String, _ d: [Int], _ p: Float, _ flag: CellFlag) -> CellReading {
            CellReading(value: value, digits: digits(d, p), separatorAfter: nil, separatorSeen: false, confidence: p, flag: flag)
        }
        let truth = [CellTruth(imagePath: "a", value: "28.7", station: "1"),
                     CellTruth(imagePath: "b", value: "20", station: "1"),
                     CellTruth(imagePath: "c", value: "31.5", station: "2"),
                     CellTruth(imagePath: "d", value: "12.0", station: "2")]
        let readings = [reading("28.7", [2, 8, 7], 0.99, .ok),
                        reading("20.0", [2, 0, 0], 0.95, .ok),
                        reading("31.6", [3, 1, 6], 0.6, .review),
                        CellReading(value: "", digits: [], separatorAfter: nil, separatorSeen: false, confidence: 1, flag: .empty)]
        let report = CellEvaluation.score(truth: truth, readings: readings, reviewThreshold: 0.9)
        let o = report.overall
        XCTAssertEqual(o.cells, 4)
        XCTAssertEqual(o.exactValueAccuracy, 0.5)
        XCTAssertEqual(o.digitsTotal, 3 + 3 + 3 + 3)
        XCTAssertEqual(o.digitsCorrect, 3 + 3 + 2)
        XCTAssertEqual(o.flaggedFraction, 0.25)
        XCTAssertEqual(o.unflaggedAccuracy, 2.0 / 3.0, accuracy: 1e-12, "ok, ok, empty; the empty one is wrong")
        XCTAssertEqual(report.confusion[5][6], 1)
        XCTAssertEqual(report.confusion[0][0], 2, "20 read as 20.0: both zeros aligned")
        XCTAssertEqual(report.confusion.joined().reduce(0, +), 9)
        XCTAssertEqual(report.perStation.map(\.station), ["1", "2"])
        XCTAssertEqual(report.perStation[0].scores.exactValueAccuracy, 1)
        XCTAssertEqual(report.perStation[1].scores.exactValueAccuracy, 0)
        // Curve: flagged share grows with the threshold; at 0.97 the 0.95 cell is flagged too.
        let flagged = report.curve.map(\.flaggedFraction)
        XCTAssertEqual(flagged, flagged.sorted())
        XCTAssertEqual(report.curve.first { $0.threshold == 0.5 }!.flaggedFraction, 0)
        XCTAssertEqual(report.curve.first { $0.threshold == 0.97 }!.flaggedFraction, 0.5)

        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(CellEvaluation.json(report).utf8)) as? [String: Any])
        for key in ["cells", "exact_value_accuracy", "digit_accuracy", "flagged_fraction", "unflagged_accuracy",
                    "per_station", "curve", "digit_confusion"] {
            XCTAssertNotNil(object[key], key)
        }
        XCTAssertEqual(object["cells"] as? Int, 4)
        XCTAssertEqual((object["per_station"] as? [String: Any])?.count, 2)
        XCTAssertEqual((object["curve"] as? [Any])?.count, CellEvaluation.curveThresholds.count)

        // No station column: no per-station results; NaN becomes null.
        var bare = CellEvaluation.score(truth: truth.map { CellTruth(imagePath: $0.imagePath, value: $0.value, station: "") },
                                        readings: readings.map { var r = $0; r.flag = .review; return r },
                                        reviewThreshold: 0.9)
        XCTAssertTrue(bare.perStation.isEmpty)
        bare.truthCSV = "t.csv"
        let bareObject = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(CellEvaluation.json(bare).utf8)) as? [String: Any])
        XCTAssertTrue(bareObject["unflagged_accuracy"] is NSNull)
    }

    // MARK: End to end on files

    func testEvaluateReadsCSVFoldersAndWritesTheContactSheet() throws {
        try FileManager.default.createDirectory(atPath: path("cells"), withIntermediateDirectories: true)
        try writePNG(sketchCell(digits: 3, dotAfter: 2), to: path("cells/a.png"))
        try writePNG(sketchCell(digits: 2), to: path("cells/b.png"))
        try "image,value,station,column\ncells/a.png,77.7,9,D\ncells/b.png,71,9,E\n"
            .write(toFile: path("truth.csv"), atomically: true, encoding: .utf8)
        let reader = CellReader(model: fixedModel(digit: 7, probability: 0.97))
        let report = try CellEvaluation.evaluate(truthCSV: path("truth.csv"), reader: reader)
        XCTAssertEqual(report.overall.cells, 2)
        XCTAssertEqual(report.overall.exact, 1)
        XCTAssertEqual(report.overall.digitsCorrect, 4)
        XCTAssertEqual(report.perStation.map(\.station), ["9"])
        XCTAssertEqual(try CellEvaluation.writeContactSheet(report, to: path("out/wrong.png")), 1)
        let sheet = try loadGrayImage(at: path("out/wrong.png"))
        XCTAssertGreaterThan(sheet.width, 100)
        XCTAssertTrue(CellEvaluation.readingsCSV(report).hasPrefix("image,station,column,truth,reading"))

        // --cells: the same relative paths under another folder.
        try FileManager.default.createDirectory(atPath: path("elsewhere/cells"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: path("cells/a.png"), toPath: path("elsewhere/cells/a.png"))
        try FileManager.default.copyItem(atPath: path("cells/b.png"), toPath: path("elsewhere/cells/b.png"))
        try FileManager.default.removeItem(atPath: path("cells"))
        let moved = try CellEvaluation.evaluate(truthCSV: path("truth.csv"), cellsFolder: path("elsewhere"), reader: reader)
        XCTAssertEqual(moved.overall.exact, 1)

        // Without it the images are missing: strict, the error names the image; otherwise each
        // cell is scored unreadable (flagged, wrong) and a warning names it.
        let error = datasetError { _ = try CellEvaluation.evaluate(truthCSV: self.path("truth.csv"), reader: reader, strict: true) }
        XCTAssertEqual(error?.kind, .missingFile)
        XCTAssertEqual(error?.path, path("cells/a.png"))
        var warnings: [String] = []
        let lenient = try CellEvaluation.evaluate(truthCSV: path("truth.csv"), reader: reader) { warnings.append($0) }
        XCTAssertEqual(lenient.overall.cells, 2)
        XCTAssertEqual(lenient.overall.unreadable, 2)
        XCTAssertEqual(lenient.overall.exact, 0)
        XCTAssertEqual(warnings.count, 2)
        XCTAssertTrue(warnings[0].contains(path("cells/a.png")), warnings[0])
        let missing = datasetError { _ = try CellEvaluation.evaluate(truthCSV: self.path("nope.csv"), reader: reader) }
        XCTAssertEqual(missing?.path, path("nope.csv"))
    }

    /// A blank transcription is a blank cell, right when read empty; a value that is no number
    /// ("NA") leaves its row out with a warning naming the line, and `strict` stops at it.
    func testBlankAndUnscoredTruthValues() throws {
        try FileManager.default.createDirectory(atPath: path("cells"), withIntermediateDirectories: true)
        try writePNG(sketchCell(digits: 2), to: path("cells/a.png"))
        try writePNG(GrayImage(width: 60, height: 30, fill: 1), to: path("cells/blank.png"))
        try "image,value\ncells/a.png,77\ncells/blank.png,\ncells/a.png,\ncells/a.png,NA\n"
            .write(toFile: path("truth.csv"), atomically: true, encoding: .utf8)
        let reader = CellReader(model: fixedModel(digit: 7, probability: 0.97))
        var warnings: [String] = []
        let report = try CellEvaluation.evaluate(truthCSV: path("truth.csv"), reader: reader) { warnings.append($0) }
        XCTAssertEqual(report.overall.cells, 3)
        XCTAssertEqual(report.results.map(\.exact), [true, true, false])   // 77; blank read empty; blank read 77
        XCTAssertEqual(report.overall.digitsTotal, 2)
        XCTAssertEqual(report.skipped.count, 1)
        XCTAssertEqual(warnings, report.skipped)
        XCTAssertTrue(report.skipped[0].contains("line 5") && report.skipped[0].contains("'NA'"), report.skipped[0])
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(CellEvaluation.json(report).utf8)) as? [String: Any])
        XCTAssertEqual(object["skipped"] as? Int, 1)
        let error = datasetError { _ = try CellEvaluation.evaluate(truthCSV: self.path("truth.csv"), reader: reader, strict: true) }
        XCTAssertEqual(error?.kind, .badValue)
        XCTAssertTrue(error?.problem.contains("line 3") == true, error?.problem ?? "")
    }

    /// The shipped model on a few real cells: structure and a sane accuracy (the full measurement
    /// is `logbook evaluate-cells`).
    func testShippedModelOnRealCells() throws {
        let csv = try meteosaverTruthCSV()
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let model = try ResNet.load(path: root + "/models/logbook-digits.safetensors")
        let truth = Array(try CellTruth.readTruth(csv: csv).prefix(16))
        let readings = CellReader(model: model).read(cells: try truth.map { try loadGrayImage(at: $0.imagePath) })
        let report = CellEvaluation.score(truth: truth, readings: readings, reviewThreshold: 0.9)
        XCTAssertEqual(report.overall.cells, 16)
        XCTAssertGreaterThanOrEqual(report.overall.digitAccuracy, 0.5, CellEvaluation.json(report))
        XCTAssertTrue(readings.allSatisfy { $0.flag == .empty || !$0.digits.isEmpty })
    }
}

/// A reader that reads every cell as the same value (a stand-in for the whole-cell reader).
private final class FixedCellReader: CellImageReader {
    let value: String, digits: [Int]
    init(_ value: String, _ digits: [Int]) { self.value = value; self.digits = digits }
    var reviewThreshold: Float { 0.9 }
    func read(cells: [GrayImage], columns: [String?]?) -> [CellReading] {
        cells.map { _ in
            CellReading(value: value, digits: digits.map { DigitReading(digit: $0, probability: 0.97, alternatives: [],
                                                                        box: CutCell.Box(minX: 0, minY: 0, maxX: 1, maxY: 1)) },
                        separatorAfter: nil, separatorSeen: false, confidence: 0.97, flag: .ok)
        }
    }
}

final class CombinedRecutTests: RecognitionTestCase {
    /// Where the whole-cell reader reads one digit more than the segmenter cut, and that is the
    /// column's usual count, the cell's wide piece is split and read again: the readers then
    /// agree. Without the usual count behind it, the disagreement stands.
    func testAPieceTheWholeCellReaderReadsAsTwoDigitsIsSplit() {
        var canvas = RGBImage(width: 100, height: 60, color: .white)
        canvas.fillRect(x: 20, y: 12, width: 4, height: 36, color: .black)            // a 1 ...
        for (x, y, w, h) in [(24, 12, 22, 4), (24, 44, 22, 4), (42, 12, 4, 36)] {       // ... against a 0
            canvas.fillRect(x: x, y: y, width: w, height: h, color: .black)
        }
        var merged = GrayImage(width: 100, height: 60)
        for i in 0..<(100 * 60) { merged.pixels[i] = Float(canvas.pixels[3 * i]) / 255 }
        let apart = sketchCell(digits: 2)
        let segmenter = CellReader(model: fixedModel(digit: 1, probability: 0.99))
        XCTAssertEqual(CellDigitCutter.cut(cell: merged).digits.count, 1, "one piece, too narrow for the cutter to split")

        let reader = CombinedCellReader(primary: FixedCellReader("11", [1, 1]), secondary: segmenter)
        let readings = reader.read(cells: [apart, apart, merged], columns: ["A", "A", "A"])
        XCTAssertEqual(readings[2].value, "11")
        XCTAssertFalse(readings[2].readersDisagree)
        XCTAssertEqual(readings[2].flag, .ok)
        XCTAssertEqual(readings[2].digits.count, 2)
        XCTAssertEqual(readings[2].confidence, 0.97, accuracy: 1e-4, "the lower of the two readers' confidences")
        XCTAssertEqual(readings[2].secondOpinion?.value, "1", "the segmenter's own reading stays for the checks")

        let alone = reader.read(cells: [merged, merged, apart], columns: ["A", "A", "A"])
        XCTAssertTrue(alone[0].readersDisagree, "one digit is the column's usual count: no split")
        XCTAssertEqual(alone[0].flag, .review)
    }
}
