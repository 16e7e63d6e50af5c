import Foundation
import Imaging
import NeuralNet
import Recognition

// Runs the stages over a run folder: `logbook run` (all stages, skipping what is up to date) and
// `logbook stage` (one stage forced, later ones marked stale or, with --downstream, run).
//
// Pages stream through in groups of a few: decoded one at a time from their files, the image
// stages (binarize, segment, normalize) run on `jobs` pages at once, then all digits of the group
// are classified together, the group's records are saved in the manifest and its pages dropped
// from memory. A page that fails is recorded with its stage and reason and the others go on
// (`strict` stops at the first). Export runs once at the end, over every finished page.

public struct RunRequest: Sendable {
    public var folder: String
    /// Scan files or folders (`logbook run`); empty for `logbook stage`.
    public var scans: [String] = []
    /// nil: the run folder's own `pipeline.yaml` when it has one, else `pipelines/default.yaml`,
    /// else the built-in default (the same values).
    public var pipelinePath: String?
    /// nil: the model the run used before, else `models/logbook-digits.safetensors`.
    public var modelPath: String?
    public var jobs = 2
    public var strict = false
    /// `section.key=value` changes to the run's pipeline (`logbook stage --set`).
    public var overrides: [String] = []
    /// Write `segment-debug.png` for each page segmented.
    public var debug = false
    public var quiet = false
    /// Process only this share of the scan files, into `folder/shards/<index>/` (`--shard K/N`).
    public var shard: Shard?

    public init(folder: String) { self.folder = folder }
}

/// One of `count` deterministic shares of a run's scan files (`logbook run --shard K/N`, K from 0,
/// so Slurm's `--array=0-(N-1)` gives K as `$SLURM_ARRAY_TASK_ID`). The files in the run's stable
/// order (path; the order ingest uses) are dealt round-robin: file i goes to shard i mod N, with all
/// its pages (a multi-page TIFF stays whole). Page ids are made from the whole list of files, so
/// they are the same as in an unsharded run and no two shards share one.
public struct Shard: Sendable, Equatable {
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) { self.index = index; self.count = count }

    /// `K/N` with 0 <= K < N.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1, (0..<count).contains(index) else {
            throw PipelineError(path: "", problem: "--shard takes K/N with 0 <= K < N (K counts from 0, as $SLURM_ARRAY_TASK_ID with --array=0-(N-1)); got '\(text)'")
        }
        self.init(index: index, count: count)
    }

    public var description: String { "\(index)/\(count)" }

    /// The indices of `files` items that fall to this shard.
    public func selects(_ fileIndex: Int) -> Bool { fileIndex % count == index }

    /// The shard's run folder inside the run folder `run`.
    public func folder(run: String) -> String { Shard.folder(run: run, index: index) }

    public static func folder(run: String, index: Int) -> String { (run as NSString).appendingPathComponent("shards/\(index)") }
}

public struct RunFailure: Sendable, Equatable {
    public var page: String
    public var source: String
    public var stage: StageName
    public var error: String
}

public struct RunOutcome: Sendable {
    public var pages = 0
    public var finished = 0
    public var failures: [RunFailure] = []
    public var ran: [StageName: Int] = [:]
    public var skipped: [StageName: Int] = [:]
    public var stale: [StageName: Int] = [:]
    public var digits = 0
    public var seconds = 0.0
    /// Seconds spent in each stage, summed over pages.
    public var stageSeconds: [StageName: Double] = [:]
}

