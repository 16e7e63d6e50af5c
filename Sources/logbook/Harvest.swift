import ArgumentParser
import Foundation
import Recognition

struct Harvest: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Turn transcribed table cells into labelled 64x64 digit images for fine-tuning.",
        discussion: """
            Cuts each cell listed in the truth CSV into digits and keeps the cells whose digits line \
            up one to one with the transcribed value (a cell of 20 may be written 20 or 20.0). Their \
            digits go to OUT/0 ... OUT/9 as PNGs, listed in OUT/harvest.csv. Train on them with \
            `logbook train --init models/logbook-digits.safetensors --data standard --data OUT`.
            """)

    @Option(help: "Truth CSV with columns image,value (station, column, ... optional).") var truth: String
    @Option(help: "Folder the CSV's image paths are relative to (default: the truth file's folder).") var cells: String?
    @Option(help: "Output folder (subfolders 0...9 and harvest.csv).") var out: String
    @Option(help: "Leave out the cells of this station (repeat), e.g. to keep it for testing.")
    var excludeStation: [String] = []

    func run() throws {
        // Blank and unreadable transcriptions are left out by the harvest, with the reason.
        var truthCells = try CellTruth.readTruth(csv: truth, imagesIn: cells, anyValue: true)
        truthCells.removeAll { excludeStation.contains($0.station) }
        guard !truthCells.isEmpty else { throw ValidationError("\(truth): no cells left to harvest") }
        let report = try ArchivalCells.harvest(truth: truthCells, into: out)
        print(report.summary)
        print("wrote \(report.written.reduce(0, +)) digit images to \(out) (per class: "
              + report.written.enumerated().map { "\($0.offset):\($0.element)" }.joined(separator: " ") + "), index \(report.index)")
    }
}
