import Foundation

// `logbook review import`: a reviewer's corrections back into the run. Every row is checked
// before anything is written (right run, transcription unchanged since the review was exported,
// known cell, number, no cell twice); one bad row refuses the whole file and the run's files stay
// as they were. Then: the transcription's corrected cells get flag `corrected` and keep the
// machine's reading in `machine_value` (cells checked and kept get `confirmed`), the import is
// appended to `corrections.json` (who, when, which file, what), and the manifest's export record
// names the new transcription and the log, so `logbook run` keeps them.

public struct ReviewImportResult: Sendable {
    public var corrected: Int
    public var confirmed: Int
    /// Rows with an empty value: not reviewed, left alone.
    public var skipped: Int
}

public enum ReviewImport {
    static let required = ["run_id", "transcription_sha256", "page", "row", "column", "value"]
    static let known = Set(ReviewExport.csvHeader.split(separator: ",").map(String.init) + ["reviewer", "note"])

    /// The problems of a corrections file against the run, each naming the file and line; empty
    /// when it can be applied.
    public static func check(corrections path: String, runFolder: String) throws -> (problems: [String], rows: [(line: Int, key: CellKey, value: String)]) {
        let (identity, _) = try ReviewIdentity.of(runFolder: runFolder)
        let transcription = try TranscriptionTable.load(runFolder: runFolder)
        let table = try CSVTable.load(path: path)
        var problems: [String] = []
        let missing = required.filter { table.column($0) == nil }
        if !missing.isEmpty { return (["\(path):1: missing column(s) \(missing.joined(separator: ", "))"], []) }
        let unknown = table.header.filter { !known.contains($0) }
        if !unknown.isEmpty { problems.append("\(path):1: unknown column(s) \(unknown.joined(separator: ", "))") }
        var rows: [(line: Int, key: CellKey, value: String)] = []
        var firstLine: [CellKey: Int] = [:]
        for (index, fields) in table.rows.enumerated() {
            // Line numbers as an editor shows them (header on line 1; no quoted line breaks expected).
            let line = index + 2
            guard fields.count == table.header.count else {
                problems.append("\(path):\(line): \(fields.count) fields, the header has \(table.header.count)")
                continue
            }
            func field(_ name: String) -> String { table.column(name).map { fields[$0].trimmingCharacters(in: .whitespaces) } ?? "" }
            if field("run_id") != identity.runID {
                problems.append("\(path):\(line): made for run \(field("run_id")), this run is \(identity.runID)")
                continue
            }
            if field("transcription_sha256") != identity.transcription {
                problems.append("\(path):\(line): stale: the transcription changed since this review was exported (review export again)")
                continue
            }
            guard let row = Int(field("row")), let column = Int(field("column")) else {
                problems.append("\(path):\(line): row and column must be whole numbers (\(field("row")), \(field("column")))")
                continue
            }
            let key = CellKey(page: field("page"), row: row, column: column)
            guard let at = transcription.rowOf[key] else {
                problems.append("\(path):\(line): no cell \(key) in the run's transcription")
                continue
            }
            if let earlier = firstLine[key] {
                problems.append("\(path):\(line): cell \(key) again (first on line \(earlier))")
                continue
            }
            firstLine[key] = line
            if table.column("reading") != nil, field("reading") != transcription.field("value", row: at) {
                problems.append("\(path):\(line): stale: cell \(key) reads \(transcription.field("value", row: at)), the review saw \(field("reading"))")
                continue
            }
            let value = field("value")
            if value.isEmpty { continue }
            guard ReviewText.isNumber(value) else {
                problems.append("\(path):\(line): value '\(value)' is not a number")
                continue
            }
            rows.append((line, key, value))
        }
        return (problems, rows)
    }

    /// Checks, then applies `corrections` to the run; throws (changing nothing) on any problem.
    @discardableResult
    public static func apply(corrections path: String, runFolder: String, reviewer: String) throws -> ReviewImportResult {
        let (problems, rows) = try check(corrections: path, runFolder: runFolder)
        guard problems.isEmpty else {
            throw PipelineError(path: path, problem: "refused, nothing applied (\(problems.count) problem(s)):\n" + problems.joined(separator: "\n"))
        }
        let (identity, loaded) = try ReviewIdentity.of(runFolder: runFolder)
        var manifest = loaded
        var transcription = try TranscriptionTable.load(runFolder: runFolder)
        let total = try CSVTable.load(path: path).rows.count
        var changes: [CorrectionChange] = []
        for (_, key, value) in rows {
            let at = transcription.rowOf[key]!
            let previous = transcription.field("value", row: at)
            let machine = transcription.field(TranscriptionTable.machineValueColumn, row: at).isEmpty
                ? previous : transcription.field(TranscriptionTable.machineValueColumn, row: at)
            let flag = value == previous && transcription.field("flag", row: at) != "corrected" ? "confirmed" : "corrected"
            transcription.set("value", row: at, to: value)
            transcription.set("flag", row: at, to: flag)
            transcription.set(TranscriptionTable.machineValueColumn, row: at, to: flag == "corrected" ? machine : "")
            changes.append(CorrectionChange(page: key.page, row: key.row, column: key.column, machine: machine,
                                            previous: previous, value: value, flag: flag))
        }
        if transcription.table.column(TranscriptionTable.machineValueColumn) == nil, let first = transcription.table.rows.indices.first {
            transcription.set(TranscriptionTable.machineValueColumn, row: first, to: "")
        }
        let text = transcription.text
        let after = SHA256.hex(text)
        var log = try CorrectionsLog.load(runFolder: runFolder) ?? CorrectionsLog(runID: identity.runID, batches: [])
        log.batches.append(CorrectionBatch(file: (path as NSString).lastPathComponent, fileSHA256: try SHA256.hex(fileAt: path),
                                           reviewer: reviewer, imported: Clock.now(), transcriptionBefore: identity.transcription,
                                           transcriptionAfter: after, changes: changes))
        let logData = try log.encoded()
        let folder = RunFolder(runFolder)
        // The log first, then the transcription, then the manifest that names both: a kill in
        // between leaves a transcription the manifest does not know, which `logbook run` exports
        // again (losing that import, which the log still holds).
        try AtomicFile.write(logData, to: folder.path(CorrectionsLog.fileName))
        try AtomicFile.write(text, to: transcription.path)
        if var export = manifest.export {
            export.outputs[RunFolder.transcriptionFile] = after
            export.outputs[CorrectionsLog.fileName] = SHA256.hex(logData)
            var info = export.info ?? [:]
            info["corrections"] = String(log.latest.values.filter { $0.change.flag == "corrected" }.count)
            info["confirmed"] = String(log.latest.values.filter { $0.change.flag == "confirmed" }.count)
            export.info = info
            manifest.export = export
        }
        manifest.updated = Clock.now()
        try manifest.save(runFolder: runFolder)
        let corrected = changes.filter { $0.flag == "corrected" }.count
        return ReviewImportResult(corrected: corrected, confirmed: changes.count - corrected, skipped: total - rows.count)
    }
}
