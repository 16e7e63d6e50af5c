import Foundation
import XCTest
@testable import Recognition

/// `CellEvaluation.pool`: evaluate-cells reports, one per held-out station, taken as one.
final class CellPoolingTests: RecognitionTestCase {
    /// Cells of two stations: right and sure, right and unsure, wrong and sure, wrong and
    /// unsure, a blank read empty, one read unreadable. Seeded, so the sets differ in size and mix.
    private func cells(station: String, count: Int, seed: UInt64) -> (truth: [CellTruth], readings: [CellReading]) {
        var state = seed
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        var truth: [CellTruth] = [], readings: [CellReading] = []
        for index in 0..<count {
            let digits = [1 + next(3), next(10), next(10)]
            let value = "\(digits[0])\(digits[1]).\(digits[2])"
            truth.append(CellTruth(imagePath: "\(station)-\(index).png", value: value, station: station))
            let kind = next(6)
            var read = digits
            if kind == 2 || kind == 3 { read[1] = (read[1] + 1 + next(8)) % 10 }
            let probability: Float = kind == 1 || kind == 3 ? [0.6, 0.86, 0.93, 0.98][next(4)] : 0.9995
            let readingDigits = read.map { DigitReading(digit: $0, probability: probability, alternatives: [.init(digit: $0, probability: probability)],
                                                        box: .init(minX: 0, minY: 0, maxX: 1, maxY: 1)) }
            switch kind {
            case 4:
                readings.append(CellReading(value: "", digits: [], separatorAfter: nil, separatorSeen: false, confidence: 1, flag: .empty))
            case 5:
                readings.append(CellReading(value: "", digits: readingDigits + readingDigits, separatorAfter: nil, separatorSeen: false,
                                            confidence: 0, flag: .unreadable))
            default:
                readings.append(CellReading(value: "\(read[0])\(read[1]).\(read[2])", digits: readingDigits, separatorAfter: 2,
                                            separatorSeen: true, confidence: probability, flag: probability < 0.9 ? .review : .ok))
            }
        }
        return (truth, readings)
    }

    private func writeReport(_ name: String, _ set: (truth: [CellTruth], readings: [CellReading]), threshold: Float = 0.9,
                             edit: ((inout [String: Any]) -> Void)? = nil) throws -> String {
        let report = CellEvaluation.score(truth: set.truth, readings: set.readings, reviewThreshold: threshold)
        var text = CellEvaluation.json(report)
        if let edit {
            var object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            edit(&object)
            text = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        }
        try text.write(toFile: path(name), atomically: true, encoding: .utf8)
        return path(name)
    }