public final class PipelineRunner {
    /// Part of every stage's fingerprint, so a run made by an earlier version is redone: bump it
    /// whenever a stage's output changes for the same inputs and parameters (a new cutter rule, a
    /// new check). 0.5.0: column ranges in the checks, creases dropped by the cutter. 0.6.0: touching
    /// digits cut again where the whole-cell reader reads more, minus signs, specks, partial rules.
    /// 0.6.1: the other reader's reading where the two disagree (`other_reading`). 0.6.2: the
    /// checks correct by the cheapest moves, rows jointly, flag cells a correction leaves in doubt
    /// and may take a piece split in two; a piece cut in two is joined back to the column's usual count.
    /// 0.6.3: a pressure-like column's range is no longer 5% of its median wide. 0.6.4: cells where
    /// a sheet's readers disagree the same way are tried under the other reader's word together,
    /// and a digit change that mends several checks as the writer's confusion. 0.6.5: a column's
    /// decimals settle at 60% agreement; an unsettled column's cells without a point are flagged.
    /// 0.6.6: a speck under the cell's speck size may be a small hand's point. 0.6.7: the page's
    /// edge and a fold's crease across a row are no rules (rows and columns keep their numbers).
    /// 0.6.8: a column counts the rows when 70% of its numbers are their row plus one offset.
    /// 0.6.9: a correction two checks confirm is verified; values a check implies, one digit from
    /// the reading, mend two broken checks; total and mean rows are found from the numbers.
    /// 0.6.10: a cell only a midrange or a mean verifies keeps its last digit's doubt
    /// (`checks.rounding_doubt`); a narrow majority against tenths does not set a column's decimals.
    /// 0.6.11: only a check that breaks with the cell as read confirms its correction, and only a
    /// correction one digit from a reader's own digits is verified; its last digit is pinned only
    /// by an exact check that confirms it; a mean row's last digit is held to `checks.rounding_doubt`.
    /// 0.6.12: `binarize.faint_k` cuts digits from fainter ink than the grid is found on (pencil
    /// photographs); at most 12 whole-sheet hypotheses are tried a sheet.
    /// 0.6.13: the checks derive what the arithmetic alone determines where no reading of a cell
    /// fits, as a reviewed proposal (`checks_doubted`: `derived`).
    /// 0.6.14: a written mean is its total over the count rounded or cut, never more than half a
    /// unit above; where derived values stand, the checks' implied values are searched again.
    /// 0.6.15: a mean row's cells get a range (at least half their column's median either way), so
    /// a mean read a tenth of its size cannot be taken to meet a total that lost a digit.
    public static let software = "logbook 0.6.15 (pipeline manifest format 1)"
    public static let defaultPipelinePath = "pipelines/default.yaml"
    public static let defaultModelPath = "models/logbook-digits.safetensors"

    let folder: RunFolder
    var manifest: RunManifest
    public let config: PipelineConfig
    let request: RunRequest
    var fingerprints: [StageName: String] = [:]
    var reader: CellReader?
    var sequenceReader: CellSequenceReader?
    /// sha256 of `config.cellModel` ("" when the reader is `segment`).
    var cellModelSum = ""
    /// The whole-cell model's own softmax temperature (its file's calibration, else 1).
    var cellModelTemperature = ""
    var outcome = RunOutcome()
    var progress: RunProgress?
    let started = Clock.tick
    /// The stage `logbook stage` re-runs; earlier stages are not judged by their parameters.
    var forcedFrom: StageName?

