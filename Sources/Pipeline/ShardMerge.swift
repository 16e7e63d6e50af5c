import Foundation

// `logbook merge --run DIR`: joins the shards of a sharded run (`DIR/shards/K/`, written by
// `logbook run --shard K/N`) into the run folder an unsharded run would have left: the same
// `transcription.csv` and `review/` (same rows, same order) and a `manifest.json` with every page.
//
// Nothing is read again: each shard's export already holds its pages' rows, so the merge cuts the
// shards' transcription and review lists by page and puts the pages back in the run's order (path,
// then page index). Per-page files stay in the shards; `DIR/pages/<id>` links to them, so the
// merged folder is a run folder like any other (`logbook status`, `logbook stage`, a later
// `logbook run` finding everything up to date).

public struct MergeOutcome: Sendable {
    public var shards = 0
    public var pages = 0
    public var finished = 0
    public var rows = 0
    public var reviewItems = 0
    public var failures: [RunFailure] = []
    public var seconds = 0.0
}

public enum ShardMerge {
    public static let shardsFolder = "shards"

    public static func merge(runFolder: String) throws -> MergeOutcome {
        let start = Clock.tick
        let run = RunFolder(runFolder)
        let manager = FileManager.default
        let shardsRoot = run.path(shardsFolder)
        let names = (try? manager.contentsOfDirectory(atPath: shardsRoot)) ?? []
        let indices = names.compactMap { Int($0) }.filter { $0 >= 0 }.sorted()
        guard !indices.isEmpty else {
            throw PipelineError(path: shardsRoot, problem: "no shards to merge (start them with logbook run SCANS... --out \(runFolder) --shard K/N)")
        }

        // Every shard folder that has a manifest; they must agree on N.
        var manifests: [Int: RunManifest] = [:]
        for index in indices {
            let folder = Shard.folder(run: runFolder, index: index)
            guard manager.fileExists(atPath: (folder as NSString).appendingPathComponent(RunManifest.fileName)) else { continue }
            let manifest = try RunManifest.load(runFolder: folder)
            guard let shard = manifest.shard, shard.index == index else {
                throw PipelineError(path: folder, problem: "not shard \(index) of a sharded run (its manifest has no matching shard record)")
            }
            manifests[index] = manifest
        }
        guard let reference = manifests.values.sorted(by: { $0.shard!.index < $1.shard!.index }).first, let count = reference.shard?.count else {
            throw PipelineError(path: shardsRoot, problem: "no shard has a manifest yet: none has run (logbook run SCANS... --out \(runFolder) --shard K/N)")
        }
        for (index, manifest) in manifests.sorted(by: { $0.key < $1.key }) {
            func disagree(_ what: String, _ theirs: String, _ ours: String) -> PipelineError {
                PipelineError(path: Shard.folder(run: runFolder, index: index),
                              problem: "shard \(index) disagrees with shard \(reference.shard!.index) on \(what) (\(theirs) vs \(ours)); re-run it with the same settings")
            }
            if manifest.shard!.count != count { throw disagree("the number of shards", String(manifest.shard!.count), String(count)) }
            if manifest.software != reference.software { throw disagree("the software version", manifest.software, reference.software) }
            if manifest.pipeline.sha256 != reference.pipeline.sha256 {
                throw disagree("the pipeline", "\(manifest.pipeline.source) sha256 \(manifest.pipeline.sha256.prefix(12))", "\(reference.pipeline.source) sha256 \(reference.pipeline.sha256.prefix(12))")
            }
            if manifest.model.sha256 != reference.model.sha256 || manifest.model.temperature != reference.model.temperature {
                throw disagree("the model", "\(manifest.model.path) sha256 \(manifest.model.sha256.prefix(12))", "\(reference.model.path) sha256 \(reference.model.sha256.prefix(12))")
            }
            if manifest.scans != reference.scans { throw disagree("the scans", manifest.scans.joined(separator: " "), reference.scans.joined(separator: " ")) }
        }
        if let extra = indices.first(where: { $0 >= count }) {
            throw PipelineError(path: Shard.folder(run: runFolder, index: extra), problem: "shard \(extra) is beyond the \(count) shards of the run (K counts from 0); remove it")
        }

        // Missing or unfinished shards, each with the command that (re-)runs it.
        var problems: [String] = []
        for index in 0..<count {
            let command = rerunCommand(reference, run: runFolder, shard: Shard(index: index, count: count))
            guard let manifest = manifests[index] else {
                problems.append("shard \(index)/\(count) is missing (no \(Shard.folder(run: runFolder, index: index))/manifest.json); run: \(command)")
                continue
            }
            let folder = RunFolder(Shard.folder(run: runFolder, index: index))
            guard manifest.shard?.completed != nil, let export = manifest.export, export.status == .done else {
                problems.append("shard \(index)/\(count) did not finish (killed or still running: \(manifest.pages.count) pages so far); re-run: \(command)")
                continue
            }
            let changed = export.outputs.first { path, sum in (try? SHA256.hex(fileAt: folder.path(path))) != sum }
            if let changed {
                problems.append("shard \(index)/\(count): \(changed.key) is not the file its export wrote; re-run: \(command)")
            }
        }
        guard problems.isEmpty else {
            throw PipelineError(path: shardsRoot, problem: "cannot merge \(count) shards:\n  " + problems.joined(separator: "\n  "))
        }

        // The pages in the run's order, each with its shard.
        var shardOf: [String: Int] = [:]
        var pages: [PageRecord] = []
        for index in 0..<count {
            for page in manifests[index]!.pages {
                if let other = shardOf[page.id] {
                    throw PipelineError(path: shardsRoot, problem: "page \(page.id) is in shards \(other) and \(index): the shards were not made from the same scans")
                }
                shardOf[page.id] = index
                pages.append(page)
            }
        }
        pages.sort { $0.source != $1.source ? $0.source < $1.source : $0.pageIndex < $1.pageIndex }

        // Per-page files: DIR/pages/<id> links to the shard's folder.
        try manager.createDirectory(atPath: run.path("pages"), withIntermediateDirectories: true)
        for page in pages {
            let target = "../\(shardsFolder)/\(shardOf[page.id]!)/pages/\(page.id)"
            let link = run.path("pages/\(page.id)")
            if (try? manager.destinationOfSymbolicLink(atPath: link)) == target { continue }
            guard manager.fileExists(atPath: run.path("pages/" + target)) else { continue }
            if (try? manager.attributesOfItem(atPath: link)) != nil { try manager.removeItem(atPath: link) }
            try manager.createSymbolicLink(atPath: link, withDestinationPath: target)
        }

        // transcription.csv and review/review.csv: each shard's rows cut by page (the first field),
        // then joined in the run's order.
        let review = reference.export?.outputs[RunFolder.reviewFolder + "/review.csv"] != nil
        var transcriptionRows: [String: [Substring]] = [:]
        var reviewRows: [String: [Substring]] = [:]
        var texts: [String] = []   // keeps the substrings' storage
        for index in 0..<count {
            let folder = RunFolder(Shard.folder(run: runFolder, index: index))
            let transcription = try String(contentsOfFile: folder.path(RunFolder.transcriptionFile), encoding: .utf8)
            try cut(transcription, header: ExportStage.header, path: folder.path(RunFolder.transcriptionFile), into: &transcriptionRows, pages: shardOf, shard: index)
            texts.append(transcription)
            if review {
                let list = try String(contentsOfFile: folder.path(RunFolder.reviewFolder + "/review.csv"), encoding: .utf8)
                try cut(list, header: ExportStage.reviewHeader, path: folder.path(RunFolder.reviewFolder + "/review.csv"), into: &reviewRows, pages: shardOf, shard: index)
                texts.append(list)
            }
        }
        var outcome = MergeOutcome()
        var text = ExportStage.header + "\n"
        var reviewText = ExportStage.reviewHeader + "\n"
        for page in pages {
            for line in transcriptionRows[page.id] ?? [] { text += line; text += "\n"; outcome.rows += 1 }
            for line in reviewRows[page.id] ?? [] { reviewText += line; reviewText += "\n"; outcome.reviewItems += 1 }
        }

        // review/: built beside the old one (images linked from the shards) and swapped in.
        var outputs: [String: String] = [:]
        if review {
            let staging = RunFolder.reviewFolder + ".new-\(getpid())"
            try? manager.removeItem(atPath: run.path(staging))
            try manager.createDirectory(atPath: run.path(staging), withIntermediateDirectories: true)
            for page in pages where reviewRows[page.id] != nil {
                let source = Shard.folder(run: runFolder, index: shardOf[page.id]!) + "/\(RunFolder.reviewFolder)/\(page.id)"
                guard let files = try? manager.contentsOfDirectory(atPath: source) else { continue }
                try manager.createDirectory(atPath: run.path(staging + "/" + page.id), withIntermediateDirectories: true)
                for file in files {
                    let destination = run.path(staging + "/\(page.id)/\(file)")
                    do { try manager.linkItem(atPath: source + "/" + file, toPath: destination) }
                    catch { try manager.copyItem(atPath: source + "/" + file, toPath: destination) }
                }
            }
            try AtomicFile.write(reviewText, to: run.path(staging + "/review.csv"))
            let old = RunFolder.reviewFolder + ".old-\(getpid())"
            if manager.fileExists(atPath: run.path(RunFolder.reviewFolder)) {
                try manager.moveItem(atPath: run.path(RunFolder.reviewFolder), toPath: run.path(old))
            }
            try manager.moveItem(atPath: run.path(staging), toPath: run.path(RunFolder.reviewFolder))
            try? manager.removeItem(atPath: run.path(old))
            outputs[RunFolder.reviewFolder + "/review.csv"] = SHA256.hex(reviewText)
        }
        try AtomicFile.write(text, to: run.path(RunFolder.transcriptionFile))
        outputs[RunFolder.transcriptionFile] = SHA256.hex(text)

        // pipeline.yaml and manifest.json as the unsharded run writes them.
        let pipelineYAML = try Data(contentsOf: URL(fileURLWithPath: Shard.folder(run: runFolder, index: reference.shard!.index) + "/" + RunFolder.pipelineFile))
        try AtomicFile.write(pipelineYAML, to: run.path(RunFolder.pipelineFile))
        let finished = pages.filter(\.hasReadings)
        let cells = finished.reduce(0) { $0 + (Int($1.record(.segment)?.info?["cells"] ?? "0") ?? 0) }
        let seconds = Clock.seconds(since: start)
        let export = StageRecord(status: .done, inputs: ExportStage.inputs(pages: pages, review: review),
                                 parameters: reference.stages[StageName.export.rawValue]?.fingerprint ?? reference.export?.parameters ?? "",
                                 outputs: outputs, seconds: seconds, finished: Clock.now(), error: nil,
                                 info: ["pages": String(finished.count), "cells": String(cells), "review_items": String(outcome.reviewItems)])
        let now = Clock.now()
        let merged = RunManifest(software: reference.software, pipeline: reference.pipeline, model: reference.model, scans: reference.scans,
                                 created: manifests.values.map(\.created).min() ?? now, updated: now, stages: reference.stages,
                                 pages: pages, export: export)
        try merged.save(runFolder: runFolder)

        outcome.shards = count
        outcome.pages = pages.count
        outcome.finished = pages.filter(\.isComplete).count
        outcome.failures = pages.compactMap { page in
            page.failure.map { RunFailure(page: page.id, source: page.source, stage: $0.stage, error: $0.error) }
        }
        outcome.seconds = Clock.seconds(since: start)
        return outcome
    }

