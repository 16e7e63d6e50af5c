import Foundation
import Imaging

// `logbook review export`: a folder a person opens from disk (no server, no network): index.html
// with every doubtful cell (its crop, the page around it, the reading with per-digit confidences
// and alternatives, an input prefilled with the reading), the PNGs it shows (relative paths), and
// review.csv, the same list for spreadsheets. Both carry the run's identity, so that corrections
// made for another run, or before the transcription changed, are refused on import.

public struct ReviewItem: Codable, Equatable, Sendable {
    public var page: String
    public var row: Int
    public var column: Int
    public var columnName: String
    public var reading: String
    public var confidence: Double
    public var flag: String
    /// "0.9912 0.4100": one per digit.
    public var digitConfidences: String
    /// "3:0.41|8:0.30 ...": per digit, best classes first.
    public var alternatives: String
    /// What the other reader read, where the two readers disagreed ("" otherwise): often the
    /// right value, one click away on the review page.
    public var otherReading: String
    public var cellImage: String
    public var contextImage: String
    /// The cell inside the context image, in percent of its width and height: x, y, w, h.
    public var mark: [Double]
    /// Position in the transcription (page order, then row by row).
    public var order: Int

    enum CodingKeys: String, CodingKey {
        case page, row, column, columnName = "column_name", reading, confidence, flag
        case digitConfidences = "digit_confidences", alternatives, otherReading = "other_reading", cellImage = "cell_image"
        case contextImage = "context_image", mark, order
    }
}

public struct ReviewExportResult: Sendable {
    public var folder: String
    public var items: Int
    public var identity: ReviewIdentity
}

public enum ReviewExport {
    public static let csvHeader = "run_id,transcription_sha256,page,row,column,column_name,reading,confidence,flag,digit_confidences,alternatives,other_reading,cell_image,context_image,value"

    /// Cells to review: flagged `review` or `unreadable`, and with `below`, any read cell less
    /// sure than that.
    static func isDoubtful(flag: String, confidence: Double, below: Double?) -> Bool {
        if flag == "review" || flag == "unreadable" { return true }
        guard let below, flag == "ok" else { return false }
        return confidence < below
    }

    /// Writes the review folder `out` (default RUN/review-page), built beside and swapped in.
    public static func export(runFolder: String, below: Double? = nil, out: String? = nil) throws -> ReviewExportResult {
        let (identity, manifest) = try ReviewIdentity.of(runFolder: runFolder)
        let transcription = try TranscriptionTable.load(runFolder: runFolder)
        let folder = RunFolder(runFolder)
        let target = out ?? folder.path("review-page")
        let staging = target + ".new-\(getpid())"
        try? FileManager.default.removeItem(atPath: staging)
        try FileManager.default.createDirectory(atPath: staging + "/img", withIntermediateDirectories: true)

        var items: [ReviewItem] = []
        var pageImages: [String: (binary: GrayImage, segmented: SegmentedPage)] = [:]
        for order in transcription.table.rows.indices {
            func field(_ name: String) -> String { transcription.field(name, row: order) }
            let confidence = Double(field("confidence")) ?? 0
            guard isDoubtful(flag: field("flag"), confidence: confidence, below: below),
                  let row = Int(field("row")), let column = Int(field("column")) else { continue }
            let pageID = field("page")
            if pageImages[pageID] == nil {
                guard let record = manifest.page(id: pageID) else {
                    throw PipelineError(path: transcription.path, problem: "page \(pageID) is not in the manifest")
                }
                pageImages[pageID] = (try BinarizeStage.loadDigitImage(record: record, folder: folder),
                                      try SegmentStage.load(record: record, folder: folder))
            }
            let (binary, segmented) = pageImages[pageID]!
            let stem = "\(safeName(pageID))-r\(row)-c\(column)"
            var mark: [Double] = [0, 0, 100, 100]
            if let cell = segmented.cells.first(where: { $0.row == row && $0.column == column }) {
                try writePNG(ExportStage.crop(binary, corners: cell.corners), to: staging + "/img/" + stem + ".png")
                let (context, box) = contextCrop(binary, corners: cell.corners)
                try writePNG(context, to: staging + "/img/" + stem + "-page.png")
                mark = box
            }
            items.append(ReviewItem(page: pageID, row: row, column: column, columnName: field("column_name"),
                                    reading: field("value"), confidence: confidence, flag: field("flag"),
                                    digitConfidences: field("digit_confidences"), alternatives: field("alternatives"),
                                    otherReading: field("other_reading"), cellImage: "img/\(stem).png", contextImage: "img/\(stem)-page.png", mark: mark, order: order))
        }

        var csv = csvHeader + "\n"
        for item in items {
            csv += [identity.runID, identity.transcription, item.page, String(item.row), String(item.column), item.columnName,
                    item.reading, String(format: "%.4f", item.confidence), item.flag, item.digitConfidences, item.alternatives,
                    item.otherReading, item.cellImage, item.contextImage, item.reading].map(SyntheticPages.csvField).joined(separator: ",") + "\n"
        }
        try AtomicFile.write(csv, to: staging + "/review.csv")
        // Digits below the run's review threshold are marked on the page.
        let threshold = (try? PipelineConfig.load(path: folder.path(RunFolder.pipelineFile)))?.classify.reviewThreshold ?? 0.9
        try AtomicFile.write(try ReviewPage.html(items: items, identity: identity, title: manifest.scans.joined(separator: " "),
                                                 threshold: threshold),
                             to: staging + "/index.html")
        let old = target + ".old-\(getpid())"
        if FileManager.default.fileExists(atPath: target) { try FileManager.default.moveItem(atPath: target, toPath: old) }
        try FileManager.default.moveItem(atPath: staging, toPath: target)
        try? FileManager.default.removeItem(atPath: old)
        return ReviewExportResult(folder: target, items: items.count, identity: identity)
    }

    /// The page around a cell: two cell heights above and below, one and a half cell widths each
    /// side; and where the cell lies in it (percent).
    static func contextCrop(_ page: GrayImage, corners c: [Double]) -> (GrayImage, [Double]) {
        guard c.count == 8 else { return (GrayImage(width: 1, height: 1), [0, 0, 100, 100]) }
        let xs = [c[0], c[2], c[4], c[6]], ys = [c[1], c[3], c[5], c[7]]
        let cellX = xs.min()!, cellY = ys.min()!, cellW = xs.max()! - cellX, cellH = ys.max()! - cellY
        let x0 = max(0, Int(cellX - 1.5 * cellW)), y0 = max(0, Int(cellY - 2 * cellH))
        let x1 = min(page.width - 1, Int(cellX + 2.5 * cellW)), y1 = min(page.height - 1, Int(cellY + 3 * cellH))
        guard x1 > x0, y1 > y0 else { return (GrayImage(width: 1, height: 1), [0, 0, 100, 100]) }
        let width = Double(x1 - x0 + 1), height = Double(y1 - y0 + 1)
        let box = [(cellX - Double(x0)) / width * 100, (cellY - Double(y0)) / height * 100, cellW / width * 100, cellH / height * 100]
        return (page.cropped(x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1), box)
    }

    static func safeName(_ text: String) -> String {
        String(text.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
    }
}
