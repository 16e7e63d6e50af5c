import Foundation
import Recognition

/// The text form of a cell report's figures, shared by `evaluate-cells` and `pool-cells`.
enum CellReportText {
    static func percent(_ value: Double) -> String { value.isFinite ? String(format: "%.2f%%", value * 100) : "n/a" }

    static func line(_ name: String, _ s: CellScores) -> String {
        "\(name): \(s.cells) cells, exact values \(percent(s.exactValueAccuracy)) (\(s.exact)), "
            + "digits \(percent(s.digitAccuracy)) (\(s.digitsCorrect)/\(s.digitsTotal)), "
            + "flagged \(percent(s.flaggedFraction)), unflagged accuracy \(percent(s.unflaggedAccuracy)) "
            + "(ok \(s.ok), review \(s.review), empty \(s.empty), unreadable \(s.unreadable))"
    }

    /// Exact values, digits, flagged share and unflagged accuracy, one per line.
    static func printScores(_ o: CellScores, reviewThreshold: String) {
        print("  exact value accuracy  \(percent(o.exactValueAccuracy)) (\(o.exact) of \(o.cells))")
        print("  digit accuracy        \(percent(o.digitAccuracy)) (\(o.digitsCorrect) of \(o.digitsTotal))")
        print("  flagged (threshold \(reviewThreshold))  \(percent(o.flaggedFraction)) (review \(o.review), unreadable \(o.unreadable); ok \(o.ok), empty \(o.empty))")
        print("  unflagged accuracy    \(percent(o.unflaggedAccuracy)) (\(o.unflaggedExact) of \(o.unflagged))")
    }

    /// Per station, the flagged-vs-accuracy curve and the digit confusion table.
    static func printDetails(perStation: [(station: String, scores: CellScores)], curve: [ThresholdPoint], confusion: [[Int]]) {
        for (station, scores) in perStation { print("  " + line("station \(station)", scores)) }
        print("  review threshold -> flagged share, unflagged accuracy:")
        for point in curve {
            print(String(format: "    %.3f  %@  %@ (%d cells)", point.threshold, percent(point.flaggedFraction),
                         percent(point.unflaggedAccuracy), point.unflaggedCells))
        }
        print("  digit confusion (aligned digits; rows truth, columns read):")
        print("       " + (0..<10).map { String(format: "%5d", $0) }.joined())
        for (digit, row) in confusion.enumerated() {
            print(String(format: "    %d  ", digit) + row.map { String(format: "%5d", $0) }.joined())
        }
    }
}
