import Foundation

/// The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
/// `{name: {dtype, shape, data_offsets}, "__metadata__": {...}}`, then raw little-endian data.
/// PyTorch state_dicts round-trip through it by name, which is how our checkpoints and
/// PyTorch's meet.
public struct SafeTensors {
    public enum DType: String, Sendable {
        case f32 = "F32", f16 = "F16", bf16 = "BF16", f64 = "F64", i64 = "I64", i32 = "I32", u8 = "U8"

        var byteSize: Int {
            switch self {
            case .f32, .i32: return 4
            case .f16, .bf16: return 2
            case .f64, .i64: return 8
            case .u8: return 1
            }
        }
    }

    /// Tensors in file order (sorted by name when written by us).
    public var tensors: [(name: String, tensor: Tensor)]
    public var metadata: [String: String]

    public init(tensors: [(name: String, tensor: Tensor)] = [], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    public var byName: [String: Tensor] {
        Dictionary(tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { first, _ in first })
    }

    // MARK: Reading

    public static func read(path: String) throws -> SafeTensors {
        guard FileManager.default.fileExists(atPath: path) else {
            throw SafeTensorsError(path: path, problem: "no such file")
        }
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw SafeTensorsError(path: path, problem: "cannot be read")
        }
        return try decode(bytes, path: path)
    }

