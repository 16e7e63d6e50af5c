import Foundation

/// Paths inside a run folder. Per-page files live in `pages/<id>/`, so pages never share a file
/// (and shards of one run, later, never write the same file).
public struct RunFolder: Sendable {
    public let root: String

    public init(_ root: String) { self.root = root }

    public func path(_ relative: String) -> String { (root as NSString).appendingPathComponent(relative) }

    public func pageFile(_ pageID: String, _ name: String) -> String { "pages/\(pageID)/\(name)" }

    public func makeFolder(for relative: String) throws {
        let folder = (path(relative) as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    public func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: path(relative)) }

    public static let pipelineFile = "pipeline.yaml"
    public static let transcriptionFile = "transcription.csv"
    public static let reviewFolder = "review"
}
