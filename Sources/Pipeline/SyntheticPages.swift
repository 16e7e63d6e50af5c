import Foundation
import Imaging
import NeuralNet
import Recognition

// Synthetic logbook pages with ground truth: a printed, ruled weather table (header row, printed day
// numbers) whose numeric cells hold handwritten numbers built from real digit images, on aged paper,
// scanned with skew, uneven light and noise, saved as PNG, JPEG or TIFF. `truth.csv` lists every
// numeric cell with its value as written and its box on the final page, so the scan-to-CSV pipeline
// can be scored end to end on pages whose answers are known.
//
// Files: this one (options, truth, `generate`, CSV), `SyntheticPages+Rendering.swift` (layout, print,
// values, handwriting) and `SyntheticPages+Degradation.swift` (paper, ink, stains, fold, scan).

// MARK: - Options

/// How a column's values evolve down the month.
public enum SyntheticValueModel: Sendable, Equatable {
    /// A day-to-day random walk whose normal step is `step` x the column's range (temperature, pressure).
    case walk(step: Double)
    /// Dry with probability `dryProbability` (written `0.0`), otherwise exponentially distributed with
    /// mean `mean` (rain).
    case showers(dryProbability: Double, mean: Double)
    /// The value of numeric column `column` (an earlier index into `columns`) minus a spread drawn
    /// from `spread` (minimum temperature below the maximum).
    case below(column: Int, spread: ClosedRange<Double>)
    /// The average of two earlier numeric columns (mean of maximum and minimum).
    case average(Int, Int)
}

/// One numeric column of the printed table.
public struct SyntheticColumnSpec: Sendable, Equatable {
    /// Printed in the header row, e.g. "Max".
    public var name: String
    /// Printed under the name in parentheses, e.g. "C"; empty for none.
    public var unit: String
    /// Digits after the decimal point, always written (`0.0`, `1015.4`); 0 means whole numbers.
    public var decimals: Int
    /// Values are clamped into minimum...maximum; a negative minimum allows a handwritten minus.
    public var minimum: Double
    public var maximum: Double
    public var model: SyntheticValueModel
    /// Chance that a cell is left blank.
    public var emptyProbability: Double
    /// Relative column width (the printed day column has 0.6).
    public var widthWeight: Double

    public init(name: String, unit: String = "", decimals: Int, minimum: Double, maximum: Double,
                model: SyntheticValueModel = .walk(step: 0.08), emptyProbability: Double = 0.04,
                widthWeight: Double = 1) {
        self.name = name
        self.unit = unit
        self.decimals = decimals
        self.minimum = minimum
        self.maximum = maximum
        self.model = model
        self.emptyProbability = emptyProbability
        self.widthWeight = widthWeight
    }

    /// A six-column daily weather table: maximum, minimum and mean temperature, rain, pressure and
    /// relative humidity.
    public static let weatherTable: [SyntheticColumnSpec] = [
        SyntheticColumnSpec(name: "Max", unit: "C", decimals: 1, minimum: 10, maximum: 35, model: .walk(step: 0.07)),
        // Cool days give the odd frost: negative minima are possible but rare.
        SyntheticColumnSpec(name: "Min", unit: "C", decimals: 1, minimum: -5, maximum: 30,
                            model: .below(column: 0, spread: 4...12)),
        SyntheticColumnSpec(name: "Mean", unit: "C", decimals: 1, minimum: -5, maximum: 35, model: .average(0, 1)),
        SyntheticColumnSpec(name: "Rain", unit: "mm", decimals: 1, minimum: 0, maximum: 60,
                            model: .showers(dryProbability: 0.6, mean: 7), emptyProbability: 0.06),
        SyntheticColumnSpec(name: "Press.", unit: "hPa", decimals: 1, minimum: 990, maximum: 1030,
                            model: .walk(step: 0.06), widthWeight: 1.25),
        SyntheticColumnSpec(name: "Hum.", unit: "%", decimals: 0, minimum: 30, maximum: 100, model: .walk(step: 0.1)),
    ]
}