    public static func decode(_ bytes: Data, path: String) throws -> SafeTensors {
        func fail(_ problem: String) -> SafeTensorsError { SafeTensorsError(path: path, problem: problem) }
        guard bytes.count >= 8 else { throw fail("too short to be a safetensors file (\(bytes.count) bytes)") }
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(bytes[bytes.startIndex + i]) << (8 * UInt64(i)) }
        guard headerLength >= 2, headerLength <= UInt64(bytes.count - 8) else {
            throw fail("truncated, or not a safetensors file: its header says \(headerLength) bytes but the file has \(bytes.count)")
        }
        let headerEnd = 8 + Int(headerLength)
        let headerData = bytes[(bytes.startIndex + 8)..<(bytes.startIndex + headerEnd)]
        guard let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
            throw fail("not a safetensors file: the header is not a JSON object")
        }
        let dataStart = headerEnd
        let dataSize = bytes.count - dataStart
        var metadata: [String: String] = [:]
        if let meta = header["__metadata__"] as? [String: Any] {
            for (k, v) in meta { metadata[k] = v as? String ?? "\(v)" }
        }
        var entries: [(name: String, begin: Int, end: Int, dtype: DType, shape: [Int])] = []
        for (name, value) in header where name != "__metadata__" {
            guard let info = value as? [String: Any],
                  let dtypeName = info["dtype"] as? String,
                  let shapeValues = info["shape"] as? [Any],
                  let offsets = info["data_offsets"] as? [Any], offsets.count == 2 else {
                throw fail("tensor '\(name)' lacks dtype, shape or data_offsets")
            }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw fail("tensor '\(name)' has unsupported dtype \(dtypeName)")
            }
            let shape = shapeValues.compactMap { ($0 as? NSNumber)?.intValue }
            let bounds = offsets.compactMap { ($0 as? NSNumber)?.intValue }
            guard shape.count == shapeValues.count, shape.allSatisfy({ $0 >= 0 }), bounds.count == 2 else {
                throw fail("tensor '\(name)' has a malformed shape or offsets")
            }
            let expected = shape.reduce(1, *) * dtype.byteSize
            guard bounds[0] >= 0, bounds[1] >= bounds[0], bounds[1] - bounds[0] == expected else {
                throw fail("tensor '\(name)': offsets \(bounds) do not hold shape \(shape) of \(dtypeName)")
            }
            guard bounds[1] <= dataSize else {
                throw fail("truncated: tensor '\(name)' ends at byte \(bounds[1]) of \(dataSize) data bytes")
            }
            entries.append((name, bounds[0], bounds[1], dtype, shape))
        }
        entries.sort { $0.begin < $1.begin }
        var tensors: [(name: String, tensor: Tensor)] = []
        tensors.reserveCapacity(entries.count)
        bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress! + dataStart
            for entry in entries {
                let count = entry.shape.reduce(1, *)
                var values = [Float](repeating: 0, count: count)
                let src = base + entry.begin
                for i in 0..<count {
                    switch entry.dtype {
                    case .f32: values[i] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                    case .f16: values[i] = Float(Float16(bitPattern: UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))))
                    case .bf16: values[i] = Float(bitPattern: UInt32(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
                    case .f64: values[i] = Float(Double(bitPattern: UInt64(littleEndian: src.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
                    case .i64: values[i] = Float(Int64(littleEndian: src.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
                    case .i32: values[i] = Float(Int32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
                    case .u8: values[i] = Float(src.load(fromByteOffset: i, as: UInt8.self))
                    }
                }
                tensors.append((entry.name, Tensor(shape: entry.shape, data: values)))
            }
        }
        return SafeTensors(tensors: tensors, metadata: metadata)
    }

    // MARK: Writing

    /// Encodes every tensor as `dtype`, except PyTorch's integer counters (`num_batches_tracked`),
    /// which stay int64 so that `torch.load_state_dict` accepts the file as it is.
    public func encoded(dtype: DType = .f32) -> Data {
        precondition(dtype == .f32 || dtype == .f16, "safetensors: we write F32 or F16 tensors")
        let ordered = tensors.sorted { $0.name < $1.name }
        var header: [String: Any] = [:]
        var offset = 0
        var types: [DType] = []
        for (name, tensor) in ordered {
            let type: DType = name.hasSuffix("num_batches_tracked") ? .i64 : dtype
            types.append(type)
            let size = tensor.count * type.byteSize
            header[name] = ["dtype": type.rawValue, "shape": tensor.shape, "data_offsets": [offset, offset + size]]
            offset += size
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var headerBytes = (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data("{}".utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var out = Data(capacity: 8 + headerBytes.count + offset)
        var length = UInt64(headerBytes.count).littleEndian
        withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
        out.append(headerBytes)
        for ((_, tensor), type) in zip(ordered, types) {
            switch type {
            case .i64:
                for v in tensor.data { var x = Int64(v).littleEndian; withUnsafeBytes(of: &x) { out.append(contentsOf: $0) } }
            case .f16:
                var bits = [UInt16](repeating: 0, count: tensor.count)
                for i in 0..<tensor.count { bits[i] = Float16(tensor.data[i]).bitPattern.littleEndian }
                bits.withUnsafeBytes { out.append(contentsOf: $0) }
            default:
                var bits = [UInt32](repeating: 0, count: tensor.count)
                for i in 0..<tensor.count { bits[i] = tensor.data[i].bitPattern.littleEndian }
                bits.withUnsafeBytes { out.append(contentsOf: $0) }
            }
        }
        return out
    }

    /// Writes atomically: a temporary file beside the target, then a rename, so a killed run
    /// never leaves half a checkpoint.
    public func write(to path: String, dtype: DType = .f32) throws {
        try writeAtomically(encoded(dtype: dtype), to: path)
    }
}

public struct SafeTensorsError: Error, CustomStringConvertible, Equatable {
    public var path: String
    public var problem: String
    public var description: String { "\(path): \(problem)" }
}

/// Writes `data` to a temporary file in the target's folder and renames it over the target.
public func writeAtomically(_ data: Data, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    let folder = url.deletingLastPathComponent()
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
    try data.write(to: temporary)
    if rename(temporary.path, url.path) != 0 {
        let reason = String(cString: strerror(errno))
        try? FileManager.default.removeItem(at: temporary)
        throw SafeTensorsError(path: path, problem: "cannot be written: \(reason)")
    }
}
