import Foundation
import Imaging
import NeuralNet
import Recognition

// Stage 4, normalize: every digit of every cell that will be classified -> 64 x 64, ink = 1, with
// Recognition's `DigitNormalizer` (aspect kept, box 48 px, centred by mass): the same code the
// training digits went through. Output: `normalized.bin`, the float32 values, zlib-compressed.

public struct NormalizedDigits: Equatable, Sendable {
    /// count x 64 x 64, cell by cell (cells in `SegmentedPage.cells` order): the digits left to
    /// right, then the joined candidates (`SegmentedCell.joins`).
    public var values: [Float]
    public var count: Int { values.count / NormalizeStage.pixels }
}

public enum NormalizeStage {
    static let pixels = DigitNormalizer.side * DigitNormalizer.side

    /// Whether a cell's digits are normalised and classified (too many digits: unreadable as is).
    public static func isClassified(_ cell: SegmentedCell, maxDigits: Int) -> Bool {
        CellReader.classifies(digitCount: cell.digits.count, maxDigits: maxDigits)
    }

    /// The stage's work on one page.
    public static func normalize(_ page: SegmentedPage) throws -> NormalizedDigits {
        let cells = page.cells.filter { isClassified($0, maxDigits: page.maxDigits) }
        var perCell = [[Float]](repeating: [], count: cells.count)
        var failure: Error?
        let lock = NSLock()
        perCell.withUnsafeMutableBufferPointer { slots in
            Threads.forEachChunk(cells.count, minimumPerChunk: 8) { range in
                for index in range {
                    do {
                        let cut = try SegmentStage.cut(of: cells[index])
                        var values: [Float] = []
                        values.reserveCapacity(cells[index].entryCount * pixels)
                        for digit in cut.digits { values += DigitNormalizer.normalize(scan: digit.image) }
                        for join in cells[index].joins {
                            guard join.count == 2, join[0] >= 0, join[0] + 1 < join[1], join[1] <= cut.digits.count else {
                                throw PipelineError(path: "", problem: "damaged join \(join) in segment.json")
                            }
                            values += DigitNormalizer.normalize(scan: cut.joined(join[0]..<join[1]).image)
                        }
                        slots[index] = values
                    } catch {
                        lock.lock(); failure = error; lock.unlock()
                    }
                }
            }
        }
        if let failure { throw failure }
        return NormalizedDigits(values: perCell.flatMap { $0 })
    }

    // MARK: I/O

    static let outputName = "normalized.bin"
    static let magic: [UInt8] = Array("LBND1\n".utf8)

    static func encode(_ digits: NormalizedDigits) -> Data {
        var raw = [UInt8](repeating: 0, count: digits.values.count * 4)
        raw.withUnsafeMutableBytes { target in
            digits.values.withUnsafeBytes { source in target.copyMemory(from: source) }
        }
        var count = UInt32(digits.count).littleEndian
        var data = Data(magic)
        withUnsafeBytes(of: &count) { data.append(contentsOf: $0) }
        data.append(contentsOf: Deflate.compress(raw))
        return data
    }

    static func decode(_ data: Data, path: String) throws -> NormalizedDigits {
        let bytes = [UInt8](data)
        guard bytes.count >= magic.count + 4, Array(bytes[0..<magic.count]) == magic else {
            throw PipelineError(path: path, problem: "not a normalized-digits file")
        }
        let countBytes = bytes[magic.count..<(magic.count + 4)]
        let count = countBytes.reversed().reduce(0) { $0 << 8 | Int($1) }
        let raw = try Deflate.decompress(Array(bytes[(magic.count + 4)...]), expectedCount: count * pixels * 4, path: path)
        var values = [Float](repeating: 0, count: count * pixels)
        values.withUnsafeMutableBytes { target in raw.withUnsafeBytes { target.copyMemory(from: $0) } }
        return NormalizedDigits(values: values)
    }

    static func run(page: SegmentedPage, record: PageRecord, inputs: [String: String], fingerprint: String,
                    folder: RunFolder) throws -> (NormalizedDigits, StageRecord) {
        let start = Clock.tick
        let digits = try normalize(page)
        let relative = folder.pageFile(record.id, outputName)
        let data = encode(digits)
        try AtomicFile.write(data, to: folder.path(relative))
        return (digits, StageRecord(status: .done, inputs: inputs, parameters: fingerprint,
                                    outputs: [relative: SHA256.hex(data)], seconds: Clock.seconds(since: start),
                                    finished: Clock.now(), error: nil, info: ["digits": String(digits.count)]))
    }

    static func load(record: PageRecord, folder: RunFolder) throws -> NormalizedDigits {
        let path = folder.path(folder.pageFile(record.id, outputName))
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PipelineError(path: path, problem: "missing (run the normalize stage)")
        }
        return try decode(data, path: path)
    }
}
