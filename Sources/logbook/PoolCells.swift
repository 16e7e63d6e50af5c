import ArgumentParser
import Foundation
import NeuralNet
import Recognition

struct PoolCells: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pool-cells",
        abstract: "Pool evaluate-cells reports into figures over all their cells (e.g. leave-one-station-out: one report per held-out station).",
        discussion: """
            Each REPORT is the output of `evaluate-cells --json`. Their counts are summed: exact values, \
            digits, flags, unflagged cells right, the flagged-vs-accuracy curve and the digit confusion, \
            so every cell weighs the same whichever report it is in. The reports must share a review \
            threshold, and a station may be in one of them only.
            """)

    @Argument(help: "evaluate-cells --json reports.") var reports: [String]
    @Flag(help: "Print one JSON object (evaluate-cells --json's keys, and `reports`) instead of text.") var json = false
    @Option(help: "Also write the JSON object to this file (atomically).") var out: String?

    func validate() throws {
        if reports.isEmpty { throw ValidationError("give at least one report (evaluate-cells --json output)") }
    }

    func run() throws {
        let pooled = try CellEvaluation.pool(reports.map(CellEvaluation.readReport))
        let object = CellEvaluation.json(pooled: pooled)
        if let out { try writeAtomically(Data((object + "\n").utf8), to: out) }
        if json {
            print(object)
            return
        }
        let o = pooled.overall
        print("\(reports.count) report\(reports.count == 1 ? "" : "s") pooled: \(o.cells) cells, \(pooled.perStation.count) station\(pooled.perStation.count == 1 ? "" : "s")")
        CellReportText.printScores(o, reviewThreshold: String(format: "%g", pooled.reviewThreshold))
        CellReportText.printDetails(perStation: pooled.perStation, curve: pooled.curve, confusion: pooled.confusion)
        if let out { print("wrote \(out)") }
    }
}
