import ArgumentParser
import Foundation
import Imaging
import Pipeline
import Recognition

struct PseudoLabel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pseudo-label",
        abstract: "Label untranscribed cell images where both readers read the same value surely (for self-training).",
        discussion: """
            Reads every cell image (PNG, JPEG, TIFF; folders searched recursively) with the whole-cell \
            reader and the segment-then-classify reader and writes a truth CSV of the cells where both \
            read the same digits, each digit at or above --min-confidence. A cell's station is the name \
            of the folder holding it. Train on the result with `logbook train-cells --extra-truth FILE` \
            and, cut into digits, `logbook harvest --truth FILE --out DIR` then `logbook train --data DIR`.
            """)

    @OptionGroup var compute: ComputeOptions
    @Argument(help: "Cell images or folders of them.") var cells: [String]
    @Option(help: "Digit model for the segment path (.safetensors).")
    var model: String = ShippedFiles.path("models/logbook-digits.safetensors")
    @Option(help: "Whole-cell model for the sequence path (.safetensors).")
    var cellModel: String = ShippedFiles.path("models/logbook-cells.safetensors")
    @Option(help: "Lowest digit probability both readers must reach.") var minConfidence: Float = 0.98
    @Option(help: "Leave out the cells of this station (repeat), e.g. the station a leave-one-station-out run tests on.")
    var excludeStation: [String] = []
    @Option(help: "The truth CSV to write (absolute image paths).") var out: String

    func validate() throws {
        guard minConfidence > 0 && minConfidence <= 1 else { throw ValidationError("--min-confidence must be in (0, 1]") }
    }

    func run() throws {
        compute.apply()
        // Absolute paths: the CSV is read relative to its own folder, wherever it is written.
        var paths = try IngestStage.scanPaths(cells, extensions: ["png", "jpg", "jpeg", "tif", "tiff"])
            .map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        func station(_ path: String) -> String {
            ((path as NSString).deletingLastPathComponent as NSString).lastPathComponent
        }
        paths.removeAll { excludeStation.contains(station($0)) }
        guard !paths.isEmpty else { throw ValidationError("no cell images in \(cells.joined(separator: " "))") }
        let images = try paths.map { path -> GrayImage in
            do { return try ArchivalCells.loadCellCrop(at: path) } catch {
                throw ValidationError("\(path): cannot decode the cell image: \(error)")
            }
        }
        let settings = CellReaderSettings(reviewThreshold: minConfidence, inferDecimals: false)
        let sequence = try CellSequenceReader(modelPath: cellModel, settings: settings)
        let segment = try CellReader(modelPath: model, settings: settings)
        let start = DispatchTime.now().uptimeNanoseconds
        let outcome = PseudoLabels.label(cells: images, sequence: sequence, segment: segment, minConfidence: minConfidence)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let folder = (out as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        try PseudoLabels.truthCSV(outcome, imagePaths: paths, stations: paths.map(station))
            .write(toFile: out, atomically: true, encoding: .utf8)
        let byStation = Dictionary(grouping: outcome.labels) { station(paths[$0.index]) }
        let totals = Dictionary(grouping: paths, by: station)
        print(String(format: "labelled %d of %d cells (%.1f%%) in %.1f s; not labelled: ", outcome.labels.count, outcome.cells,
                     100 * Double(outcome.labels.count) / Double(max(1, outcome.cells)), seconds)
              + PseudoLabels.Rejection.allCases.map { "\($0.rawValue) \(outcome.rejected[$0] ?? 0)" }.joined(separator: ", "))
        for name in totals.keys.sorted() {
            print("  \(name): \(byStation[name]?.count ?? 0) of \(totals[name]!.count)")
        }
        print("wrote \(out)")
    }
}