    /// Opens (or starts) the run folder with the pipeline and model the request names.
    public init(_ request: RunRequest) throws {
        var request = request
        if let shard = request.shard { request.folder = shard.folder(run: request.folder) }
        self.request = request
        folder = RunFolder(request.folder)
        let previous = FileManager.default.fileExists(atPath: folder.path(RunManifest.fileName))
            ? try RunManifest.load(runFolder: request.folder) : nil

        // Pipeline: given, the run's own, the default file, or the built-in default.
        let runPipeline = folder.path(RunFolder.pipelineFile)
        var source: String, config: PipelineConfig, overrides: [String]
        if let path = request.pipelinePath {
            config = try PipelineConfig.load(path: path, overrides: request.overrides)
            source = path
            overrides = request.overrides
        } else if let previous, FileManager.default.fileExists(atPath: runPipeline) {
            config = try PipelineConfig.load(path: runPipeline, overrides: request.overrides)
            source = previous.pipeline.source
            overrides = previous.pipeline.overrides + request.overrides
        } else if case let shipped = ShippedFiles.path(PipelineRunner.defaultPipelinePath), FileManager.default.fileExists(atPath: shipped) {
            config = try PipelineConfig.load(path: shipped, overrides: request.overrides)
            source = shipped
            overrides = request.overrides
        } else {
            config = try PipelineConfig.load(yaml: "", path: "built-in default", overrides: request.overrides)
            source = "built-in default"
            overrides = request.overrides
        }
        // A shipped model named relative to the checkout is found from anywhere (`ShippedFiles`).
        config.cellModel = ShippedFiles.path(config.cellModel)
        self.config = config
        if config.reader != "segment" && !FileManager.default.fileExists(atPath: config.cellModel) {
            throw PipelineError(path: config.cellModel, problem: "whole-cell model not found (reader '\(config.reader)' needs cell_model)")
        }

        // Model.
        let modelPath = request.modelPath ?? previous?.model.path ?? ShippedFiles.path(PipelineRunner.defaultModelPath)
        guard FileManager.default.fileExists(atPath: modelPath) else {
            throw PipelineError(path: modelPath, problem: "model file not found (give one with --model)")
        }
        let modelSum = try SHA256.hex(fileAt: modelPath)
        // The whole-cell model by content too: a retrained file at the same path must rerun classify.
        cellModelSum = config.reader == "segment" ? "" : try SHA256.hex(fileAt: config.cellModel)
        cellModelTemperature = config.reader == "segment" ? "" : String(try Calibration.temperature(ofModelAt: config.cellModel) ?? 1)
        let temperature = Double(try Calibration.temperature(ofModelAt: modelPath) ?? 1)

        try FileManager.default.createDirectory(atPath: request.folder, withIntermediateDirectories: true)
        let yaml = "# The pipeline of this run (from \(source)" + (overrides.isEmpty ? "" : ", with " + overrides.joined(separator: " "))
            + "); every key written out.\n" + config.yaml()
        if (try? String(contentsOfFile: runPipeline, encoding: .utf8)) != yaml { try AtomicFile.write(yaml, to: runPipeline) }
        let now = Clock.now()
        manifest = RunManifest(
            software: PipelineRunner.software,
            pipeline: PipelineRecord(source: source, path: RunFolder.pipelineFile, sha256: SHA256.hex(yaml), overrides: overrides),
            model: ModelRecord(path: modelPath, sha256: modelSum, temperature: temperature),
            scans: request.scans.isEmpty ? (previous?.scans ?? []) : request.scans,
            created: previous?.created ?? now, updated: now, stages: [:], pages: previous?.pages ?? [],
            export: previous?.export,
            // Marked completed only at the end of the run: a shard killed half-way is not merged.
            shard: request.shard.map { ShardRecord(index: $0.index, count: $0.count, files: 0, completed: nil) }
                ?? previous?.shard.map { ShardRecord(index: $0.index, count: $0.count, files: $0.files, completed: nil) })
        for stage in StageName.allCases {
            let values = parameters(stage)
            let lines = values.keys.sorted().map { "\($0)=\(values[$0]!)" }
            let fingerprint = SHA256.hex(([PipelineRunner.software] + lines).joined(separator: "\n"))
            fingerprints[stage] = fingerprint
            manifest.stages[stage.rawValue] = ManifestStage(parameters: values, fingerprint: fingerprint)
        }
    }

    /// What each stage's fingerprint covers.
    func parameters(_ stage: StageName) -> [String: String] {
        var table = PipelineConfig.flattened(config.table, prefix: "table")
        // A key added later, empty unless used: left out then, so that runs made before it stay up to date.
        if config.table.dateColumns.isEmpty { table["table.date_columns"] = nil }
        // The date checks act on date columns only: without them the key changes nothing.
        var checks = PipelineConfig.flattened(config.checks, prefix: "checks")
        if config.table.dateColumns.isEmpty { checks["checks.dates"] = nil }
        switch stage {
        case .ingest:
            return PipelineConfig.flattened(config.ingest, prefix: "ingest")
        case .binarize:
            return PipelineConfig.flattened(config.binarize, prefix: "binarize")
        case .segment:
            return PipelineConfig.flattened(config.segment, prefix: "segment")
                .merging(table) { a, _ in a }
        case .normalize:
            return ["normalizer.side": String(DigitNormalizer.side), "normalizer.box_side": String(DigitNormalizer.boxSide),
                    "normalizer.ink_threshold": String(DigitNormalizer.inkThreshold)]
        case .classify:
            return PipelineConfig.flattened(config.classify, prefix: "classify")
                .merging(table) { a, _ in a }
                .merging(checks) { a, _ in a }
                .merging(["reader": config.reader, "cell_model": config.reader == "segment" ? "" : config.cellModel,
                          "cell_model.sha256": cellModelSum, "cell_model.temperature": cellModelTemperature,
                          "model.sha256": manifest.model.sha256,
                          "model.temperature": String(manifest.model.temperature)]) { a, _ in a }
        case .export:
            return PipelineConfig.flattened(config.export, prefix: "export")
                .merging(["classify.review_threshold": String(config.classify.reviewThreshold)]) { a, _ in a }
        }
    }

