import Foundation
import Imaging

/// Transcribed cells -> a digit folder (`0/` ... `9/`) that `logbook train --data` reads: how an
/// archive with hand transcriptions teaches Logbook its own hands.
public struct HarvestReport: Sendable {
    public var summary: ArchivalCutSummary
    /// Image files written, per class.
    public var written = [Int](repeating: 0, count: 10)
    public var index: String
}

extension ArchivalCells {
    /// Cuts each cell of `truth`, keeps the cells whose digits align one to one with a way of
    /// writing the transcribed value (`readings(of:)`: 20 may be written 20 or 20.0) and writes
    /// each of their digits as a 64x64 PNG (dark ink on white, normalised like the training sets)
    /// into `folder/<digit>/`, with `harvest.csv` listing file, label and source cell. Cells whose
    /// digit count does not match are left out: a wrong alignment would teach wrong labels.
    /// Files are written atomically; a re-run over the same truth rewrites the same names.
    public static func harvest(truth: [CellTruth], into folder: String) throws -> HarvestReport {
        let (dataset, summary) = labelledDigits(truth: truth, originPrefix: "cell")
        let byName = Dictionary(truth.map { (($0.imagePath as NSString).lastPathComponent, $0) },
                                uniquingKeysWith: { first, _ in first })
        var report = HarvestReport(summary: summary, index: "")
        var lines = ["file,label,cell_image,station,digit_index,value"]
        let side = DigitNormalizer.side, pixels = side * side
        for digit in 0...9 {
            try FileManager.default.createDirectory(atPath: folder + "/\(digit)", withIntermediateDirectories: true)
        }
        for index in 0..<dataset.count {
            // origin: "cell:<image file name>#<digit index>"
            let origin = dataset.origins[index].dropFirst("cell:".count)
            let hash = origin.lastIndex(of: "#")!
            let name = String(origin[..<hash]), digitIndex = String(origin[origin.index(after: hash)...])
            let label = dataset.labels[index]
            let stem = (name as NSString).deletingPathExtension
            let file = "\(label)/\(stem)_\(digitIndex).png"
            let ink = dataset.images[(index * pixels)..<((index + 1) * pixels)]
            try writePNG(GrayImage(width: side, height: side, pixels: ink.map { 1 - $0 }), to: folder + "/" + file)
            report.written[label] += 1
            let cell = byName[name]
            lines.append([file, String(label), cell?.imagePath ?? name, cell?.station ?? "", digitIndex, cell?.value ?? ""]
                .map(csvField).joined(separator: ","))
        }
        report.index = folder + "/harvest.csv"
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: report.index), options: .atomic)
        return report
    }

    private static func csvField(_ text: String) -> String {
        text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" })
            ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }
}
