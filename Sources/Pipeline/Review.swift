import Foundation

// The human review loop's shared pieces: which run a review file belongs to, the run's
// transcription as a table keyed by cell, and the corrections log (`corrections.json`) that
// `logbook review import` appends to and the manifest's export record names.

/// A cell of a run: page id, row, column.
public struct CellKey: Hashable, Codable, Sendable, CustomStringConvertible {
    public var page: String
    public var row: Int
    public var column: Int

    public init(page: String, row: Int, column: Int) {
        self.page = page
        self.row = row
        self.column = column
    }

    public var description: String { "\(page) r\(row) c\(column)" }
}

/// Which run, and which state of its transcription, a review file was made from. `runID` stays
/// the same for the life of a run folder (its creation time and its scans); `transcription`
/// changes with every import, so a corrections file made before an import is refused after it.
public struct ReviewIdentity: Equatable, Sendable {
    public var runID: String
    public var transcription: String

    public static func of(runFolder: String) throws -> (identity: ReviewIdentity, manifest: RunManifest) {
        let manifest = try RunManifest.load(runFolder: runFolder)
        let path = RunFolder(runFolder).path(RunFolder.transcriptionFile)
        guard FileManager.default.fileExists(atPath: path) else {
            throw PipelineError(path: path, problem: "no transcription: the run has not exported yet (logbook run)")
        }
        return (ReviewIdentity(runID: runID(manifest), transcription: try SHA256.hex(fileAt: path)), manifest)
    }

    public static func runID(_ manifest: RunManifest) -> String {
        let text = ([manifest.created] + manifest.pages.map { "\($0.id) \($0.pageIndex) \($0.sha256)" }).joined(separator: "\n")
        return String(SHA256.hex(text).prefix(16))
    }
}

/// `transcription.csv` as a table: its rows keyed by cell.
public struct TranscriptionTable {
    public var path: String
    public var table: CSVTable
    public var rowOf: [CellKey: Int]

    public static let machineValueColumn = "machine_value"

    public static func load(runFolder: String) throws -> TranscriptionTable {
        let path = RunFolder(runFolder).path(RunFolder.transcriptionFile)
        return try make(table: try CSVTable.load(path: path), path: path)
    }

    static func make(table: CSVTable, path: String) throws -> TranscriptionTable {
        let page = try table.require("page", path: path), row = try table.require("row", path: path)
        let column = try table.require("column", path: path)
        _ = try table.require("value", path: path)
        var rowOf: [CellKey: Int] = [:]
        for (index, fields) in table.rows.enumerated() where fields.count == table.header.count {
            guard let r = Int(fields[row]), let c = Int(fields[column]) else { continue }
            rowOf[CellKey(page: fields[page], row: r, column: c)] = index
        }
        return TranscriptionTable(path: path, table: table, rowOf: rowOf)
    }

    public func field(_ name: String, row: Int) -> String {
        guard let index = table.column(name), index < table.rows[row].count else { return "" }
        return table.rows[row][index]
    }

    public mutating func set(_ name: String, row: Int, to value: String) {
        if table.column(name) == nil {
            table.header.append(name)
            for index in table.rows.indices { table.rows[index].append("") }
        }
        let column = table.column(name)!
        if table.rows[row].count <= column { table.rows[row] += Array(repeating: "", count: column + 1 - table.rows[row].count) }
        table.rows[row][column] = value
    }

    public var text: String {
        ([table.header] + table.rows).map { $0.map(SyntheticPages.csvField).joined(separator: ",") }.joined(separator: "\n") + "\n"
    }
}

/// One cell changed or confirmed by an import.
public struct CorrectionChange: Codable, Equatable, Sendable {
    public var page: String
    public var row: Int
    public var column: Int
    /// What the machine read (kept across several imports).
    public var machine: String
    /// The value before this import, and after it.
    public var previous: String
    public var value: String
    /// `corrected` (a new value) or `confirmed` (the reading checked and kept).
    public var flag: String
}

/// One `logbook review import`: who, when, from which file, what.
public struct CorrectionBatch: Codable, Equatable, Sendable {
    public var file: String
    public var fileSHA256: String
    public var reviewer: String
    public var imported: String
    public var transcriptionBefore: String
    public var transcriptionAfter: String
    public var changes: [CorrectionChange]

    enum CodingKeys: String, CodingKey {
        case file, fileSHA256 = "file_sha256", reviewer, imported, transcriptionBefore = "transcription_before"
        case transcriptionAfter = "transcription_after", changes
    }
}

/// `corrections.json`: every import into the run, oldest first.
public struct CorrectionsLog: Codable, Equatable, Sendable {
    public var runID: String
    public var batches: [CorrectionBatch]

    enum CodingKeys: String, CodingKey { case runID = "run_id", batches }

    public static let fileName = "corrections.json"

    public static func load(runFolder: String) throws -> CorrectionsLog? {
        let path = RunFolder(runFolder).path(fileName)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do { return try JSONDecoder().decode(CorrectionsLog.self, from: data) } catch {
            throw PipelineError(path: path, problem: "damaged corrections log: \(error)")
        }
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    /// The transcription `text` of a new export with the logged corrections applied again: each
    /// cell's latest change, where the machine still reads what it read when the person looked
    /// (a cell read differently since is left for a new review).
    static func reapply(to text: String, runFolder: String) throws -> String {
        guard let log = try load(runFolder: runFolder), !log.batches.isEmpty else { return text }
        var records = CSVTable.parse(text)
        guard !records.isEmpty else { return text }
        let header = records.removeFirst()
        var transcription = try TranscriptionTable.make(table: CSVTable(header: header, rows: records.filter { $0.count == header.count }),
                                                        path: RunFolder(runFolder).path(RunFolder.transcriptionFile))
        var applied = false
        for (key, entry) in log.latest {
            guard let at = transcription.rowOf[key], transcription.field("value", row: at) == entry.change.machine else { continue }
            transcription.set("value", row: at, to: entry.change.value)
            transcription.set("flag", row: at, to: entry.change.flag)
            transcription.set(TranscriptionTable.machineValueColumn, row: at,
                              to: entry.change.flag == "corrected" ? entry.change.machine : "")
            applied = true
        }
        return applied ? transcription.text : text
    }

    /// The latest change of each cell.
    public var latest: [CellKey: (change: CorrectionChange, batch: CorrectionBatch)] {
        var result: [CellKey: (change: CorrectionChange, batch: CorrectionBatch)] = [:]
        for batch in batches {
            for change in batch.changes { result[CellKey(page: change.page, row: change.row, column: change.column)] = (change, batch) }
        }
        return result
    }
}

enum ReviewText {
    /// A number as a logbook cell holds one: optional minus, digits, optional decimal part.
    static func isNumber(_ text: String) -> Bool {
        var body = Substring(text)
        if body.hasPrefix("-") { body = body.dropFirst() }
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count) else { return false }
        return parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { ("0"..."9").contains($0) } }
    }
}