    /// Splits a CSV written by the export (header, then each page's rows together, the page id
    /// first) into rows per page.
    static func cut(_ text: String, header: String, path: String, into rows: inout [String: [Substring]], pages: [String: Int], shard: Int) throws {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true)[...]
        guard lines.first.map(String.init) == header else {
            throw PipelineError(path: path, problem: "not an export of this version (header differs)")
        }
        lines = lines.dropFirst()
        for line in lines {
            // Page ids hold letters, digits and - _ . only, so the first field is never quoted.
            let id = String(line[..<(line.firstIndex(of: ",") ?? line.endIndex)])
            guard pages[id] == shard else {
                throw PipelineError(path: path, problem: "a row of page '\(id)', which is not a page of shard \(shard)")
            }
            rows[id, default: []].append(line)
        }
    }

    /// The command that runs one shard again with the settings the others used.
    public static func rerunCommand(_ manifest: RunManifest, run: String, shard: Shard) -> String {
        func quoted(_ word: String) -> String {
            word.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:+,@".contains($0) } ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }
        var words = ["logbook", "run"] + manifest.scans + ["--out", run, "--shard", shard.description]
        if manifest.pipeline.source != "built-in default" { words += ["--pipeline", manifest.pipeline.source] }
        words += ["--model", manifest.model.path]
        return words.map(quoted).joined(separator: " ")
    }
}
