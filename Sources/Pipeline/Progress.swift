import Foundation

/// Progress on stderr: pages done of the expected total, digits classified per second and the
/// time left. On a terminal one line redrawn in place with a bar; otherwise (a log file, a batch
/// job) a plain line every few seconds and at the end.
public final class RunProgress: @unchecked Sendable {
    let total: Int
    let start = Clock.tick
    let isTerminal: Bool
    let quiet: Bool
    var lastPrinted: UInt64 = 0
    var pages = 0, failed = 0, skipped = 0, digits = 0
    let lock = NSLock()

    public init(totalPages: Int, quiet: Bool = false) {
        total = max(totalPages, 1)
        isTerminal = isatty(2) != 0
        self.quiet = quiet
    }

    /// One page finished (`skipped`: nothing had to be done; `failed`: it failed).
    func pageDone(digits newDigits: Int, failed didFail: Bool, skipped wasSkipped: Bool) {
        lock.lock()
        defer { lock.unlock() }
        pages += 1
        digits += newDigits
        if didFail { failed += 1 }
        if wasSkipped { skipped += 1 }
        let now = Clock.tick
        if now - lastPrinted > (isTerminal ? 200_000_000 : 5_000_000_000) || pages == total {
            lastPrinted = now
            print(final: false)
        }
    }

    public func finish() {
        lock.lock()
        defer { lock.unlock() }
        print(final: true)
    }

    private func print(final: Bool) {
        guard !quiet else { return }
        let elapsed = max(Clock.seconds(since: start), 1e-9)
        let worked = max(pages - skipped, 0)
        let perPage = worked > 0 ? elapsed / Double(worked) : 0
        let left = Double(max(total - pages, 0)) * perPage
        var line = "\(pages)/\(max(total, pages)) pages"
        if failed > 0 { line += ", \(failed) failed" }
        if skipped > 0 { line += ", \(skipped) unchanged" }
        line += String(format: ", %.0f digits/s, %.2f pages/s", Double(digits) / elapsed, Double(worked) / elapsed)
        line += final ? String(format: ", %.1f s", elapsed) : ", ETA " + RunProgress.duration(left)
        if isTerminal {
            let width = 24
            let filled = min(width, Int(Double(width) * Double(pages) / Double(max(total, pages))))
            let bar = "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + bar + line + (final ? "\n" : "")).utf8))
        } else {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%dh%02dm", s / 3600, (s % 3600) / 60)
            : s >= 60 ? String(format: "%dm%02ds", s / 60, s % 60) : "\(s)s"
    }
}