    // MARK: Entry points

    /// `logbook run`: ingest the scans, run every stage that is not up to date, export.
    public func run() throws -> RunOutcome {
        let paths = try IngestStage.scanPaths(request.scans, extensions: config.ingest.extensions)
        guard !paths.isEmpty else {
            throw PipelineError(path: request.scans.joined(separator: " "), problem: "no scans found (extensions: \(config.ingest.extensions.joined(separator: ", ")))")
        }
        // Ids from the whole list, so a shard's pages have the ids of the unsharded run.
        var ids = IngestStage.pageIDs(for: paths)
        var mine = paths
        if let shard = request.shard {
            let chosen = paths.indices.filter(shard.selects)
            mine = chosen.map { paths[$0] }
            ids = chosen.map { ids[$0] }
            manifest.shard?.files = mine.count
        }
        try process(paths: mine, ids: ids, allowed: Set(StageName.allCases), forced: [], fingerprintFiles: true)
        return outcome
    }

    /// `logbook stage NAME`: re-run one stage on every page of the run; later stages whose
    /// inputs changed are marked stale, or run too with `downstream`.
    public func runStage(_ stage: StageName, downstream: Bool) throws -> RunOutcome {
        var seen = Set<String>(), paths: [String] = []
        for page in manifest.pages where seen.insert(page.source).inserted { paths.append(page.source) }
        guard !paths.isEmpty else { throw PipelineError(path: request.folder, problem: "the run has no pages") }
        let allowed = Set([stage] + (downstream ? stage.downstream : []))
        forcedFrom = stage
        // The ids the pages have (a shard's come from the whole run's list of files).
        var firstPage: [String: PageRecord] = [:]
        for page in manifest.pages where page.pageIndex < (firstPage[page.source]?.pageIndex ?? Int.max) { firstPage[page.source] = page }
        let computed = IngestStage.pageIDs(for: paths)
        let ids = paths.indices.map { firstPage[paths[$0]].flatMap { $0.pageIndex == 0 ? $0.id : nil } ?? computed[$0] }
        try process(paths: paths, ids: ids, allowed: allowed, forced: [stage], fingerprintFiles: stage == .ingest)
        return outcome
    }

    // MARK: The loop

    struct PageWork {
        var record: PageRecord
        var image: GrayImage?
        var binarized: BinarizedPage?
        var segmented: SegmentedPage?
        var normalized: NormalizedDigits?
        var failed = false
        var worked = false
    }