/// File format of a page; `SyntheticPageOptions.formats` is cycled by page index.
public enum SyntheticPageFormat: String, Sendable, Equatable, CaseIterable {
    case png
    /// Gray baseline JPEG, quality 70-94 (deterministic by page index).
    case jpeg
    /// 8-bit gray TIFF, LZW.
    case tiffLZW = "tiff-lzw"
    /// 8-bit gray TIFF, Deflate.
    case tiffDeflate = "tiff-deflate"
    /// 1-bit TIFF, CCITT Group 4, after adaptive thresholding (a bilevel document scanner).
    case tiffG4 = "tiff-g4"

    public var fileExtension: String {
        switch self {
        case .png: return "png"
        case .jpeg: return "jpg"
        case .tiffLZW, .tiffDeflate, .tiffG4: return "tif"
        }
    }
}

/// Strength of each kind of wear, 0 = none (a clean, straight, evenly lit page). 1 is a typical
/// archival scan; values above 1 exaggerate.
public struct SyntheticDegradation: Sendable, Equatable {
    /// Paper tone, low-frequency mottling, grain and specks.
    public var paper: Double
    /// Ink fading (uneven ink density across the page and along strokes).
    public var fading: Double
    /// Ink bleeding into the paper (soft, slightly thicker strokes).
    public var inkBleed: Double
    /// Blotchy stains with darker tide lines.
    public var stains: Double
    /// A fold across the page: a shaded crease and a brightness step.
    public var fold: Double
    /// Largest skew in degrees; each page is turned by a uniform angle in -skew...skew.
    public var skewDegrees: Double
    /// Scanner light falling off across the page and towards the corners.
    public var unevenLight: Double
    /// Sensor noise and optical blur.
    public var noise: Double

    public init(paper: Double = 0, fading: Double = 0, inkBleed: Double = 0, stains: Double = 0, fold: Double = 0,
                skewDegrees: Double = 0, unevenLight: Double = 0, noise: Double = 0) {
        self.paper = paper
        self.fading = fading
        self.inkBleed = inkBleed
        self.stains = stains
        self.fold = fold
        self.skewDegrees = skewDegrees
        self.unevenLight = unevenLight
        self.noise = noise
    }

    /// A clean page: white paper, black ink, no skew.
    public static let none = SyntheticDegradation()
    /// A typical archival scan: every effect at strength 1 and skew up to 3 degrees.
    public static let standard = SyntheticDegradation(paper: 1, fading: 1, inkBleed: 1, stains: 1, fold: 1,
                                                      skewDegrees: 3, unevenLight: 1, noise: 1)

    /// Every strength (and the skew) multiplied by `factor`.
    public func scaled(by factor: Double) -> SyntheticDegradation {
        SyntheticDegradation(paper: paper * factor, fading: fading * factor, inkBleed: inkBleed * factor,
                             stains: stains * factor, fold: fold * factor, skewDegrees: skewDegrees * factor,
                             unevenLight: unevenLight * factor, noise: noise * factor)
    }

    var isClean: Bool { self == .none }
}

public struct SyntheticPageOptions: Sendable, Equatable {
    /// Number of pages `generate` writes.
    public var pages: Int
    /// Same seed, options and digits give byte-identical pages and truth.
    public var seed: UInt64
    /// Page size in pixels; the default is US letter at about 200 dpi.
    public var width: Int
    public var height: Int
    /// Day rows under the header row (rows 1...rows; row labels 1...rows are printed).
    public var rows: Int
    /// The numeric columns, left to right after the printed day column.
    public var columns: [SyntheticColumnSpec]
    /// Cycled by page index: page i is saved as `formats[i % formats.count]`.
    public var formats: [SyntheticPageFormat]
    public var degradation: SyntheticDegradation
    /// Recorded in the image files.
    public var dpi: Double
    /// Chance that a whole day is missing (all its cells blank).
    public var emptyRowProbability: Double
    /// Page ids are `<prefix>-0001`, `<prefix>-0002`, ... (page index + 1).
    public var idPrefix: String

