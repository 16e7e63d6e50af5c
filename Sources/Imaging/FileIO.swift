#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

private func errnoDescription(_ code: Int32) -> String {
    String(cString: strerror(code))
}

/// Reads a whole file. POSIX calls rather than Foundation so that the error names the real cause
/// ("No such file or directory", "Is a directory") instead of a generic Cocoa message.
func readFileBytes(at path: String) throws -> [UInt8] {
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else {
        throw ImagingError(path: path, kind: .unreadable, problem: "cannot open: \(errnoDescription(errno))")
    }
    defer { close(descriptor) }
    var status = stat()
    guard fstat(descriptor, &status) == 0 else {
        throw ImagingError(path: path, kind: .unreadable, problem: "cannot stat: \(errnoDescription(errno))")
    }
    if (status.st_mode & S_IFMT) == S_IFDIR {
        throw ImagingError(path: path, kind: .unreadable, problem: "is a directory, not an image file")
    }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(max(0, Int(status.st_size)))
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == EINTR { continue }
            throw ImagingError(path: path, kind: .unreadable, problem: "read failed: \(errnoDescription(errno))")
        }
        if count == 0 { break }
        bytes.append(contentsOf: chunk[0..<count])
    }
    return bytes
}

/// Reads at most `count` bytes from the start of a file, for format sniffing without loading a
/// large TIFF that libtiff will read (and memory-map) itself.
func readFilePrefix(at path: String, count: Int) throws -> [UInt8] {
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else {
        throw ImagingError(path: path, kind: .unreadable, problem: "cannot open: \(errnoDescription(errno))")
    }
    defer { close(descriptor) }
    var status = stat()
    if fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR {
        throw ImagingError(path: path, kind: .unreadable, problem: "is a directory, not an image file")
    }
    var prefix = [UInt8](repeating: 0, count: count)
    var filled = 0
    while filled < count {
        let got = prefix.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + filled, count - filled) }
        if got < 0 {
            if errno == EINTR { continue }
            throw ImagingError(path: path, kind: .unreadable, problem: "read failed: \(errnoDescription(errno))")
        }
        if got == 0 { break }
        filled += got
    }
    return Array(prefix[0..<filled])
}

/// A temporary path next to `path`, so the final rename stays on one file system and is atomic.
func temporarySiblingPath(for path: String) -> String {
    let slash = path.lastIndex(of: "/")
    let directory = slash.map { String(path[...$0]) } ?? ""
    let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
    return "\(directory).\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
}

/// Runs `produce` to create a file at a temporary sibling path and renames it over `path` only if
/// it succeeds, so a reader (or a crash) never sees a half-written image.
func writeAtomically(to path: String, _ produce: (_ temporaryPath: String) throws -> Void) throws {
    let temporary = temporarySiblingPath(for: path)
    do {
        try produce(temporary)
    } catch {
        unlink(temporary)
        throw error
    }
    guard rename(temporary, path) == 0 else {
        let reason = errnoDescription(errno)
        unlink(temporary)
        throw ImagingError(path: path, kind: .writeFailed, problem: "cannot move the new file into place: \(reason)")
    }
}

/// Writes `bytes` to `path` atomically (temporary sibling, fsync, rename).
func writeFileAtomically(_ bytes: UnsafeRawBufferPointer, to path: String) throws {
    try writeAtomically(to: path) { temporary in
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else {
            throw ImagingError(path: path, kind: .writeFailed, problem: "cannot create: \(errnoDescription(errno))")
        }
        defer { close(descriptor) }
        var written = 0
        while written < bytes.count {
            let count = write(descriptor, bytes.baseAddress! + written, bytes.count - written)
            if count < 0 {
                if errno == EINTR { continue }
                throw ImagingError(path: path, kind: .writeFailed, problem: "write failed: \(errnoDescription(errno))")
            }
            written += count
        }
        guard fsync(descriptor) == 0 else {
            throw ImagingError(path: path, kind: .writeFailed, problem: "fsync failed: \(errnoDescription(errno))")
        }
    }
}

/// Flushes a file that another library wrote (libtiff) to disk before it is renamed into place.
func syncFile(at temporaryPath: String, reportingAs path: String) throws {
    let descriptor = open(temporaryPath, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else {
        throw ImagingError(path: path, kind: .writeFailed, problem: "cannot reopen to sync: \(errnoDescription(errno))")
    }
    defer { close(descriptor) }
    guard fsync(descriptor) == 0 else {
        throw ImagingError(path: path, kind: .writeFailed, problem: "fsync failed: \(errnoDescription(errno))")
    }
}

func writeFileAtomically(_ bytes: [UInt8], to path: String) throws {
    try bytes.withUnsafeBytes { try writeFileAtomically($0, to: path) }
}
