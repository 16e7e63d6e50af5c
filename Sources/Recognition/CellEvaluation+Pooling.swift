import Foundation
import NeuralNet

/// Several `evaluate-cells --json` reports taken as one: a leave-one-station-out run reads each
/// station with the models trained without it, and its figures are over all the stations' cells.
/// Counts are summed, never fractions averaged, so a station of 255 cells weighs twice one of 129.
public struct PooledCellReport: Sendable, Equatable {
    /// The reports, as given.
    public var sources: [String]
    public var reviewThreshold: Double
    public var overall: CellScores
    /// Per station, sorted by station: each report's own stations (a report without a station
    /// column counts under its file name).
    public var perStation: [(station: String, scores: CellScores)]
    /// The flagged-vs-accuracy curve of all the cells: at each review threshold, the reports'
    /// unflagged cells and their right ones summed.
    public var curve: [ThresholdPoint]
    /// confusion[truth][read] over the aligned digits of all the reports.
    public var confusion: [[Int]]

    public static func == (a: PooledCellReport, b: PooledCellReport) -> Bool {
        a.sources == b.sources && a.reviewThreshold == b.reviewThreshold && a.overall == b.overall
            && a.perStation.map(\.station) == b.perStation.map(\.station) && a.perStation.map(\.scores) == b.perStation.map(\.scores)
            && a.curve == b.curve && a.confusion == b.confusion
    }
}

extension CellEvaluation {
    /// One `evaluate-cells --json` report read back: its scores, its stations' and its curve.
    public struct ReportFile: Sendable {
        public var path: String
        public var reviewThreshold: Double
        public var overall: CellScores
        public var perStation: [(station: String, scores: CellScores)]
        public var curve: [ThresholdPoint]
        public var confusion: [[Int]]
    }

