import Foundation

/// `logbook status`: each stage's counts and each page's state, from the manifest alone.
public enum RunStatus {
    public static func text(_ m: RunManifest, folder: String) -> String {
        let complete = m.pages.filter(\.isComplete).count
        let failed = m.pages.filter { $0.failure != nil }.count
        var lines: [String] = []
        lines.append("run \(folder): \(m.pages.count) pages, \(complete) finished, \(failed) failed; updated \(m.updated)")
        lines.append("  pipeline \(m.pipeline.source)" + (m.pipeline.overrides.isEmpty ? "" : " with " + m.pipeline.overrides.joined(separator: " "))
                     + " (\(m.pipeline.path), sha256 \(m.pipeline.sha256.prefix(12)))")
        lines.append("  model \(m.model.path) (sha256 \(m.model.sha256.prefix(12)), temperature \(m.model.temperature)); \(m.software)")
        if let shard = m.shard {
            lines.append("  shard \(shard.index)/\(shard.count) (\(shard.files) scan files): "
                         + (shard.completed.map { "completed \($0)" } ?? "not finished (running, or killed: run it again)"))
        }
        lines.append("")
        lines.append(pad("stage", 11) + pad("done", 7) + pad("stale", 7) + pad("failed", 8) + pad("not run", 9) + "seconds")
        for stage in StageName.allCases where stage != .export {
            var done = 0, stale = 0, failures = 0, missing = 0, seconds = 0.0
            for page in m.pages {
                guard let record = page.record(stage) else { missing += 1; continue }
                seconds += record.seconds
                switch record.status {
                case .done: done += 1
                case .stale: stale += 1
                case .failed: failures += 1
                }
            }
            lines.append(pad(stage.rawValue, 11) + pad(String(done), 7) + pad(String(stale), 7) + pad(String(failures), 8)
                         + pad(String(missing), 9) + String(format: "%.2f", seconds))
        }
        if let export = m.export {
            let info = (export.info ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            lines.append(pad("export", 11) + export.status.rawValue + " (" + info + String(format: ", %.2f s)", export.seconds))
        } else {
            lines.append(pad("export", 11) + "not run")
        }
        lines.append("")
        let idWidth = max(6, (m.pages.map(\.id.count).max() ?? 0) + 2)
        lines.append(pad("page", idWidth) + StageName.pageStagesWithIngest.map { pad($0.rawValue, 11) }.joined() + "result")
        for page in m.pages {
            var line = pad(page.id, idWidth)
            for stage in StageName.pageStagesWithIngest {
                line += pad(page.record(stage)?.status.rawValue ?? "-", 11)
            }
            if let failure = page.failure {
                line += "FAILED at \(failure.stage.rawValue): \(failure.error)"
            } else if let info = page.record(.classify)?.info, page.record(.classify)?.status == .done {
                line += ["ok", "review", "empty", "unreadable"].compactMap { key in info[key].map { "\(key) \($0)" } }.joined(separator: ", ")
                if let skew = page.record(.binarize)?.info?["skew"], let angle = Double(skew) { line += String(format: "; skew %.2f", angle) }
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}

extension StageName {
    static let pageStagesWithIngest: [StageName] = [.ingest] + pageStages
}
