/// A failure to read or write an image, phrased for the person running the CLI: the description
/// always starts with the file so that a batch of hundreds of scans points at the bad one.
public struct ImagingError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Broad categories, so callers can react (skip a page, stop the run) without parsing text.
    public enum Kind: Sendable, Equatable {
        /// The file could not be opened or read at all (missing, permissions, a directory).
        case unreadable
        /// The bytes are not a PNG, JPEG or TIFF image.
        case unsupportedFormat
        /// The file is a known format but its data is damaged or cut short.
        case corrupt
        /// The image is larger than the caller's pixel limit.
        case tooLarge
        /// Writing an image failed.
        case writeFailed
        /// The caller passed something that cannot be encoded (e.g. an empty image).
        case invalidArgument
    }

    public var path: String
    public var kind: Kind
    /// What went wrong, without the path.
    public var problem: String

    public init(path: String, kind: Kind, problem: String) {
        self.path = path
        self.kind = kind
        self.problem = problem
    }

    public var description: String { "\(path): \(problem)" }
}