    /// Reads a report written by `evaluate-cells --json`. Errors name the file and the key that is
    /// missing or malformed. Reports written before session 20 have no `unflagged_exact`; it is then
    /// recovered from `unflagged_accuracy` (six significant digits: exact for any set of cells
    /// under 100,000).
    public static func readReport(path: String) throws -> ReportFile {
        guard FileManager.default.fileExists(atPath: path) else {
            throw DatasetError(path: path, kind: .missingFile, problem: "no such report")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DatasetError(path: path, kind: .unreadable, problem: "cannot read the file")
        }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw DatasetError(path: path, kind: .badValue, problem: "not a JSON object (expected the output of evaluate-cells --json)")
        }
        func bad(_ key: String, _ what: String) -> DatasetError {
            DatasetError(path: path, kind: .badValue, problem: "\(key): \(what) (expected the output of evaluate-cells --json)")
        }
        func integer(_ dictionary: [String: Any], _ key: String, in context: String) throws -> Int {
            guard let number = dictionary[key] as? NSNumber, let value = Int(exactly: number.doubleValue), value >= 0 else {
                throw bad(context + key, dictionary[key] == nil ? "missing" : "not a count")
            }
            return value
        }
        func unflaggedExact(_ dictionary: [String: Any], unflagged: Int, in context: String) throws -> Int {
            if dictionary["unflagged_exact"] != nil { return try integer(dictionary, "unflagged_exact", in: context) }
            if unflagged == 0 { return 0 }
            guard let accuracy = (dictionary["unflagged_accuracy"] as? NSNumber)?.doubleValue, (0...1).contains(accuracy) else {
                throw bad(context + "unflagged_accuracy", "missing or not in 0...1")
            }
            return Int((accuracy * Double(unflagged)).rounded())
        }
        func scores(_ dictionary: [String: Any], in context: String) throws -> CellScores {
            var s = CellScores()
            s.cells = try integer(dictionary, "cells", in: context)
            s.exact = try integer(dictionary, "exact", in: context)
            s.digitsCorrect = try integer(dictionary, "digits_correct", in: context)
            s.digitsTotal = try integer(dictionary, "digits_total", in: context)
            guard let flags = dictionary["flags"] as? [String: Any] else { throw bad(context + "flags", "missing") }
            s.ok = try integer(flags, "ok", in: context + "flags.")
            s.review = try integer(flags, "review", in: context + "flags.")
            s.empty = try integer(flags, "empty", in: context + "flags.")
            s.unreadable = try integer(flags, "unreadable", in: context + "flags.")
            guard s.ok + s.review + s.empty + s.unreadable == s.cells else {
                throw bad(context + "flags", "they add up to \(s.ok + s.review + s.empty + s.unreadable), not its \(s.cells) cells")
            }
            guard s.exact <= s.cells, s.digitsCorrect <= s.digitsTotal else { throw bad(context + "exact", "more right than read") }
            s.unflagged = s.ok + s.empty
            s.unflaggedExact = try unflaggedExact(dictionary, unflagged: s.unflagged, in: context)
            return s
        }
        let overall = try scores(object, in: "")
        guard let threshold = (object["review_threshold"] as? NSNumber)?.doubleValue else { throw bad("review_threshold", "missing") }
        let stations = (object["per_station"] as? [String: Any]) ?? [:]
        var perStation: [(station: String, scores: CellScores)] = []
        for station in stations.keys.sorted() {
            guard let fields = stations[station] as? [String: Any] else { throw bad("per_station.\(station)", "not an object") }
            perStation.append((station, try scores(fields, in: "per_station.\(station).")))
        }
        guard let points = object["curve"] as? [[String: Any]] else { throw bad("curve", "missing") }
        let curve = try points.enumerated().map { index, point -> ThresholdPoint in
            let context = "curve[\(index)]."
            guard let threshold = (point["threshold"] as? NSNumber)?.floatValue else { throw bad(context + "threshold", "missing") }
            let unflagged = try integer(point, "unflagged_cells", in: context)
            guard unflagged <= overall.cells else { throw bad(context + "unflagged_cells", "more than the report's \(overall.cells) cells") }
            let exact = try unflaggedExact(point, unflagged: unflagged, in: context)
            return ThresholdPoint(threshold: threshold, flaggedFraction: (point["flagged_fraction"] as? NSNumber)?.doubleValue ?? .nan,
                                  unflaggedAccuracy: unflagged == 0 ? .nan : Double(exact) / Double(unflagged),
                                  unflaggedCells: unflagged, unflaggedExact: exact)
        }
        guard let rows = object["digit_confusion"] as? [[NSNumber]], rows.count == 10, rows.allSatisfy({ $0.count == 10 }) else {
            throw bad("digit_confusion", "missing or not 10 x 10")
        }
        return ReportFile(path: path, reviewThreshold: threshold, overall: overall, perStation: perStation, curve: curve,
                          confusion: rows.map { $0.map(\.intValue) })
    }

    /// The reports taken as one (`PooledCellReport`). They must share a review threshold and a curve's
    /// thresholds (else their flags mean different things), and no station may be in two of them
    /// (a report given twice would count its cells twice); the error names the files.
    public static func pool(_ reports: [ReportFile]) throws -> PooledCellReport {
        guard let first = reports.first else {
            throw DatasetError(path: "", kind: .missingFile, problem: "no reports to pool")
        }
        var overall = CellScores()
        var stations: [String: (scores: CellScores, from: String)] = [:]
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: 10), count: 10)
        var unflagged = [Int](repeating: 0, count: first.curve.count), unflaggedExact = unflagged
        for report in reports {
            guard report.reviewThreshold == first.reviewThreshold else {
                throw DatasetError(path: report.path, kind: .incompatible, problem:
                    "review threshold \(report.reviewThreshold), but \(first.path) was read at \(first.reviewThreshold): their flags cannot be pooled")
            }
            guard report.curve.map(\.threshold) == first.curve.map(\.threshold) else {
                throw DatasetError(path: report.path, kind: .incompatible, problem: "its curve's thresholds differ from \(first.path)'s")
            }
            let own = report.perStation.isEmpty ? [(station: (report.path as NSString).lastPathComponent, scores: report.overall)]
                                                : report.perStation
            for (station, scores) in own {
                if let earlier = stations[station] {
                    throw DatasetError(path: report.path, kind: .incompatible, problem:
                        "station \(station) is in \(earlier.from) too: each station's cells may be counted once")
                }
                stations[station] = (scores, report.path)
            }
            overall.cells += report.overall.cells
            overall.exact += report.overall.exact
            overall.digitsCorrect += report.overall.digitsCorrect
            overall.digitsTotal += report.overall.digitsTotal
            overall.ok += report.overall.ok
            overall.review += report.overall.review
            overall.empty += report.overall.empty
            overall.unreadable += report.overall.unreadable
            overall.unflagged += report.overall.unflagged
            overall.unflaggedExact += report.overall.unflaggedExact
            for (index, point) in report.curve.enumerated() {
                unflagged[index] += point.unflaggedCells
                unflaggedExact[index] += point.unflaggedExact
            }
            for row in 0..<10 { for column in 0..<10 { confusion[row][column] += report.confusion[row][column] } }
        }
        let cells = overall.cells
        let curve = first.curve.indices.map { index in
            // Flags are exhaustive: a cell not unflagged (ok, empty) is flagged (review, unreadable).
            ThresholdPoint(threshold: first.curve[index].threshold,
                           flaggedFraction: cells == 0 ? .nan : Double(cells - unflagged[index]) / Double(cells),
                           unflaggedAccuracy: unflagged[index] == 0 ? .nan : Double(unflaggedExact[index]) / Double(unflagged[index]),
                           unflaggedCells: unflagged[index], unflaggedExact: unflaggedExact[index])
        }
        return PooledCellReport(sources: reports.map(\.path), reviewThreshold: first.reviewThreshold, overall: overall,
                                perStation: stations.keys.sorted().map { ($0, stations[$0]!.scores) }, curve: curve,
                                confusion: confusion)
    }

    /// The pooled report as one JSON object, with `evaluate-cells --json`'s keys for the scores,
    /// per station, curve and confusion, and the reports it pools (`reports`).
    public static func json(pooled report: PooledCellReport) -> String {
        typealias J = JSONFields
        var fields = J.scores(report.overall)
        fields += [
            ("reports", "[" + report.sources.map(J.string).joined(separator: ", ") + "]"),
            ("review_threshold", J.number(report.reviewThreshold)),
            ("per_station", J.object(report.perStation.map { ($0.station, J.object(J.scores($0.scores))) })),
            ("curve", J.curve(report.curve)),
            ("digit_confusion", J.matrix(report.confusion)),
        ]
        return J.object(fields)
    }
}
