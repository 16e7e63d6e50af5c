import Foundation
import Imaging

// Stage 1, ingest: the scans named on the command line (files, or folders searched recursively),
// in a stable order (path, then page in the file), each file with its sha256, size and time, and
// each page with an id unique in the run. Decoding (PNG, JPEG, TIFF incl. multi-page, the pixel
// limit) is Imaging's `forEachImagePage`; pages are decoded one at a time when a stage needs them.

/// One scan file, fingerprinted.
public struct ScanFile: Equatable, Sendable {
    public var path: String
    public var sha256: String
    public var bytes: Int
    /// Modification time, seconds since 1970.
    public var modified: Double
    /// The id its first page gets (later pages add `-p0002`, ...).
    public var id: String
}

public enum IngestStage {
    /// The image files the arguments name: a file as given (whatever its extension: scanners
    /// mislabel files; the decoder goes by content), a folder searched recursively for the
    /// `extensions` (hidden entries skipped). Sorted by path, each once.
    /// - Throws: when an argument does not exist.
    public static func scanPaths(_ arguments: [String], extensions: [String]) throws -> [String] {
        let wanted = Set(extensions.map { $0.lowercased() })
        var paths: [String] = []
        let manager = FileManager.default
        for argument in arguments {
            var isFolder: ObjCBool = false
            guard manager.fileExists(atPath: argument, isDirectory: &isFolder) else {
                throw PipelineError(path: argument, problem: "no such file or folder")
            }
            guard isFolder.boolValue else {
                paths.append(argument)
                continue
            }
            guard let walker = manager.enumerator(atPath: argument) else {
                throw PipelineError(path: argument, problem: "folder cannot be read")
            }
            var found: [String] = []
            while let relative = walker.nextObject() as? String {
                let name = (relative as NSString).lastPathComponent
                if name.hasPrefix(".") {
                    walker.skipDescendants()
                    continue
                }
                guard wanted.contains((name as NSString).pathExtension.lowercased()) else { continue }
                let full = (argument as NSString).appendingPathComponent(relative)
                var entryIsFolder: ObjCBool = false
                if manager.fileExists(atPath: full, isDirectory: &entryIsFolder), !entryIsFolder.boolValue {
                    found.append(full)
                }
            }
            paths += found
        }
        var seen = Set<String>()
        return paths.sorted().filter { seen.insert(($0 as NSString).standardizingPath).inserted }
    }

    /// Page ids for `paths` (in order): the file name without extension, made safe for file
    /// names; where two files share a name, their folders are joined in (`a_b_name`).
    public static func pageIDs(for paths: [String]) -> [String] {
        func safe(_ text: String) -> String {
            String(text.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
        }
        let stems = paths.map { safe((($0 as NSString).lastPathComponent as NSString).deletingPathExtension) }
        var counts: [String: Int] = [:]
        for stem in stems { counts[stem, default: 0] += 1 }
        var ids = paths.indices.map { index -> String in
            guard counts[stems[index]]! > 1 else { return stems[index] }
            let components = (paths[index] as NSString).standardizingPath.split(separator: "/").map(String.init)
            let withoutExtension = components.dropLast() + [(components.last.map { ($0 as NSString).deletingPathExtension } ?? "")]
            return safe(withoutExtension.suffix(3).joined(separator: "_"))
        }
        // Still equal (same folder names too): number them.
        var used: [String: Int] = [:]
        for index in ids.indices {
            let id = ids[index]
            used[id, default: 0] += 1
            if used[id]! > 1 { ids[index] = id + "-\(used[id]!)" }
        }
        return ids
    }

    /// The id of page `pageIndex` of a file whose first page is `fileID`.
    public static func pageID(fileID: String, pageIndex: Int) -> String {
        guard pageIndex > 0 else { return fileID }
        let number = String(pageIndex + 1)
        return fileID + "-p" + String(repeating: "0", count: max(0, 4 - number.count)) + number
    }

    /// Fingerprints a file. When `known` (an earlier record of the same path) has the same size
    /// and modification time, its sha256 is reused instead of reading the file again.
    public static func fingerprint(path: String, id: String, known: PageRecord?) throws -> ScanFile {
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: path)
        } catch {
            throw PipelineError(path: path, problem: "cannot be read: \((error as NSError).localizedDescription)")
        }
        let bytes = (attributes[.size] as? NSNumber)?.intValue ?? 0
        let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        if let known, known.bytes == bytes, known.modified == modified, !known.sha256.isEmpty {
            return ScanFile(path: path, sha256: known.sha256, bytes: bytes, modified: modified, id: id)
        }
        return ScanFile(path: path, sha256: try SHA256.hex(fileAt: path), bytes: bytes, modified: modified, id: id)
    }

    /// The manifest record of a decoded page (stage records carried over from `previous` when
    /// it is the same page of the same file).
    static func pageRecord(file: ScanFile, page: DecodedPage?, pageIndex: Int, previous: PageRecord?) -> PageRecord {
        var record = PageRecord(id: pageID(fileID: file.id, pageIndex: pageIndex), source: file.path, pageIndex: pageIndex,
                                sha256: file.sha256, bytes: file.bytes, modified: file.modified,
                                width: page?.image.width ?? previous?.width, height: page?.image.height ?? previous?.height,
                                dpi: page?.dpi ?? previous?.dpi)
        if let previous, previous.sha256 == file.sha256, previous.pageIndex == pageIndex {
            record.stages = previous.stages
        }
        record.stages.removeValue(forKey: StageName.ingest.rawValue)
        return record
    }

    /// The inputs a page's binarize stage depends on: the scan's bytes and the page in it.
    static func binarizeInputs(_ page: PageRecord) -> [String: String] {
        ["scan": page.sha256, "page": String(page.pageIndex)]
    }
}
