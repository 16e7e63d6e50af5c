import Foundation
import Imaging
import Recognition

// `logbook review harvest`: the run's cells a person corrected or confirmed, and those the
// machine read surely, become labelled digit images for fine-tuning, through the archival
// harvest (`ArchivalCells.harvest`): cell crops (as the whole-cell reader sees them) are written
// to OUT/cells with a truth list, then cut into digits that line up one to one with the value.

public struct ReviewHarvestResult: Sendable {
    public var cells: Int
    public var corrected: Int
    public var report: HarvestReport
}

public enum ReviewHarvest {
    /// Cells worth learning from: reviewed by a person, or read `ok` at least this sure; with
    /// `checkedReadings`, every cell read as a number that the table checks bear out (`borneOut`),
    /// `review` included, whatever its confidence: the readings `logbook adapt` teaches a model a
    /// hand from (the checks' corrections are `review`; `CellAdaptation.isTeachable`).
    static func isTrusted(flag: String, confidence: Double, value: String, minConfidence: Double,
                          checkedReadings: Bool = false, borneOut: Bool = false) -> Bool {
        guard ReviewText.isNumber(value) else { return false }
        if checkedReadings, let cellFlag = CellFlag(rawValue: flag), cellFlag == .ok || cellFlag == .review {
            return CellAdaptation.isTeachable(reading: value, flag: cellFlag, borneOut: borneOut)
        }
        return flag == "corrected" || flag == "confirmed" || (flag == "ok" && confidence >= minConfidence)
    }

    /// The cells of the run's pages whose readings the table checks bear out
    /// (`CellAdaptation.isBorneOut`), by page id, row and column.
    static func borneOutCells(_ manifest: RunManifest, folder: RunFolder) -> Set<String> {
        var borneOut: Set<String> = []
        for record in manifest.pages where record.record(.classify)?.status == .done {
            guard let readings = try? ClassifyStage.load(record: record, folder: folder) else { continue }
            for cell in readings.cells where CellAdaptation.isBorneOut(
                checksHeld: cell.checksHeld != nil, checksBroken: cell.checksBroken != nil, checksDoubted: cell.checksDoubted != nil) {
                borneOut.insert("\(record.id)|\(cell.row)|\(cell.column)")
            }
        }
        return borneOut
    }

    /// With `truth` (a transcription-format CSV: page, row, column, value), every transcribed
    /// number of the run's pages is harvested with the truth's value instead: an archive that
    /// already has whole pages transcribed by hand (or synthetic pages) teaches the readers its
    /// cells as the pipeline cuts them.
    public static func harvest(runFolder: String, out: String, minConfidence: Double = 0.99,
                               truth truthPath: String? = nil, checkedReadings: Bool = false) throws -> ReviewHarvestResult {
        let (truth, corrected) = try harvestCells(runFolder: runFolder, out: out, minConfidence: minConfidence, truth: truthPath,
                                                  checkedReadings: checkedReadings)
        let report = try ArchivalCells.harvest(truth: truth, into: out)
        return ReviewHarvestResult(cells: truth.count, corrected: corrected, report: report)
    }

    /// `harvest`'s first half: the chosen cells' crops in `out/cells` with their truth list
    /// (`out/cells/truth.csv`), not yet cut into digits; also the count of corrected cells.
    /// `borneOut`: the run's `borneOutCells`, when the caller has them already.
    public static func harvestCells(runFolder: String, out: String, minConfidence: Double = 0.99,
                                    truth truthPath: String? = nil, checkedReadings: Bool = false,
                                    borneOut knownBorneOut: Set<String>? = nil) throws
        -> (truth: [CellTruth], corrected: Int) {
        let manifest = try RunManifest.load(runFolder: runFolder)
        let folder = RunFolder(runFolder)
        var chosen: [(page: String, row: Int, column: Int, value: String, flag: String, box: [Int]?)] = []
        if let truthPath {
            for cell in try ScoredCell.load(path: truthPath) where ReviewText.isNumber(cell.value) {
                chosen.append((cell.page, cell.row, cell.column, cell.value, "truth", cell.box))
            }
        } else {
            let transcription = try TranscriptionTable.load(runFolder: runFolder)
            let borneOut = checkedReadings ? knownBorneOut ?? borneOutCells(manifest, folder: folder) : []
            for row in transcription.table.rows.indices {
                func field(_ name: String) -> String { transcription.field(name, row: row) }
                let value = field("value"), flag = field("flag")
                guard isTrusted(flag: flag, confidence: Double(field("confidence")) ?? 0, value: value, minConfidence: minConfidence,
                                checkedReadings: checkedReadings,
                                borneOut: borneOut.contains(field("page") + "|" + field("row") + "|" + field("column"))),
                      let r = Int(field("row")), let c = Int(field("column")) else { continue }
                chosen.append((field("page"), r, c, value, flag, nil))
            }
        }
        try FileManager.default.createDirectory(atPath: out + "/cells", withIntermediateDirectories: true)
        var truth: [CellTruth] = []
        var corrected = 0
        var pages: [String: (binary: GrayImage, segmented: SegmentedPage)] = [:]
        for item in chosen {
            guard let record = manifest.page(id: item.page) else { continue }
            if pages[record.id] == nil {
                guard let binary = try? BinarizeStage.loadDigitImage(record: record, folder: folder),
                      let segmented = try? SegmentStage.load(record: record, folder: folder) else {
                    if truthPath != nil { continue }
                    throw PipelineError(path: runFolder, problem: "page \(record.id) has no binary or segmented image: run it first")
                }
                pages[record.id] = (binary, segmented)
            }
            let (binary, segmented) = pages[record.id]!
            guard let cell = segmented.cells.first(where: { $0.row == item.row && $0.column == item.column }) else { continue }
            // A page where a stray rule shifted the numbering: the truth's box must be this cell's.
            if let box = item.box, Scoring.overlap(box, cell.box) < 0.5 { continue }
            let (r, c) = (item.row, item.column)
            let path = out + "/cells/\(ReviewExport.safeName(record.id))-r\(r)-c\(c).png"
            try writePNG(ClassifyStage.inkCrop(ExportStage.crop(binary, corners: cell.corners, margin: 0)), to: path)
            truth.append(CellTruth(imagePath: path, value: item.value, station: record.id,
                                   extra: ["row": String(r), "column": String(c), "flag": item.flag]))
            if item.flag == "corrected" { corrected += 1 }
        }
        var lines = ["image,value,station,row,column,flag"]
        for cell in truth {
            lines.append([(cell.imagePath as NSString).lastPathComponent, cell.value, cell.station, cell.extra["row"]!,
                          cell.extra["column"]!, cell.extra["flag"]!].map(SyntheticPages.csvField).joined(separator: ","))
        }
        try AtomicFile.write(lines.joined(separator: "\n") + "\n", to: out + "/cells/truth.csv")
        guard !truth.isEmpty else {
            throw PipelineError(path: runFolder, problem: checkedReadings
                ? "no corrected or confirmed cells, and no cell read as a number that the table checks bore out, to harvest"
                : "no corrected, confirmed or surely read cells to harvest")
        }
        return (truth, corrected)
    }
}
