import ArgumentParser
import Foundation
import NeuralNet
import Pipeline
import Recognition

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Transcribe scanned logbook pages into transcription.csv and review/ (all six stages).",
        discussion: """
            SCANS are image files (PNG, JPEG, TIFF; multi-page TIFFs give a page each) or folders, searched \
            recursively. Stages whose inputs and parameters are unchanged since the last run into --out are \
            skipped, so a killed run started again finishes the job. A page that cannot be read or segmented is \
            recorded in manifest.json with the reason and skipped; the exit code is then 2 (1 for other errors). \
            Without --pipeline the run's own pipeline.yaml is used when --out already holds a run, else \
            pipelines/default.yaml. \
            --shard K/N (K from 0 to N-1) processes only the K-th of N shares of the scan files (file i of the \
            run's stable order goes to shard i mod N, with all its pages) into DIR/shards/K/; run every K, in any \
            order or at once (a Slurm job array: --shard $SLURM_ARRAY_TASK_ID/N), then logbook merge --run DIR. \
            --adapt reads the pages twice: after the first reading, the digit model is fine-tuned on the digits \
            of the cells whose readings the table checks bear out (a check held, none broke or was left in \
            doubt), labelled with those readings (no transcription is used), \
            and the pages are classified again with it; the adapted model, the first transcription and the \
            harvested cells stay in DIR/adaptation/, and the run keeps reading with the adapted model.
            """)

    @Argument(help: "Scan files or folders.") var scans: [String]
    @Option(help: "Run folder (created if needed).") var out: String
    @Option(help: "Pipeline file (YAML): stage parameters and table hints.") var pipeline: String?
    @Option(help: "Model file (.safetensors); default: the run's model, else models/logbook-digits.safetensors.") var model: String?
    @Option(help: "Pages worked on at once (also the threads used).") var jobs: Int = 2
    @Flag(help: "Stop at the first page that fails.") var strict = false
    @Flag(help: "Also draw pages/<id>/segment-debug.png (grid, cells, digits).") var debug = false
    @Flag(help: "No progress on stderr.") var quiet = false
    @Option(help: "K/N: only the K-th (from 0) of N shares of the scans, into DIR/shards/K/ (then logbook merge).") var shard: String?
    @Flag(help: "Read twice: adapt the digit model to the pages' hand on their checked readings, then classify again with it.")
    var adapt = false
    @Option(help: "Adaptation steps (--adapt).") var adaptSteps: Int = CellAdaptation.Settings().steps
    @Option(help: "Adaptation seed (--adapt).") var adaptSeed: UInt64 = CellAdaptation.Settings().seed

    func validate() throws {
        guard (1...64).contains(jobs) else { throw ValidationError("--jobs must be between 1 and 64") }
        if let shard {
            do { _ = try Shard(parsing: shard) } catch let error as PipelineError { throw ValidationError(error.problem) }
        }
        guard !scans.isEmpty else { throw ValidationError("give at least one scan file or folder") }
        if adapt && shard != nil { throw ValidationError("--adapt needs the whole run: merge the shards, then run --adapt on the merged run") }
        if adaptSteps < 1 { throw ValidationError("--adapt-steps must be at least 1") }
    }

    func run() throws {
        Threads.set(jobs)
        var request = RunRequest(folder: out)
        request.scans = scans
        request.pipelinePath = pipeline
        request.modelPath = model
        request.jobs = jobs
        request.strict = strict
        request.debug = debug
        request.quiet = quiet
        request.shard = try shard.map { try Shard(parsing: $0) }
        if adapt, let model, let adapted = try RunAdaptation.adaptedModel(ofRun: out, from: model) { request.modelPath = adapted }
        let outcome = try PipelineRunner(request).run()
        guard adapt else { return try Run.report(outcome, folder: request.shard?.folder(run: out) ?? out) }
        Run.summarize(outcome, folder: out)
        switch try RunAdaptation.adapt(runFolder: out, settings: CellAdaptation.Settings(steps: adaptSteps, seed: adaptSeed)) {
        case .notAdapted(let reason):
            print("not adapted: \(reason)")
            try Run.exitOnFailures(outcome, folder: out)
        case .adapted(let adaptation):
            let first = out + "/" + RunAdaptation.folderName + "/" + RunAdaptation.firstTranscriptionName
            print("adapted \(adaptation.adaptedFrom) on \(adaptation.digits) digits of \(adaptation.cells) checked cells"
                  + String(format: " (%d steps, %.1f s; no truth used): ", adaptation.settings.steps, adaptation.seconds)
                  + "\(adaptation.model); the first reading is in \(first); reading again")
            request.modelPath = adaptation.model
            try Run.report(try PipelineRunner(request).run(), folder: out)
        }
    }

    /// The end-of-run summary on stdout; exits with 2 when pages failed.
    static func report(_ outcome: RunOutcome, folder: String) throws {
        summarize(outcome, folder: folder)
        try exitOnFailures(outcome, folder: folder)
    }

    static func summarize(_ outcome: RunOutcome, folder: String) {
        let ran = StageName.allCases.compactMap { stage in outcome.ran[stage].map { "\(stage.rawValue) \($0)" } }.joined(separator: ", ")
        let skipped = StageName.allCases.compactMap { stage in outcome.skipped[stage].map { "\(stage.rawValue) \($0)" } }.joined(separator: ", ")
        let stale = StageName.allCases.compactMap { stage in outcome.stale[stage].map { "\(stage.rawValue) \($0)" } }.joined(separator: ", ")
        print("\(folder): \(outcome.finished) of \(outcome.pages) pages finished, \(outcome.digits) digits classified"
              + String(format: " in %.1f s", outcome.seconds))
        print("  ran: " + (ran.isEmpty ? "nothing (all up to date)" : ran))
        if !skipped.isEmpty { print("  up to date: " + skipped) }
        if !stale.isEmpty { print("  marked stale: " + stale + " (logbook run or --downstream brings them up to date)") }
        let times = StageName.allCases.compactMap { stage in outcome.stageSeconds[stage].map { String(format: "%@ %.2f s", stage.rawValue, $0) } }
        if !times.isEmpty { print("  time: " + times.joined(separator: ", ")) }
        if FileManager.default.fileExists(atPath: folder + "/transcription.csv") {
            print("  wrote \(folder)/transcription.csv, \(folder)/review/, \(folder)/manifest.json")
        }
    }

    static func exitOnFailures(_ outcome: RunOutcome, folder: String) throws {
        if !outcome.failures.isEmpty {
            for failure in outcome.failures {
                FileHandle.standardError.write(Data("failed: \(failure.page) (\(failure.source)) at \(failure.stage.rawValue): \(failure.error)\n".utf8))
            }
            FileHandle.standardError.write(Data("\(outcome.failures.count) page(s) failed; see logbook status --run \(folder)\n".utf8))
            throw ExitCode(2)
        }
    }
}