    func process(paths: [String], ids: [String], allowed: Set<StageName>, forced: Set<StageName>, fingerprintFiles: Bool) throws {
        var bySource: [String: [PageRecord]] = [:]
        for page in manifest.pages { bySource[page.source, default: []].append(page) }
        let expected = paths.reduce(0) { $0 + max(1, bySource[$1]?.count ?? 1) }
        outcome.pages = 0
        progress = RunProgress(totalPages: expected, quiet: request.quiet)
        var keep = Set<String>()
        var group: [PageWork] = []
        let groupSize = max(4, 2 * request.jobs)

        func flush() throws {
            guard !group.isEmpty else { return }
            try processGroup(&group, allowed: allowed, forced: forced)
            for work in group { keep.insert(work.record.id) }
            group = []
        }

        for (fileIndex, path) in paths.enumerated() {
            let known = (bySource[path] ?? []).sorted { $0.pageIndex < $1.pageIndex }
            // Fingerprint the file (ingest).
            let ingestStart = Clock.tick
            let file: ScanFile
            if fingerprintFiles || known.isEmpty {
                do {
                    file = try IngestStage.fingerprint(path: path, id: ids[fileIndex], known: known.first)
                } catch {
                    var record = IngestStage.pageRecord(file: ScanFile(path: path, sha256: "", bytes: 0, modified: 0, id: ids[fileIndex]),
                                                        page: nil, pageIndex: 0, previous: nil)
                    record.stages = [:]
                    try fail(&record, .ingest, "\(error)", inputs: ["scan": path])
                    group.append(PageWork(record: record, failed: true))
                    try flush()
                    continue
                }
            } else {
                let first = known[0]
                file = ScanFile(path: path, sha256: first.sha256, bytes: first.bytes, modified: first.modified, id: ids[fileIndex])
            }
            let unchanged = known.filter { $0.sha256 == file.sha256 && $0.record(.ingest)?.status == .done }
            // Decode only when some page of the file will be binarized (new, changed or forced).
            let needsDecoding = unchanged.isEmpty || unchanged.contains { record in
                allowed.contains(.binarize) && (forced.contains(.binarize)
                    || !isCurrent(record.record(.binarize), inputs: IngestStage.binarizeInputs(record), stage: .binarize))
            }
            if !needsDecoding {
                for previous in unchanged {
                    var record = IngestStage.pageRecord(file: file, page: nil, pageIndex: previous.pageIndex, previous: previous)
                    record.stages[StageName.ingest.rawValue] = previous.record(.ingest)
                    group.append(PageWork(record: record))
                    if group.count >= groupSize { try flush() }
                }
                continue
            }
            var decoded = 0
            do {
                try forEachImagePage(at: path, maxPixels: config.ingest.maxPixels) { page in
                    let previous = known.first { $0.pageIndex == page.pageIndex }
                    var record = IngestStage.pageRecord(file: file, page: page, pageIndex: page.pageIndex, previous: previous)
                    record.stages[StageName.ingest.rawValue] = StageRecord(
                        status: .done, inputs: ["scan": file.sha256], parameters: fingerprints[.ingest]!, outputs: [:],
                        seconds: Clock.seconds(since: ingestStart), finished: Clock.now(), error: nil,
                        info: ["size": "\(page.image.width)x\(page.image.height)", "format": page.format.rawValue,
                               "bits": String(page.bitDepth), "channels": String(page.channels)])
                    outcome.ran[.ingest, default: 0] += 1
                    group.append(PageWork(record: record, image: page.image))
                    decoded += 1
                    if group.count >= groupSize { try flush() }
                }
            } catch let error as PipelineError where error.problem.hasPrefix("stopped") {
                throw error
            } catch {
                // The page that could not be decoded (the next one of the file).
                let previous = known.first { $0.pageIndex == decoded }
                var record = IngestStage.pageRecord(file: file, page: nil, pageIndex: decoded, previous: previous)
                record.stages = [:]
                try fail(&record, .ingest, "\(error)", inputs: ["scan": file.sha256])
                group.append(PageWork(record: record, failed: true))
            }
            try flush()
        }
        try flush()

        // Pages no longer among the scans leave the manifest.
        manifest.pages.removeAll { !keep.contains($0.id) }
        try export(allowed: allowed, forced: forced)
        progress?.finish()
        outcome.seconds = Clock.seconds(since: started)
        outcome.finished = manifest.pages.filter(\.isComplete).count
        outcome.failures = manifest.pages.compactMap { page in
            page.failure.map { RunFailure(page: page.id, source: page.source, stage: $0.stage, error: $0.error) }
        }
        let now = Clock.now()
        manifest.updated = now
        manifest.shard?.completed = now
        try manifest.save(runFolder: folder.root)
    }

    /// Records a failure; with `strict`, saves the manifest and stops the run.
    func fail(_ record: inout PageRecord, _ stage: StageName, _ message: String, inputs: [String: String]) throws {
        record.stages[stage.rawValue] = StageRecord(status: .failed, inputs: inputs, parameters: fingerprints[stage]!,
                                                    outputs: [:], seconds: 0, finished: Clock.now(), error: message, info: nil)
        if request.strict {
            upsert(record)
            manifest.updated = Clock.now()
            try manifest.save(runFolder: folder.root)
            throw PipelineError(path: record.source, problem: "stopped at the first failure (--strict): page \(record.id), \(stage.rawValue): \(message)")
        }
    }

    func upsert(_ record: PageRecord) {
        if let index = manifest.pages.firstIndex(where: { $0.id == record.id }) {
            manifest.pages[index] = record
        } else {
            manifest.pages.append(record)
        }
        manifest.pages.sort { $0.source != $1.source ? $0.source < $1.source : $0.pageIndex < $1.pageIndex }
    }

    // MARK: Up to date?

