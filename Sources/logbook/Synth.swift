import ArgumentParser
import Foundation
import NeuralNet
import Pipeline
import Recognition

struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write synthetic handwritten logbook pages (PNG, JPEG, TIFF) and their truth.csv.",
        discussion: """
            The handwriting comes from the test split of the digit corpus (--split-seed), digits no model \
            was trained on. Pages to train on (`--handwriting train`) take the training split instead, \
            so pages for evaluation stay unseen.
            """)

    enum Handwriting: String, ExpressibleByArgument, CaseIterable { case test, train }

    @OptionGroup var compute: ComputeOptions
    @Option(help: "Output folder.") var out: String
    @Option(help: "Number of pages.") var pages: Int = 10
    @Option(help: "Seed; the same seed gives the same pages byte for byte.") var seed: UInt64 = 1
    @Option(help: "Page width in pixels.") var width: Int = 1700
    @Option(help: "Page height in pixels.") var height: Int = 2200
    @Option(help: "Day rows under the header.") var rows: Int = 31
    @Option(help: "File formats, cycled by page: png, jpeg, tiff-lzw, tiff-deflate, tiff-g4 (comma-separated).")
    var formats: String = "png,jpeg,tiff-lzw,jpeg,tiff-g4"
    @Option(help: "Resolution written into the files.") var dpi: Double = 200
    @Option(help: "Page ids are PREFIX-0001, PREFIX-0002, ...") var idPrefix: String = "synth"
    @Option(help: "Wear: 0 clean, 1 standard (paper, fading, bleed, stains, fold, skew, light, noise).") var wear: Double = 1
    @Option(help: "Seed of the digit corpus split whose test part supplies the handwriting.") var splitSeed: UInt64 = 2024
    @Option(help: "Which part of the split writes the digits: test (pages to evaluate on) or train (pages to train on).")
    var handwriting: Handwriting = .test
    @Option(help: "Folder with the standard digit files.")
    var dataRoot: String = ProcessInfo.processInfo.environment["LOGBOOK_DIGITS"] ?? "../shared/data/digits"

    func validate() throws {
        guard pages >= 1 && pages <= 100_000 else { throw ValidationError("--pages must be between 1 and 100000") }
        guard width >= 400 && height >= 400 else { throw ValidationError("--width and --height must be at least 400") }
        guard wear >= 0 && wear <= 3 else { throw ValidationError("--wear must be between 0 and 3") }
        _ = try parsedFormats()
    }

    func parsedFormats() throws -> [SyntheticPageFormat] {
        try formats.split(separator: ",").map { name in
            guard let format = SyntheticPageFormat(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--formats: unknown format '\(name)' (known: \(SyntheticPageFormat.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return format
        }
    }

    func run() throws {
        compute.apply()
        let splits = try DataSplits.load(sources: ["standard"], splitSeed: splitSeed, dataRoot: dataRoot)
        let digits = handwriting == .train ? splits.train : splits.test
        let options = SyntheticPageOptions(pages: pages, seed: seed, width: width, height: height, rows: rows,
                                           formats: try parsedFormats(),
                                           degradation: SyntheticDegradation.standard.scaled(by: wear), dpi: dpi,
                                           idPrefix: idPrefix)
        if let problem = options.problem() { throw ValidationError(problem) }
        let start = DispatchTime.now().uptimeNanoseconds
        let set = try SyntheticPages.generate(options: options, digits: digits, outputDirectory: out)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let filled = set.cells.filter { !$0.value.isEmpty }.count
        print(String(format: "wrote %d pages (%d numeric cells, %d filled) and %@ in %.1f s",
                     set.pages.count, set.cells.count, filled, set.truthPath, seconds))
    }
}
