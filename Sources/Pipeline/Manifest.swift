import Foundation

// `manifest.json`: what a run folder holds and how it was made. For every page and stage: the
// inputs with their checksums, the fingerprint of the parameters, the outputs with their
// checksums, the status and the time. A stage is skipped when its record is `done` and the
// inputs, parameters and outputs are still the same; so a killed run, started again, redoes only
// what was not finished, and a changed parameter redoes only the stages it feeds.
//
// The manifest is rewritten whole (temporary file + rename) after every group of pages, so a
// kill leaves the previous complete version. Outputs are also written atomically, and only after
// them is the record that names them saved: a page whose record is missing is simply done again.

public enum StageName: String, Codable, CaseIterable, Sendable, Comparable {
    case ingest, binarize, segment, normalize, classify, export

    /// The per-page stages, in order (ingest and export work on the whole run).
    public static let pageStages: [StageName] = [.binarize, .segment, .normalize, .classify]

    public var order: Int { StageName.allCases.firstIndex(of: self)! }
    public static func < (a: StageName, b: StageName) -> Bool { a.order < b.order }
    /// The stages after this one.
    public var downstream: [StageName] { StageName.allCases.filter { $0 > self } }
}

public enum StageStatus: String, Codable, Sendable {
    /// Ran and its outputs are in place.
    case done
    /// Ran and failed; `error` says why.
    case failed
    /// Its inputs changed after it ran (an earlier stage was re-run): run it again.
    case stale
}

public struct StageRecord: Codable, Equatable, Sendable {
    public var status: StageStatus
    /// What the stage read: a name (a file of the run folder, the scan, the model) and its sha256.
    public var inputs: [String: String]
    /// sha256 of the stage's parameters (see `RunManifest.stages`) and the software version.
    public var parameters: String
    /// Files written, relative to the run folder, and their sha256.
    public var outputs: [String: String]
    public var seconds: Double
    /// ISO 8601, UTC.
    public var finished: String
    public var error: String?
    /// Small facts worth showing (`skew`, `cells`, `digits`, ...).
    public var info: [String: String]?
}

public struct PageRecord: Codable, Equatable, Sendable {
    /// Unique in the run: the file name without extension (plus `-p0002` for page 2 of a
    /// multi-page TIFF; folders join the name when two files share one).
    public var id: String
    /// The scan, as found (absolute or relative to where `logbook run` was started).
    public var source: String
    /// 0-based page in the file.
    public var pageIndex: Int
    /// sha256, size and modification time of the whole file.
    public var sha256: String
    public var bytes: Int
    public var modified: Double
    public var width: Int?
    public var height: Int?
    public var dpi: Double?
    public var stages: [String: StageRecord] = [:]

    enum CodingKeys: String, CodingKey {
        case id, source, pageIndex = "page_index", sha256, bytes, modified, width, height, dpi, stages
    }

    public func record(_ stage: StageName) -> StageRecord? { stages[stage.rawValue] }

    /// The first stage that failed, if any.
    public var failure: (stage: StageName, error: String)? {
        for stage in StageName.allCases {
            if let record = record(stage), record.status == .failed { return (stage, record.error ?? "failed") }
        }
        return nil
    }

    /// Whether the page has readings to export (classify done; earlier stages may have gone
    /// stale since, after `logbook stage`).
    public var hasReadings: Bool { failure == nil && record(.classify)?.status == .done }

    /// Whether every per-page stage is done.
    public var isComplete: Bool { StageName.pageStages.allSatisfy { record($0)?.status == .done } }
}

public struct ManifestStage: Codable, Equatable, Sendable {
    /// The parameters the stage runs with now and their fingerprint (the `parameters` of the
    /// stage records made with them).
    public var parameters: [String: String]
    public var fingerprint: String
}

public struct ModelRecord: Codable, Equatable, Sendable {
    public var path: String
    public var sha256: String
    public var temperature: Double
}

public struct PipelineRecord: Codable, Equatable, Sendable {
    /// The file the run was started with (`pipelines/default.yaml` when none was given).
    public var source: String
    /// The configuration in force, every key written out (also saved as `pipeline.yaml` in the
    /// run folder), and its sha256.
    public var path: String
    public var sha256: String
    /// `--set` overrides applied by `logbook stage`, in order.
    public var overrides: [String]
}

/// Which share of a sharded run a run folder (`DIR/shards/K/`) holds.
public struct ShardRecord: Codable, Equatable, Sendable {
    public var index: Int
    public var count: Int
    /// Scan files that fell to this shard.
    public var files: Int
    /// When the shard's run reached its end (pages done or failed, export written); nil while it
    /// runs and after a kill, so `logbook merge` refuses a shard that did not finish.
    public var completed: String?
}

public struct RunManifest: Codable, Equatable, Sendable {
    public var format = 1
    public var software: String
    public var pipeline: PipelineRecord
    public var model: ModelRecord
    /// The SCANS arguments of the last `logbook run`.
    public var scans: [String]
    public var created: String
    public var updated: String
    /// Per stage: its parameters now.
    public var stages: [String: ManifestStage]
    /// Pages in processing order (path, then page index).
    public var pages: [PageRecord]
    /// The run-level export (transcription.csv and review/), whose inputs are every page's readings.
    public var export: StageRecord?
    /// Set in a shard's run folder (`logbook run --shard K/N`); absent otherwise.
    public var shard: ShardRecord? = nil

    public static let fileName = "manifest.json"

    public func page(id: String) -> PageRecord? { pages.first { $0.id == id } }

    public static func load(runFolder: String) throws -> RunManifest {
        let path = (runFolder as NSString).appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PipelineError(path: path, problem: "no manifest: not a run folder (start one with logbook run)")
        }
        do {
            return try JSONDecoder().decode(RunManifest.self, from: data)
        } catch {
            throw PipelineError(path: path, problem: "damaged manifest: \(error)")
        }
    }

    public func save(runFolder: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(self)
        try AtomicFile.write(data, to: (runFolder as NSString).appendingPathComponent(RunManifest.fileName))
    }
}

public enum Clock {
    public static func now() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }

    public static func seconds(since start: UInt64) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    public static var tick: UInt64 { DispatchTime.now().uptimeNanoseconds }
}
