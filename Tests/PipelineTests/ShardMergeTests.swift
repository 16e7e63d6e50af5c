import Foundation
import XCTest
import NeuralNet
@testable import Pipeline

/// `logbook run --shard K/N` and `logbook merge`: the merged run equals the unsharded one; a missing,
/// unfinished or disagreeing shard is refused with the command that runs it.
final class ShardMergeTests: XCTestCase {
    override func setUp() { Threads.set(2) }

    func testShardsDealEveryFileOnceAndParse() throws {
        XCTAssertEqual(try Shard(parsing: "2/3"), Shard(index: 2, count: 3))
        for bad in ["3/3", "-1/3", "1", "a/2", "0/0", "1/2/3"] { XCTAssertThrowsError(try Shard(parsing: bad), bad) }
        let shards = (0..<3).map { Shard(index: $0, count: 3) }
        for file in 0..<10 { XCTAssertEqual(shards.filter { $0.selects(file) }.count, 1) }
    }

    func testMergedShardsEqualTheUnshardedRunAndMissingShardsAreNamed() throws {
        let root = PipelineFixtures.temporaryFolder(self, "shard")
        try PipelineFixtures.writePages(PipelineFixtures.pageOptions(pages: 3), to: root + "/scans")
        try FileManager.default.removeItem(atPath: root + "/scans/truth.csv")
        let model = try PipelineFixtures.tinyModel(in: root)
        let scans = root + "/scans"

        let whole = try PipelineRunner(PipelineFixtures.request(folder: root + "/whole", scans: [scans], model: model)).run()
        XCTAssertEqual(whole.failures, [])

        let sharded = root + "/sharded"
        func runShard(_ index: Int) throws -> RunOutcome {
            var request = PipelineFixtures.request(folder: sharded, scans: [scans], model: model)
            request.shard = Shard(index: index, count: 2)
            return try PipelineRunner(request).run()
        }
        _ = try runShard(1)
        // Shard 0 has not run: named, with the command that runs it.
        XCTAssertThrowsError(try ShardMerge.merge(runFolder: sharded)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("shard 0/2 is missing"), text)
            XCTAssertTrue(text.contains("logbook run \(scans) --out \(sharded) --shard 0/2"), text)
            XCTAssertFalse(text.contains("shard 1/2"), text)
        }
        let first = try runShard(0)
        XCTAssertEqual(first.pages, 2)   // files 0 and 2 of 3
        let shardManifest = try RunManifest.load(runFolder: sharded + "/shards/1")
        XCTAssertEqual(shardManifest.pages.count, 1)
        XCTAssertNotNil(shardManifest.shard?.completed)
        XCTAssertTrue(RunStatus.text(shardManifest, folder: sharded + "/shards/1").contains("shard 1/2 (1 scan files): completed"))

        // A shard run again (after a kill, or by mistake) redoes nothing that is finished.
        let rerun = try runShard(1)
        for stage in StageName.pageStages { XCTAssertNil(rerun.ran[stage], stage.rawValue) }

        let merged = try ShardMerge.merge(runFolder: sharded)
        XCTAssertEqual(merged.pages, 3)
        XCTAssertEqual(merged.failures, [])
        for file in [RunFolder.transcriptionFile, "review/review.csv", RunFolder.pipelineFile] {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: sharded + "/" + file)),
                           try Data(contentsOf: URL(fileURLWithPath: root + "/whole/" + file)), file)
        }
        XCTAssertEqual(PipelineFixtures.files(under: sharded + "/review"), PipelineFixtures.files(under: root + "/whole/review"))
        let unsharded = try RunManifest.load(runFolder: root + "/whole")
        let mergedManifest = try RunManifest.load(runFolder: sharded)
        XCTAssertNil(mergedManifest.shard)
        XCTAssertEqual(mergedManifest.pages.map(\.id), unsharded.pages.map(\.id))
        XCTAssertEqual(mergedManifest.pages.map { $0.record(.classify)?.outputs }, unsharded.pages.map { $0.record(.classify)?.outputs })
        XCTAssertEqual(mergedManifest.export?.outputs, unsharded.export?.outputs)
        XCTAssertEqual(mergedManifest.export?.inputs, unsharded.export?.inputs)

        // The merged folder is a run folder: a plain run over it finds everything up to date.
        let again = try PipelineRunner(PipelineFixtures.request(folder: sharded, scans: [scans], model: model)).run()
        for stage in StageName.pageStages { XCTAssertNil(again.ran[stage], stage.rawValue) }
        XCTAssertNil(again.ran[.export])

        // A shard killed half-way (its manifest not marked completed) is refused.
        var killed = shardManifest
        killed.shard?.completed = nil
        try killed.save(runFolder: sharded + "/shards/1")
        XCTAssertThrowsError(try ShardMerge.merge(runFolder: sharded)) { error in
            XCTAssertTrue("\(error)".contains("shard 1/2 did not finish"), "\(error)")
        }
        // A shard made with another model is refused.
        killed.shard?.completed = Clock.now()
        killed.model.sha256 = String(repeating: "0", count: 64)
        try killed.save(runFolder: sharded + "/shards/1")
        XCTAssertThrowsError(try ShardMerge.merge(runFolder: sharded)) { error in
            XCTAssertTrue("\(error)".contains("shard 1 disagrees with shard 0 on the model"), "\(error)")
        }
    }
}
