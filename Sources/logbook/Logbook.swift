import ArgumentParser
import NeuralNet

@main
struct Logbook: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logbook",
        abstract: "Transcribe handwritten archival weather logbooks into checked data.",
        subcommands: [Train.self, Evaluate.self, Synth.self, EvaluateCells.self, Convert.self, Bench.self, Calibrate.self,
                      Run.self, Merge.self, StageCommand.self, Status.self, Score.self, Harvest.self, TrainCells.self,
                      Review.self, Export.self, PseudoLabel.self, Average.self, PoolCells.self, Adapt.self])
}

/// Options every compute-heavy command shares.
struct ComputeOptions: ParsableArguments {
    @Option(help: "Threads for OpenBLAS and our own loops.")
    var threads: Int = 2

    func validate() throws {
        guard threads >= 1 && threads <= 256 else { throw ValidationError("--threads must be between 1 and 256") }
    }

    func apply() { Threads.set(threads) }
}
