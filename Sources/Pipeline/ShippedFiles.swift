import Foundation

/// The files Logbook ships beside its sources (`models/logbook-digits.safetensors`,
/// `models/logbook-cells.safetensors`, `pipelines/default.yaml`), found from wherever the tool
/// runs: an archivist runs it in the archive's folder, not in the checkout. A relative path is
/// taken as it is when it exists from the working directory (so a run started in the checkout
/// keeps recording the same paths); else under `$LOGBOOK_HOME`; else in the folders above the
/// executable (`.build/release/logbook` sits three levels below the checkout). When none has it
/// the path comes back unchanged, and the error about it names it as given.
public enum ShippedFiles {
    /// Folders above the executable that are searched.
    static let executableLevels = 6

    public static func path(_ relative: String, environment: [String: String] = ProcessInfo.processInfo.environment,
                            executable: String? = executablePath()) -> String {
        let files = FileManager.default
        guard !relative.hasPrefix("/"), !files.fileExists(atPath: relative) else { return relative }
        var folders: [String] = []
        if let home = environment["LOGBOOK_HOME"], !home.isEmpty { folders.append(home) }
        if let executable {
            var folder = (executable as NSString).deletingLastPathComponent
            for _ in 0..<executableLevels where !folder.isEmpty && folder != "/" {
                folders.append(folder)
                folder = (folder as NSString).deletingLastPathComponent
            }
        }
        for folder in folders {
            let candidate = (folder as NSString).appendingPathComponent(relative)
            if files.fileExists(atPath: candidate) { return candidate }
        }
        return relative
    }

    /// The running executable, symbolic links resolved (nil when unknown).
    public static func executablePath() -> String? {
        if let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return link }
        guard let first = CommandLine.arguments.first, first.contains("/") else { return nil }
        let absolute = first.hasPrefix("/") ? first : FileManager.default.currentDirectoryPath + "/" + first
        return (absolute as NSString).resolvingSymlinksInPath
    }
}
