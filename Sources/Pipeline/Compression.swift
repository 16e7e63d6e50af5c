import CZlib
import Foundation

/// zlib (deflate) for the intermediate files of a run: normalised digits are mostly zeros, and
/// storing them compressed keeps a run folder of hundreds of pages small.
enum Deflate {
    static func compress(_ data: [UInt8], level: Int32 = 1) -> [UInt8] {
        var capacity = compressBound(uLong(data.count))
        var output = [UInt8](repeating: 0, count: Int(capacity))
        let status = data.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                compress2(out.baseAddress, &capacity, input.baseAddress, uLong(input.count), level)
            }
        }
        precondition(status == Z_OK, "zlib compress2 failed (\(status))")
        return Array(output[0..<Int(capacity)])
    }

    /// Inflates `data` into exactly `expectedCount` bytes, or throws naming `path`.
    static func decompress(_ data: [UInt8], expectedCount: Int, path: String) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: expectedCount)
        var length = uLongf(expectedCount)
        let status = data.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                uncompress(out.baseAddress, &length, input.baseAddress, uLong(input.count))
            }
        }
        guard status == Z_OK, Int(length) == expectedCount else {
            throw PipelineError(path: path, problem: "damaged compressed data (zlib status \(status), \(length) of \(expectedCount) bytes)")
        }
        return output
    }
}
