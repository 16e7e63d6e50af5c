import Foundation
import XCTest
import NeuralNet
@testable import Pipeline

/// The built `logbook` executable, killed with SIGKILL in the middle of a run and started again,
/// ends with the same transcription as a run left alone; and the pipeline with the shipped model
/// reads the sample pages.
final class KillAndAccuracyTests: XCTestCase {
    /// `logbook` beside the test bundle (swift test builds it with the tests), else in .build.
    static var executable: String? {
        let bundleFolder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [bundleFolder.appendingPathComponent("logbook").path,
                          bundleFolder.deletingLastPathComponent().appendingPathComponent("logbook").path,
                          Bundle.main.bundleURL.appendingPathComponent("logbook").path,
                          PipelineFixtures.repositoryRoot.appendingPathComponent(".build/debug/logbook").path]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    func launch(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable!)
        process.arguments = arguments
        process.currentDirectoryURL = PipelineFixtures.repositoryRoot
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    func testKilledRunFinishesWhenStartedAgainWithTheSameResult() throws {
        guard Self.executable != nil else {
            return XCTFail("the logbook executable was not found beside \(CommandLine.arguments[0])")
        }
        let root = PipelineFixtures.temporaryFolder(self, "kill")
        try PipelineFixtures.writePages(PipelineFixtures.pageOptions(pages: 6, seed: 21), to: root + "/scans")
        try FileManager.default.removeItem(atPath: root + "/scans/truth.csv")
        let model = try PipelineFixtures.tinyModel(in: root)
        func arguments(_ out: String) -> [String] { ["run", root + "/scans", "--out", out, "--model", model, "--jobs", "1", "--quiet"] }

        // Left alone.
        let whole = try launch(arguments(root + "/whole"))
        whole.waitUntilExit()
        XCTAssertEqual(whole.terminationStatus, 0)

        // Killed as soon as the first group of pages is in the manifest (some pages done, some
        // in flight), then started again.
        let killed = try launch(arguments(root + "/killed"))
        let manifest = root + "/killed/manifest.json"
        let deadline = Date().addingTimeInterval(120)
        while killed.isRunning && Date() < deadline {
            if let saved = try? RunManifest.load(runFolder: root + "/killed"), saved.pages.contains(where: \.isComplete) { break }
            usleep(20_000)
        }
        XCTAssertTrue(killed.isRunning, "the run finished before it could be killed")
        kill(killed.processIdentifier, SIGKILL)
        killed.waitUntilExit()
        XCTAssertEqual(killed.terminationReason, .uncaughtSignal)
        // What the kill left is whole: the manifest parses, no transcription yet.
        let partial = try RunManifest.load(runFolder: root + "/killed")
        let done = partial.pages.filter(\.isComplete).count
        XCTAssertGreaterThan(done, 0)
        XCTAssertLessThan(done, 6)
        XCTAssertTrue(FileManager.default.fileExists(atPath: manifest))
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/killed/transcription.csv"))

        let again = try launch(arguments(root + "/killed"))
        again.waitUntilExit()
        XCTAssertEqual(again.terminationStatus, 0)
        let resumed = try RunManifest.load(runFolder: root + "/killed")
        XCTAssertEqual(resumed.pages.filter(\.isComplete).count, 6)
        // The pages finished before the kill were not done again.
        for page in partial.pages where page.isComplete {
            XCTAssertEqual(resumed.page(id: page.id)?.record(.classify)?.finished, page.record(.classify)?.finished, page.id)
        }
        XCTAssertEqual(try PipelineFixtures.comparableTranscription(root + "/killed/transcription.csv"),
                       try PipelineFixtures.comparableTranscription(root + "/whole/transcription.csv"))
        XCTAssertEqual(PipelineFixtures.files(under: root + "/killed").filter { $0.contains(".tmp") || $0.contains(".new-") }, [])
    }

    /// A shard killed mid-run and started again finishes without redoing its finished pages, and
    /// the merge of the shards equals a run left alone.
    func testKilledShardFinishesWhenStartedAgainAndMergesLikeAWholeRun() throws {
        guard Self.executable != nil else {
            return XCTFail("the logbook executable was not found beside \(CommandLine.arguments[0])")
        }
        let root = PipelineFixtures.temporaryFolder(self, "kill-shard")
        try PipelineFixtures.writePages(PipelineFixtures.pageOptions(pages: 8, seed: 23), to: root + "/scans")
        try FileManager.default.removeItem(atPath: root + "/scans/truth.csv")
        let model = try PipelineFixtures.tinyModel(in: root)
        func arguments(_ out: String, _ extra: [String] = []) -> [String] {
            ["run", root + "/scans", "--out", out, "--model", model, "--jobs", "1", "--quiet"] + extra
        }
        let whole = try launch(arguments(root + "/whole"))
        whole.waitUntilExit()
        XCTAssertEqual(whole.terminationStatus, 0)

        let shardFolder = root + "/sharded/shards/0"
        let killed = try launch(arguments(root + "/sharded", ["--shard", "0/2"]))
        let deadline = Date().addingTimeInterval(120)
        while killed.isRunning && Date() < deadline {
            if let saved = try? RunManifest.load(runFolder: shardFolder), saved.pages.contains(where: \.isComplete) { break }
            usleep(20_000)
        }
        XCTAssertTrue(killed.isRunning, "the shard finished before it could be killed")
        kill(killed.processIdentifier, SIGKILL)
        killed.waitUntilExit()
        let partial = try RunManifest.load(runFolder: shardFolder)
        let done = partial.pages.filter(\.isComplete)
        XCTAssertGreaterThan(done.count, 0)
        XCTAssertLessThan(done.count, 4, "shard 0 of 2 holds 4 of the 8 pages")

        // Merging now names the unfinished shard; re-running it and the other shard finishes the job.
        let early = try launch(["merge", "--run", root + "/sharded"])
        early.waitUntilExit()
        XCTAssertNotEqual(early.terminationStatus, 0)
        for shard in ["0/2", "1/2"] {
            let run = try launch(arguments(root + "/sharded", ["--shard", shard]))
            run.waitUntilExit()
            XCTAssertEqual(run.terminationStatus, 0, shard)
        }
        let resumed = try RunManifest.load(runFolder: shardFolder)
        for page in done {
            XCTAssertEqual(resumed.page(id: page.id)?.record(.classify)?.finished, page.record(.classify)?.finished, page.id)
        }
        let merge = try launch(["merge", "--run", root + "/sharded"])
        merge.waitUntilExit()
        XCTAssertEqual(merge.terminationStatus, 0)
        XCTAssertEqual(try String(contentsOfFile: root + "/sharded/transcription.csv", encoding: .utf8),
                       try String(contentsOfFile: root + "/whole/transcription.csv", encoding: .utf8))
    }

    func testFailedPagesGiveExitCodeTwo() throws {
        guard Self.executable != nil else { return XCTFail("the logbook executable was not found") }
        let root = PipelineFixtures.temporaryFolder(self, "exit")
        try PipelineFixtures.writePages(PipelineFixtures.pageOptions(pages: 1, seed: 3), to: root + "/scans")
        try "junk".write(toFile: root + "/scans/junk.tif", atomically: true, encoding: .utf8)
        let model = try PipelineFixtures.tinyModel(in: root)
        let run = try launch(["run", root + "/scans", "--out", root + "/out", "--model", model, "--quiet"])
        run.waitUntilExit()
        XCTAssertEqual(run.terminationStatus, 2)
        XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/out/transcription.csv"))
        let strict = try launch(["run", root + "/scans", "--out", root + "/strict", "--model", model, "--quiet", "--strict"])
        strict.waitUntilExit()
        XCTAssertNotEqual(strict.terminationStatus, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/strict/transcription.csv"))
    }

    /// The default pipeline, no hints, the shipped model, on a worn sample page (bilevel TIFF)
    /// whose handwriting no model was trained on: it finds the numeric columns itself, reads most
    /// cells exactly, and reports no printed label or header as a number.
    func testDefaultPipelineReadsASamplePage() throws {
        let root = PipelineFixtures.temporaryFolder(self, "sample")
        let page = PipelineFixtures.samples + "/sample-0002.tif"
        guard FileManager.default.fileExists(atPath: page) else { return XCTFail("samples/ is missing") }
        Threads.set(2)
        var request = PipelineFixtures.request(folder: root + "/out", scans: [page], model: PipelineFixtures.shippedModel,
                                               pipeline: PipelineFixtures.repositoryRoot.appendingPathComponent("pipelines/default.yaml").path)
        request.jobs = 2
        let outcome = try PipelineRunner(request).run()
        XCTAssertEqual(outcome.failures, [])
        let truth = try ScoredCell.load(path: PipelineFixtures.samples + "/truth.csv").filter { $0.page == "sample-0002" }
        let read = try ScoredCell.load(path: root + "/out/transcription.csv")
        let score = Scoring.score(read: read, truth: truth)
        XCTAssertEqual(score.cells, 60)
        XCTAssertEqual(score.missing, 0)
        XCTAssertEqual(score.extraConfident, 0, "printed labels or headers reported as confident numbers")
        XCTAssertGreaterThanOrEqual(score.cellAccuracy, 0.85, Scoring.report(score))
        XCTAssertGreaterThanOrEqual(score.unflaggedAccuracy, 0.9, Scoring.report(score))
    }
}