    /// Whether a stage's record still stands: done, with these inputs and the current parameters,
    /// and its outputs on disk with the recorded checksums.
    func isCurrent(_ record: StageRecord?, inputs: [String: String]?, stage: StageName) -> Bool {
        // `logbook stage X` takes the stages before X as they are (their parameters may have
        // changed since, e.g. with a new version, or they may be stale: that is for `logbook run`
        // to catch up on).
        let asTheyAre = forcedFrom.map { stage < $0 } ?? false
        guard let record, let inputs, record.status == .done || (asTheyAre && record.status == .stale),
              record.inputs == inputs, asTheyAre || record.parameters == fingerprints[stage] else { return false }
        for (path, sum) in record.outputs {
            guard folder.exists(path), (try? SHA256.hex(fileAt: folder.path(path))) == sum else { return false }
        }
        return true
    }

    /// The inputs a page's stage reads: the outputs of the stage before (nil when that stage has
    /// not finished).
    func inputs(_ stage: StageName, _ record: PageRecord) -> [String: String]? {
        func outputs(of earlier: StageName) -> [String: String]? {
            guard let r = record.record(earlier), r.status == .done || r.status == .stale else { return nil }
            return r.outputs.filter { !$0.key.hasSuffix(SegmentStage.debugName) }
        }
        switch stage {
        case .ingest, .export: return nil
        case .binarize:
            guard record.record(.ingest)?.status == .done else { return nil }
            return IngestStage.binarizeInputs(record)
        case .segment: return outputs(of: .binarize)
        case .normalize: return outputs(of: .segment)
        case .classify:
            guard let segment = outputs(of: .segment), let normalize = outputs(of: .normalize) else { return nil }
            return segment.merging(normalize) { a, _ in a }.merging(["model": manifest.model.sha256]) { a, _ in a }
        }
    }

    /// What to do with a page's stage: run it, keep it, or (not allowed to run, out of date)
    /// leave it stale.
    enum Decision { case run, keep, stale }

    func decide(_ stage: StageName, _ record: PageRecord, allowed: Set<StageName>, forced: Set<StageName>, upstreamStale: Bool) -> Decision {
        let current = !upstreamStale && isCurrent(record.record(stage), inputs: inputs(stage, record), stage: stage)
        if allowed.contains(stage) && !upstreamStale && (forced.contains(stage) || !current) { return .run }
        return current ? .keep : .stale
    }

    func markStale(_ stage: StageName, _ record: inout PageRecord) {
        guard var r = record.record(stage), r.status == .done else { return }
        r.status = .stale
        record.stages[stage.rawValue] = r
        outcome.stale[stage, default: 0] += 1
    }

    // MARK: A group of pages