struct StageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stage",
        abstract: "Re-run one stage of a run (optionally with changed parameters); later stages are marked stale.",
        discussion: """
            NAME is ingest, binarize, segment, normalize, classify or export. --set changes a value of the run's \
            pipeline.yaml (e.g. --set binarize.k=0.2 --set table.header_rows=1); the change stays with the run. \
            Later stages whose inputs changed are marked stale, or run as well with --downstream. \
            segment --debug draws pages/<id>/segment-debug.png: the grid, the cells, the digits found.
            """)

    @Argument(help: "Stage name.") var name: String
    @Option(name: .customLong("run"), help: "Run folder.") var runFolder: String
    @Option(name: .customLong("set"), help: "section.key=value to change (repeat).") var settings: [String] = []
    @Flag(help: "Run the later stages too.") var downstream = false
    @Flag(help: "Write debug images (segment: segment-debug.png per page).") var debug = false
    @Option(help: "Pages worked on at once (also the threads used).") var jobs: Int = 2
    @Flag(help: "Stop at the first page that fails.") var strict = false
    @Flag(help: "No progress on stderr.") var quiet = false

    func validate() throws {
        guard StageName(rawValue: name) != nil else {
            throw ValidationError("unknown stage '\(name)' (stages: \(StageName.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard (1...64).contains(jobs) else { throw ValidationError("--jobs must be between 1 and 64") }
    }

    func run() throws {
        Threads.set(jobs)
        var request = RunRequest(folder: runFolder)
        request.overrides = settings
        request.jobs = jobs
        request.strict = strict
        request.debug = debug
        request.quiet = quiet
        let outcome = try PipelineRunner(request).runStage(StageName(rawValue: name)!, downstream: downstream)
        try Run.report(outcome, folder: runFolder)
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show each stage and page of a run.")
    @Option(name: .customLong("run"), help: "Run folder.") var runFolder: String

    func run() throws {
        print(RunStatus.text(try RunManifest.load(runFolder: runFolder), folder: runFolder))
    }
}

struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score a run's transcription against a truth CSV: cell and digit accuracy, flagged share, unflagged accuracy.",
        discussion: """
            The truth has the transcription's columns (page,row,column,value,... and the cell box), as written by \
            logbook synth. A truth cell the run did not report counts as wrong; transcribed cells not in the truth \
            (printed labels, headers) are counted as extras.
            """)
    @Option(name: .customLong("run"), help: "Run folder.") var runFolder: String
    @Option(help: "Truth CSV.") var truth: String
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let score = try Scoring.score(transcription: runFolder + "/transcription.csv", truth: truth)
        print(json ? Scoring.json(score) : "\(runFolder) against \(truth):\n" + Scoring.report(score))
    }
}
