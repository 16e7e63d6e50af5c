/// A digit data file that cannot be used, phrased for the person running the CLI: the
/// description starts with the file and says what is wrong with it, so a bad download or a
/// misplaced folder is found without a debugger.
public struct DatasetError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Broad categories, so that callers and tests can react without parsing text.
    public enum Kind: String, Sendable, Equatable {
        /// The file or folder does not exist.
        case missingFile
        /// It exists but cannot be read (permissions, a folder where a file was expected, bad gzip data).
        case unreadable
        /// An IDX file's magic number is not the expected one (wrong file, or not IDX at all).
        case badMagicNumber
        /// The file ends before the data its header announces.
        case truncated
        /// Two parts disagree on the number of digits (IDX images vs labels), or a file has more
        /// data than its header announces.
        case countMismatch
        /// A label outside 0...9.
        case badLabel
        /// A pixel value that is not a number in 0...255, or a grid image of the wrong size.
        case badValue
        /// A CSV row with the wrong number of columns.
        case badRow
        /// An image file in a digit folder that cannot be decoded.
        case badImage
        /// A folder that holds no digit images.
        case noImages
        /// A source spec that names neither a known data set nor a usable path.
        case unknownSource
        /// Files that cannot be taken together (reports read at different review thresholds, or
        /// holding the same station).
        case incompatible
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