    public init(pages: Int = 10, seed: UInt64 = 1, width: Int = 1700, height: Int = 2200, rows: Int = 31,
                columns: [SyntheticColumnSpec] = SyntheticColumnSpec.weatherTable,
                formats: [SyntheticPageFormat] = [.png, .jpeg, .tiffLZW, .jpeg, .tiffG4],
                degradation: SyntheticDegradation = .standard, dpi: Double = 200,
                emptyRowProbability: Double = 0.03, idPrefix: String = "synth") {
        self.pages = pages
        self.seed = seed
        self.width = width
        self.height = height
        self.rows = rows
        self.columns = columns
        self.formats = formats
        self.degradation = degradation
        self.dpi = dpi
        self.emptyRowProbability = emptyRowProbability
        self.idPrefix = idPrefix
    }

    /// The id of page `index` (0-based): `synth-0001` for index 0.
    public func pageID(_ index: Int) -> String {
        let number = String(index + 1)
        return idPrefix + "-" + String(repeating: "0", count: max(0, 4 - number.count)) + number
    }

    /// Why these options cannot make pages, or nil when they can.
    public func problem() -> String? {
        if pages < 0 { return "pages must be 0 or more, got \(pages)" }
        if width < 200 || height < 200 { return "page size \(width)x\(height) is too small (at least 200x200)" }
        if width * height > 60_000_000 { return "page size \(width)x\(height) is too large" }
        if rows < 1 { return "rows must be at least 1, got \(rows)" }
        if columns.isEmpty { return "no columns" }
        if formats.isEmpty { return "no file formats" }
        if !(dpi > 0) { return "dpi must be positive" }
        let rowHeight = Double(height) * 0.85 / (Double(rows) + 1.9)
        if rowHeight < 12 { return "\(rows) rows do not fit a page \(height) px high (rows under 12 px)" }
        for (index, column) in columns.enumerated() {
            if !(0...3).contains(column.decimals) { return "column \(column.name): decimals must be 0...3" }
            if !(column.minimum <= column.maximum) { return "column \(column.name): minimum above maximum" }
            if !(column.widthWeight > 0) { return "column \(column.name): width weight must be positive" }
            switch column.model {
            case .below(let other, _) where !(0..<index).contains(other):
                return "column \(column.name): refers to column \(other), which is not an earlier column"
            case .average(let a, let b) where !(0..<index).contains(a) || !(0..<index).contains(b):
                return "column \(column.name): averages columns that are not earlier columns"
            default: break
            }
        }
        return nil
    }
}

// MARK: - Results

/// One numeric cell of a synthetic page: what was written and where.
public struct SyntheticCellTruth: Sendable, Equatable {
    /// Page id, e.g. `synth-0001`.
    public var page: String
    /// Table row: 0 is the printed header, 1...rows are days.
    public var row: Int
    /// Table column: 0 is the printed day column, 1... the numeric columns.
    public var column: Int
    public var columnName: String
    /// Exactly as written (`28.7`, `0.0`, `-1.5`, `1015.4`), empty for a blank cell.
    public var value: String
    /// The cell (rule centre to rule centre) on the final, skewed page: the axis-aligned box around
    /// its four turned corners, clipped to the page.
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public var isEmpty: Bool { value.isEmpty }
    /// `ok` or `empty`, as in a transcription.
    public var flag: String { value.isEmpty ? "empty" : "ok" }
}

public struct SyntheticPageInfo: Sendable, Equatable {
    public var id: String
    /// Full path of the image file.
    public var path: String
    public var format: SyntheticPageFormat
    public var width: Int
    public var height: Int
    /// The skew the page was given, degrees, counter-clockwise positive (`GrayImage.rotated`).
    public var skewDegrees: Double
    public var cells: [SyntheticCellTruth]
}

public struct SyntheticPageSet: Sendable, Equatable {
    public var directory: String
    public var truthPath: String
    public var pages: [SyntheticPageInfo]
    /// All pages' cells in page order.
    public var cells: [SyntheticCellTruth] { pages.flatMap(\.cells) }
}

public struct SyntheticPageError: Error, CustomStringConvertible, Equatable, Sendable {
    public var problem: String
    public var description: String { problem }
}

// MARK: - Generation

