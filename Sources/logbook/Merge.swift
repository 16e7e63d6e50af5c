import ArgumentParser
import Foundation
import Pipeline

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Merge the shards of a sharded run (logbook run --shard K/N) into one transcription.csv, review/ and manifest.json.",
        discussion: """
            Checks that all N shards in DIR/shards/ finished and agree on the pipeline, the model and the software \
            version, then writes DIR/transcription.csv, DIR/review/ and DIR/manifest.json as an unsharded run of \
            the same scans would (same rows, same order). A missing or unfinished shard is named with the command \
            that runs it again (exit code 1). Pages that failed in a shard are listed and the exit code is 2, as \
            with logbook run.
            """)

    @Option(name: .customLong("run"), help: "Run folder (the --out of the shards).") var runFolder: String

    func run() throws {
        let outcome: MergeOutcome
        do {
            outcome = try ShardMerge.merge(runFolder: runFolder)
        } catch let error as PipelineError {
            FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
            throw ExitCode(1)
        }
        print("\(runFolder): merged \(outcome.shards) shards, \(outcome.finished) of \(outcome.pages) pages finished, "
              + "\(outcome.rows) rows, \(outcome.reviewItems) review items" + String(format: " in %.2f s", outcome.seconds))
        print("  wrote \(runFolder)/transcription.csv, \(runFolder)/review/, \(runFolder)/manifest.json")
        if !outcome.failures.isEmpty {
            for failure in outcome.failures {
                FileHandle.standardError.write(Data("failed: \(failure.page) (\(failure.source)) at \(failure.stage.rawValue): \(failure.error)\n".utf8))
            }
            FileHandle.standardError.write(Data("\(outcome.failures.count) page(s) failed; see logbook status --run \(runFolder)\n".utf8))
            throw ExitCode(2)
        }
    }
}
