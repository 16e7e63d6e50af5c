import Foundation
import Imaging

// Stage 2, binarize: gray page -> straight black-and-white page. The skew is measured on the scan
// and the gray page turned straight first (the grid finder needs rules within a fraction of a
// degree of level), then the paper background is flattened (shadows, folds, uneven light) and a
// threshold applied: Sauvola (local, default) or Otsu (global). Output: `binary.tif` (1 bit,
// CCITT G4: exact, small, and faster to write than a PNG of a large page) and the skew that was
// removed (needed to map cell boxes back onto the scan). With `faint_k`, also `digit-ink.tif`: the
// same ink plus the fainter strokes touching it, which the digits are cut from.

public struct BinarizedPage: Sendable {
    /// 0 = ink, 1 = paper, same size as the scan.
    public var image: GrayImage
    /// The ink digits are cut from where `binarize.faint_k` keeps more than `image` (faint pencil
    /// strokes); nil: `image` itself. Rules and the layout are found on `image` either way: the
    /// laxer ink would make rules of a fold's shadow.
    public var digitInk: GrayImage? = nil
    /// Degrees measured and removed (counter-clockwise positive, as `GrayImage.rotated`); 0 when
    /// below `min_skew` or when deskewing is off.
    public var skew: Double
}

public enum BinarizeStage {
    /// The stage's work on one page.
    public static func binarize(_ page: GrayImage, parameters p: BinarizeParameters) -> BinarizedPage {
        var gray = page
        var skew = 0.0
        if p.deskew && p.maxSkew > 0 {
            let angle = page.skewAngle(maxAngle: p.maxSkew)
            if abs(angle) >= p.minSkew {
                gray = page.rotated(degrees: -angle)
                skew = angle
            }
        }
        if p.flatten { gray = gray.flattenedBackground(radius: p.flattenRadius(width: gray.width, height: gray.height)) }
        let binary: GrayImage
        let window = p.window(width: gray.width, height: gray.height)
        switch p.method {
        case .sauvola: binary = gray.binarizedSauvola(window: window, k: Float(p.k))
        case .otsu: binary = gray.binarizedOtsu()
        }
        var result = BinarizedPage(image: binary, skew: skew)
        if p.faintK > 0 { result.digitInk = binary.grown(within: gray.binarizedSauvola(window: window, k: Float(p.faintK))) }
        return result
    }

    static let outputName = "binary.tif"
    static let digitInkName = "digit-ink.tif"

    /// Binarizes a decoded page and writes `pages/<id>/binary.tif` atomically; returns the record.
    static func run(page: GrayImage, record: PageRecord, parameters: BinarizeParameters, fingerprint: String,
                    folder: RunFolder) throws -> (BinarizedPage, StageRecord) {
        let start = Clock.tick
        let result = binarize(page, parameters: parameters)
        let relative = folder.pageFile(record.id, outputName)
        try folder.makeFolder(for: relative)
        // Atomic: Imaging writes a temporary file and renames it.
        try writeTIFF(result.image, to: folder.path(relative), compression: .ccittG4, bilevelThreshold: 0.5)
        var outputs = [relative: try SHA256.hex(fileAt: folder.path(relative))]
        if let ink = result.digitInk {
            let inkRelative = folder.pageFile(record.id, digitInkName)
            try writeTIFF(ink, to: folder.path(inkRelative), compression: .ccittG4, bilevelThreshold: 0.5)
            outputs[inkRelative] = try SHA256.hex(fileAt: folder.path(inkRelative))
        }
        let stage = StageRecord(status: .done, inputs: IngestStage.binarizeInputs(record), parameters: fingerprint,
                                outputs: outputs,
                                seconds: Clock.seconds(since: start), finished: Clock.now(), error: nil,
                                info: ["skew": "\(result.skew)"])
        return (result, stage)
    }

    /// The binary page of a run (and its skew from the record), with its digit ink where the
    /// stage wrote one.
    static func load(record: PageRecord, folder: RunFolder) throws -> BinarizedPage {
        let path = folder.path(folder.pageFile(record.id, outputName))
        let image = try loadGrayImage(at: path)
        let skew = Double(record.record(.binarize)?.info?["skew"] ?? "0") ?? 0
        var page = BinarizedPage(image: image, skew: skew)
        if let ink = digitInkFile(record: record, folder: folder) { page.digitInk = try loadGrayImage(at: folder.path(ink)) }
        return page
    }

    /// The image a run's digits were cut from (its digit ink where the stage wrote one, else the
    /// binary page), decoding only that one: what exports, review crops and the sequence reader read.
    static func loadDigitImage(record: PageRecord, folder: RunFolder) throws -> GrayImage {
        let relative = digitInkFile(record: record, folder: folder) ?? folder.pageFile(record.id, outputName)
        return try loadGrayImage(at: folder.path(relative))
    }

    /// `digit-ink.tif`'s path in the run, when the page's binarize record lists it.
    static func digitInkFile(record: PageRecord, folder: RunFolder) -> String? {
        let relative = folder.pageFile(record.id, digitInkName)
        return record.record(.binarize)?.outputs[relative] != nil ? relative : nil
    }
}