public enum SyntheticPages {
    /// Header of `truth.csv`: the transcription columns, then the column name and the cell box.
    public static let truthHeader = "page,row,column,value,confidence,flag,column_name,cell_x,cell_y,cell_width,cell_height"

    /// The generator `generate` gives page `index`; pages are independent, so any page can be
    /// rendered alone with `render(page:options:digits:rng:)` and this generator.
    public static func generator(forPage index: Int, seed: UInt64) -> RandomGenerator {
        RandomGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(truncatingIfNeeded: index) &* 0xD1B5_4A32_D192_ED03 &+ 0x5EED)
    }

    /// Renders `options.pages` pages into `outputDirectory` (created if needed) as
    /// `<id>.png|jpg|tif`, then writes `truth.csv`. Every file is written atomically.
    /// - Parameter digits: handwriting source, ink maps as in `DigitDataset` with every class 0-9;
    ///   pass digits the recogniser never trained on (the test split).
    public static func generate(options: SyntheticPageOptions, digits: DigitDataset,
                                outputDirectory: String) throws -> SyntheticPageSet {
        if let problem = options.problem() { throw SyntheticPageError(problem: "synthetic pages: \(problem)") }
        try checkDigits(digits)
        try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
        var pages: [SyntheticPageInfo] = []
        for index in 0..<options.pages {
            var rng = generator(forPage: index, seed: options.seed)
            let rendered = renderPage(index: index, options: options, digits: digits, rng: &rng)
            let format = options.formats[index % options.formats.count]
            let id = options.pageID(index)
            let path = (outputDirectory as NSString).appendingPathComponent(id + "." + format.fileExtension)
            try write(rendered.image, format: format, index: index, rowHeight: rendered.rowHeight,
                      dpi: options.dpi, to: path)
            pages.append(SyntheticPageInfo(id: id, path: path, format: format, width: rendered.image.width,
                                           height: rendered.image.height, skewDegrees: rendered.skewDegrees,
                                           cells: rendered.cells))
        }
        let truthPath = (outputDirectory as NSString).appendingPathComponent("truth.csv")
        try writeAtomically(Data(truthCSV(pages.flatMap(\.cells)).utf8), to: truthPath)
        return SyntheticPageSet(directory: outputDirectory, truthPath: truthPath, pages: pages)
    }

    /// The truth file's text: `truthHeader`, then one line per cell.
    public static func truthCSV(_ cells: [SyntheticCellTruth]) -> String {
        var text = truthHeader + "\n"
        for cell in cells {
            let fields = [csvField(cell.page), String(cell.row), String(cell.column), csvField(cell.value), "",
                          cell.flag, csvField(cell.columnName), String(cell.x), String(cell.y),
                          String(cell.width), String(cell.height)]
            text += fields.joined(separator: ",") + "\n"
        }
        return text
    }

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func checkDigits(_ digits: DigitDataset) throws {
        var seen = [Bool](repeating: false, count: DigitDataset.classCount)
        for label in digits.labels { seen[label] = true }
        if let missing = seen.firstIndex(of: false) {
            throw SyntheticPageError(problem: "synthetic pages: the digit images have no \(missing)s (\(digits.count) digits); every class 0-9 is needed")
        }
    }

    static func write(_ image: GrayImage, format: SyntheticPageFormat, index: Int, rowHeight: Double,
                      dpi: Double, to path: String) throws {
        switch format {
        case .png:
            try writePNG(image, to: path, dpi: dpi)
        case .jpeg:
            try writeJPEG(image, to: path, quality: 70 + (index * 7) % 25, dpi: dpi)
        case .tiffLZW:
            try writeTIFF(image, to: path, compression: .lzw, dpi: dpi)
        case .tiffDeflate:
            try writeTIFF(image, to: path, compression: .deflate, dpi: dpi)
        case .tiffG4:
            // A bilevel scanner thresholds locally, so shading and stains do not turn black.
            let window = max(15, Int(rowHeight * 1.2)) | 1
            let binary = image.binarizedSauvola(window: window, k: 0.12)
            try writeTIFF(binary, to: path, compression: .ccittG4, dpi: dpi, bilevelThreshold: 0.5)
        }
    }
}