    func processGroup(_ group: inout [PageWork], allowed: Set<StageName>, forced: Set<StageName>) throws {
        // Image stages, `jobs` pages at a time. Failures are collected and raised in page order
        // afterwards (so --strict stops at the first page that failed).
        var slots = group
        let lock = NSLock()
        var next = 0
        let workers = max(1, min(request.jobs, slots.count))
        var stageTimes: [StageName: Double] = [:]
        var ranCounts: [StageName: Int] = [:], keptCounts: [StageName: Int] = [:], staleCounts: [StageName: Int] = [:]
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                lock.lock()
                let index = next
                next += 1
                lock.unlock()
                guard index < slots.count else { return }
                var work = slots[index]
                let log = imageStages(&work, allowed: allowed, forced: forced)
                lock.lock()
                slots[index] = work
                for (stage, seconds) in log.seconds { stageTimes[stage, default: 0] += seconds }
                for stage in log.ran { ranCounts[stage, default: 0] += 1 }
                for stage in log.kept { keptCounts[stage, default: 0] += 1 }
                for stage in log.stale { staleCounts[stage, default: 0] += 1 }
                lock.unlock()
            }
        }
        group = slots
        for (stage, seconds) in stageTimes { outcome.stageSeconds[stage, default: 0] += seconds }
        for (stage, count) in ranCounts { outcome.ran[stage, default: 0] += count }
        for (stage, count) in keptCounts { outcome.skipped[stage, default: 0] += count }
        for (stage, count) in staleCounts { outcome.stale[stage, default: 0] += count }
        for index in group.indices where group[index].failed {
            if let failure = group[index].record.failure, request.strict {
                upsert(group[index].record)
                try fail(&group[index].record, failure.stage, failure.error, inputs: group[index].record.record(failure.stage)?.inputs ?? [:])
            }
        }
        // Pixels are not needed any more.
        for index in group.indices { group[index].image = nil; group[index].binarized = nil }

        // Classify: every page of the group that needs it, in one pass.
        var toClassify: [Int] = []
        for index in group.indices where !group[index].failed {
            let record = group[index].record
            let upstreamStale = [StageName.binarize, .segment, .normalize].contains { stage in
                !isCurrent(record.record(stage), inputs: inputs(stage, record), stage: stage)
            }
            switch decide(.classify, record, allowed: allowed, forced: forced, upstreamStale: upstreamStale) {
            case .run: toClassify.append(index)
            case .keep: outcome.skipped[.classify, default: 0] += 1
            case .stale: markStale(.classify, &group[index].record)
            }
        }
        var digitsRead = [Int](repeating: 0, count: group.count)
        if !toClassify.isEmpty {
            try classify(&group, indices: toClassify, digitsRead: &digitsRead)
        }
        for index in group.indices {
            upsert(group[index].record)
            progress?.pageDone(digits: digitsRead[index], failed: group[index].failed || group[index].record.failure != nil,
                               skipped: !group[index].worked && digitsRead[index] == 0)
            outcome.pages += 1
        }
        manifest.updated = Clock.now()
        try manifest.save(runFolder: folder.root)
    }

    struct StageLog {
        var seconds: [StageName: Double] = [:]
        var ran: [StageName] = [], kept: [StageName] = [], stale: [StageName] = []
    }

    /// Binarize, segment, normalize for one page, each when needed; runs on a worker thread and
    /// touches nothing but `work`.
    func imageStages(_ work: inout PageWork, allowed: Set<StageName>, forced: Set<StageName>) -> StageLog {
        var log = StageLog()
        guard !work.failed else { return log }
        var upstreamStale = false
        for stage in [StageName.binarize, .segment, .normalize] {
            let decision = decide(stage, work.record, allowed: allowed, forced: forced, upstreamStale: upstreamStale)
            switch decision {
            case .keep:
                log.kept.append(stage)
                continue
            case .stale:
                upstreamStale = true
                if let r = work.record.record(stage), r.status == .done {
                    var stale = r
                    stale.status = .stale
                    work.record.stages[stage.rawValue] = stale
                    log.stale.append(stage)
                }
                continue
            case .run:
                break
            }
            guard let stageInputs = inputs(stage, work.record) else { return log }
            let start = Clock.tick
            do {
                switch stage {
                case .binarize:
                    guard let image = work.image else {
                        throw PipelineError(path: work.record.source, problem: "page \(work.record.pageIndex) was not decoded")
                    }
                    let (binarized, record) = try BinarizeStage.run(page: image, record: work.record, parameters: config.binarize,
                                                                    fingerprint: fingerprints[.binarize]!, folder: folder)
                    work.binarized = binarized
                    work.record.stages[stage.rawValue] = record
                case .segment:
                    let binarized = try work.binarized ?? BinarizeStage.load(record: work.record, folder: folder)
                    let (segmented, record) = try SegmentStage.run(page: binarized, record: work.record, inputs: stageInputs,
                                                                   config: config, fingerprint: fingerprints[.segment]!,
                                                                   folder: folder, debug: request.debug)
                    work.segmented = segmented
                    work.record.stages[stage.rawValue] = record
                case .normalize:
                    let segmented = try work.segmented ?? SegmentStage.load(record: work.record, folder: folder)
                    let (normalized, record) = try NormalizeStage.run(page: segmented, record: work.record, inputs: stageInputs,
                                                                      fingerprint: fingerprints[.normalize]!, folder: folder)
                    work.segmented = segmented
                    work.normalized = normalized
                    work.record.stages[stage.rawValue] = record
                default:
                    break
                }
                work.worked = true
                log.ran.append(stage)
                log.seconds[stage, default: 0] += Clock.seconds(since: start)
            } catch {
                let message = (error as? PipelineError).map { $0.path.isEmpty ? $0.problem : $0.description } ?? "\(error)"
                work.record.stages[stage.rawValue] = StageRecord(status: .failed, inputs: stageInputs, parameters: fingerprints[stage]!,
                                                                 outputs: [:], seconds: Clock.seconds(since: start),
                                                                 finished: Clock.now(), error: message, info: nil)
                // Later stages' records describe an older state of the page.
                for later in stage.downstream where later != .export { work.record.stages.removeValue(forKey: later.rawValue) }
                work.failed = true
                return log
            }
        }
        return log
    }

    func loadReader() throws -> CellReader {
        if let reader { return reader }
        let model = try ResNet.load(path: manifest.model.path)
        let settings = CellReaderSettings(reviewThreshold: Float(config.classify.reviewThreshold), maxDigits: config.segment.maxDigits,
                                          batchSize: config.classify.batchSize, temperature: Float(manifest.model.temperature))
        let loaded = CellReader(model: model, settings: settings)
        reader = loaded
        return loaded
    }

    func loadSequenceReader() throws -> CellSequenceReader? {
        guard config.reader != "segment" else { return nil }
        if let sequenceReader { return sequenceReader }
        let loaded = try CellSequenceReader(modelPath: config.cellModel)
        sequenceReader = loaded
        return loaded
    }

    func classify(_ group: inout [PageWork], indices: [Int], digitsRead: inout [Int]) throws {
        let reader = try loadReader()
        let sequence = try loadSequenceReader()
        var items: [(index: Int, page: SegmentedPage, digits: NormalizedDigits, inputs: [String: String])] = []
        for index in indices {
            let stageInputs = inputs(.classify, group[index].record) ?? [:]
            do {
                let page = try group[index].segmented ?? SegmentStage.load(record: group[index].record, folder: folder)
                let digits = try group[index].normalized ?? NormalizeStage.load(record: group[index].record, folder: folder)
                items.append((index, page, digits, stageInputs))
            } catch {
                group[index].failed = true
                try fail(&group[index].record, .classify, "\(error)", inputs: stageInputs)
            }
        }
        guard !items.isEmpty else { return }
        let start = Clock.tick
        let binaries: [GrayImage?] = sequence == nil ? [] : items.map { try? BinarizeStage.loadDigitImage(record: group[$0.index].record, folder: folder) }
        var readings: [PageReadings]? = try? ClassifyStage.classify(items.map { ($0.page, $0.digits) }, reader: reader, table: config.table, checks: config.checks,
                                                                    sequence: sequence, sequenceOnly: config.reader == "sequence", binaries: binaries)
        let totalDigits = max(1, items.reduce(0) { $0 + $1.digits.count })
        let seconds = Clock.seconds(since: start)
        if readings == nil {
            // One page's files disagree: read page by page to find it.
            readings = []
            for item in items {
                do {
                    let binary: [GrayImage?] = sequence == nil ? [] : [try BinarizeStage.loadDigitImage(record: group[item.index].record, folder: folder)]
                    readings!.append(try ClassifyStage.classify([(item.page, item.digits)], reader: reader, table: config.table, checks: config.checks,
                                                                sequence: sequence, sequenceOnly: config.reader == "sequence", binaries: binary)[0])
                } catch {
                    readings!.append(PageReadings(decimals: [:], rowLabelColumns: [], cells: []))
                    group[item.index].failed = true
                    try fail(&group[item.index].record, .classify, (error as? PipelineError)?.problem ?? "\(error)", inputs: item.inputs)
                }
            }
        }
        for (k, item) in items.enumerated() where !group[item.index].failed {
            let share = seconds * Double(item.digits.count) / Double(totalDigits)
            let record = try ClassifyStage.write(readings![k], record: group[item.index].record, inputs: item.inputs,
                                                 fingerprint: fingerprints[.classify]!, seconds: share, folder: folder)
            group[item.index].record.stages[StageName.classify.rawValue] = record
            group[item.index].worked = true
            digitsRead[item.index] = item.digits.count
            outcome.digits += item.digits.count
            outcome.ran[.classify, default: 0] += 1
        }
        outcome.stageSeconds[.classify, default: 0] += seconds
    }

    // MARK: Export

    func export(allowed: Set<StageName>, forced: Set<StageName>) throws {
        let inputs = ExportStage.inputs(pages: manifest.pages, review: config.export.review)
        let current = isCurrent(manifest.export, inputs: inputs, stage: .export)
        if allowed.contains(.export) && (forced.contains(.export) || !current) {
            manifest.export = try ExportStage.run(pages: manifest.pages, config: config, fingerprint: fingerprints[.export]!, folder: folder)
            outcome.ran[.export, default: 0] += 1
            outcome.stageSeconds[.export, default: 0] += manifest.export?.seconds ?? 0
        } else if current {
            outcome.skipped[.export, default: 0] += 1
        } else if var record = manifest.export, record.status == .done {
            record.status = .stale
            manifest.export = record
            outcome.stale[.export, default: 0] += 1
        }
    }
}
