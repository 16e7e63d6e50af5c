/// A pipeline failure phrased for the person running the CLI: the file (or run folder) first,
/// then what is wrong with it.
public struct PipelineError: Error, CustomStringConvertible, Equatable, Sendable {
    public var path: String
    public var problem: String

    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { path.isEmpty ? problem : "\(path): \(problem)" }
}