    /// Pooling the stations' reports gives what scoring all their cells at once gives: the same
    /// counts, per station, curve and confusion, so each cell weighs the same whatever its station.
    func testPoolingReportsEqualsScoringAllTheirCellsAtOnce() throws {
        let a = cells(station: "203", count: 61, seed: 1), b = cells(station: "508", count: 23, seed: 2)
        let pooled = try CellEvaluation.pool([try CellEvaluation.readReport(path: try writeReport("a.json", a)),
                                              try CellEvaluation.readReport(path: try writeReport("b.json", b))])
        let all = CellEvaluation.score(truth: a.truth + b.truth, readings: a.readings + b.readings, reviewThreshold: 0.9)
        XCTAssertEqual(pooled.overall, all.overall)
        XCTAssertEqual(pooled.overall.cells, 84)
        XCTAssertGreaterThan(pooled.overall.review, 0)
        XCTAssertGreaterThan(pooled.overall.unreadable, 0)
        XCTAssertGreaterThan(pooled.overall.empty, 0)
        XCTAssertLessThan(pooled.overall.unflaggedExact, pooled.overall.unflagged, "blank truths are not blank cells: some unflagged are wrong")
        XCTAssertEqual(pooled.perStation.map(\.station), ["203", "508"])
        XCTAssertEqual(pooled.perStation.map(\.scores), all.perStation.map(\.scores))
        XCTAssertEqual(pooled.curve, all.curve)
        XCTAssertNotEqual(Set(pooled.curve.map(\.unflaggedCells)).count, 1, "the curve moves with the threshold")
        XCTAssertEqual(pooled.confusion, all.confusion)
        XCTAssertEqual(pooled.sources, [path("a.json"), path("b.json")])
        // The weighted figure, not the mean of the stations' figures.
        let a1 = pooled.perStation[0].scores.exactValueAccuracy, b1 = pooled.perStation[1].scores.exactValueAccuracy
        XCTAssertNotEqual(pooled.overall.exactValueAccuracy, (a1 + b1) / 2, accuracy: 1e-6)

        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(CellEvaluation.json(pooled: pooled).utf8)) as? [String: Any])
        XCTAssertEqual(object["cells"] as? Int, 84)
        XCTAssertEqual(object["unflagged_exact"] as? Int, all.overall.unflaggedExact)
        XCTAssertEqual((object["exact_value_accuracy"] as? Double) ?? -1, all.overall.exactValueAccuracy, accuracy: 1e-6)
        XCTAssertEqual((object["reports"] as? [String])?.count, 2)
        XCTAssertEqual((object["curve"] as? [Any])?.count, CellEvaluation.curveThresholds.count)
    }

    /// Reports written before `unflagged_exact` existed pool the same: the count is recovered
    /// from the unflagged accuracy.
    func testReportsWithoutUnflaggedCountsPoolTheSame() throws {
        let a = cells(station: "1", count: 97, seed: 3), b = cells(station: "2", count: 41, seed: 4)
        func old(_ object: inout [String: Any]) {
            object["unflagged_exact"] = nil
            for key in (object["per_station"] as? [String: Any] ?? [:]).keys {
                var station = (object["per_station"] as! [String: Any])[key] as! [String: Any]
                station["unflagged_exact"] = nil
                var stations = object["per_station"] as! [String: Any]
                stations[key] = station
                object["per_station"] = stations
            }
            object["curve"] = (object["curve"] as! [[String: Any]]).map { var point = $0; point["unflagged_exact"] = nil; return point }
        }
        let new = try CellEvaluation.pool([try CellEvaluation.readReport(path: try writeReport("a.json", a)),
                                           try CellEvaluation.readReport(path: try writeReport("b.json", b))])
        let recovered = try CellEvaluation.pool([try CellEvaluation.readReport(path: try writeReport("a-old.json", a, edit: old)),
                                                 try CellEvaluation.readReport(path: try writeReport("b-old.json", b, edit: old))])
        XCTAssertFalse(try String(contentsOfFile: path("a-old.json"), encoding: .utf8).contains("unflagged_exact"))
        XCTAssertEqual(recovered.overall, new.overall)
        XCTAssertEqual(recovered.curve, new.curve)
        XCTAssertEqual(recovered.perStation.map(\.scores), new.perStation.map(\.scores))
    }

    /// What cannot be pooled is refused, naming the file: another review threshold, a station
    /// counted twice, a report whose flags do not add up to its cells, a file that is no report.
    func testReportsThatCannotBePooledAreRefusedNamingTheFile() throws {
        let a = cells(station: "1", count: 30, seed: 5), b = cells(station: "2", count: 30, seed: 6)
        let first = try CellEvaluation.readReport(path: try writeReport("a.json", a))
        let otherThreshold = try CellEvaluation.readReport(path: try writeReport("b.json", b, threshold: 0.99))
        var error = datasetError { _ = try CellEvaluation.pool([first, otherThreshold]) }
        XCTAssertEqual(error?.kind, .incompatible)
        XCTAssertEqual(error?.path, path("b.json"))
        XCTAssertTrue(error?.problem.contains("review threshold") ?? false, error?.description ?? "")

        let again = try CellEvaluation.readReport(path: try writeReport("a-again.json", a))
        error = datasetError { _ = try CellEvaluation.pool([first, again]) }
        XCTAssertEqual(error?.kind, .incompatible)
        XCTAssertTrue(error?.problem.contains("station 1") ?? false, error?.description ?? "")
        XCTAssertTrue(error?.problem.contains(path("a.json")) ?? false, error?.description ?? "")

        let broken = try writeReport("broken.json", b) { object in
            var flags = object["flags"] as! [String: Any]
            flags["ok"] = (flags["ok"] as! Int) + 1
            object["flags"] = flags
        }
        error = datasetError { _ = try CellEvaluation.readReport(path: broken) }
        XCTAssertEqual(error?.path, broken)
        XCTAssertTrue(error?.problem.contains("flags") ?? false, error?.description ?? "")

        let missing = try writeReport("missing.json", b) { $0["digits_total"] = nil }
        error = datasetError { _ = try CellEvaluation.readReport(path: missing) }
        XCTAssertTrue(error?.problem.hasPrefix("digits_total: missing") ?? false, error?.description ?? "")

        try "image,value\n".write(toFile: path("truth.csv"), atomically: true, encoding: .utf8)
        error = datasetError { _ = try CellEvaluation.readReport(path: self.path("truth.csv")) }
        XCTAssertEqual(error?.kind, .badValue)
        error = datasetError { _ = try CellEvaluation.readReport(path: self.path("nothing.json")) }
        XCTAssertEqual(error?.kind, .missingFile)
    }

    /// A report without a station column is one station, named by its file.
    func testAReportWithoutStationsCountsUnderItsFileName() throws {
        let a = cells(station: "", count: 20, seed: 7), b = cells(station: "9", count: 10, seed: 8)
        let pooled = try CellEvaluation.pool([try CellEvaluation.readReport(path: try writeReport("sheet-a.json", a)),
                                              try CellEvaluation.readReport(path: try writeReport("b.json", b))])
        XCTAssertEqual(pooled.perStation.map(\.station), ["9", "sheet-a.json"])
        XCTAssertEqual(pooled.perStation.map(\.scores.cells), [10, 20])
        XCTAssertEqual(pooled.overall.cells, 30)
    }
}
