import ArgumentParser

@main
struct Logbook: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logbook",
        abstract: "Transcribe handwritten archival weather logbooks into checked data.",
        subcommands: [])
}
