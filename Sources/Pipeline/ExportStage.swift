import Foundation
import Imaging
import Recognition

// Stage 6, export: `transcription.csv`, one line per numeric cell of every page that finished
// (pages in run order, cells row by row), and `review/`: for each cell flagged `review`, its
// doubtful digits (below the review threshold) as the network saw them and the cell as cut from
// the straightened page, as PNGs, listed in `review/review.csv` for a person to check; unreadable
// cells are listed with their cell image. `review/` is built beside the old one and swapped in.

public enum ExportStage {
    /// The truth file's columns (`SyntheticPages.truthHeader`) first, then per-digit detail.
    public static let header = SyntheticPages.truthHeader + ",digit_confidences,alternatives,source,page_index,other_reading"
    public static let reviewHeader = "page,row,column,column_name,value,flag,confidence,digit_index,digit,probability,alternatives,digit_image,cell_image"

    /// The transcription lines of one page.
    public static func lines(page: PageRecord, readings: PageReadings, alternatives: Int) -> [String] {
        readings.cells.map { cell in
            let confidences = cell.digits.map { String(format: "%.4f", $0.probability) }.joined(separator: " ")
            let choices = cell.digits.map { digit in
                digit.alternatives.prefix(max(1, alternatives + 1)).map { "\($0.digit):" + String(format: "%.4f", $0.probability) }
                    .joined(separator: "|")
            }.joined(separator: " ")
            let box = cell.box.count == 4 ? cell.box : [0, 0, 0, 0]
            let fields = [csv(page.id), String(cell.row), String(cell.column), csv(cell.value),
                          String(format: "%.4f", cell.confidence), cell.flag.rawValue, csv(cell.name),
                          String(box[0]), String(box[1]), String(box[2]), String(box[3]),
                          confidences, choices, csv(page.source), String(page.pageIndex), csv(cell.otherReading ?? "")]
            return fields.joined(separator: ",")
        }
    }

    static func csv(_ text: String) -> String { SyntheticPages.csvField(text) }

    // MARK: I/O

    /// The inputs of the export: each finished page's readings (and, for review images, its
    /// binary page and normalised digits).
    static func inputs(pages: [PageRecord], review: Bool) -> [String: String] {
        var inputs: [String: String] = [:]
        for page in pages where page.hasReadings {
            for stage in review ? [StageName.binarize, .normalize, .classify] : [.classify] {
                for (path, sum) in page.record(stage)?.outputs ?? [:] where !path.hasSuffix(SegmentStage.debugName) {
                    inputs[path] = sum
                }
            }
        }
        return inputs
    }

    static func run(pages: [PageRecord], config: PipelineConfig, fingerprint: String, folder: RunFolder) throws -> StageRecord {
        let start = Clock.tick
        let finished = pages.filter(\.hasReadings)
        var text = header + "\n"
        var reviewText = reviewHeader + "\n"
        let staging = RunFolder.reviewFolder + ".new-\(getpid())"
        try? FileManager.default.removeItem(atPath: folder.path(staging))
        if config.export.review {
            try FileManager.default.createDirectory(atPath: folder.path(staging), withIntermediateDirectories: true)
        }
        var reviewCount = 0
        let threshold = Float(config.classify.reviewThreshold)
        for page in finished {
            let readings = try ClassifyStage.load(record: page, folder: folder)
            for line in lines(page: page, readings: readings, alternatives: config.export.alternatives) { text += line + "\n" }
            guard config.export.review else { continue }
            let doubtful = readings.cells.filter { $0.flag == .review || $0.flag == .unreadable }
            guard !doubtful.isEmpty else { continue }
            let segmented = try SegmentStage.load(record: page, folder: folder)
            let binary = try BinarizeStage.loadDigitImage(record: page, folder: folder)
            let normalized = try NormalizeStage.load(record: page, folder: folder)
            // Where each cell's digits start in normalized.bin.
            var offsets: [String: Int] = [:]
            var offset = 0
            for cell in segmented.cells {
                offsets["\(cell.row),\(cell.column)"] = offset
                if NormalizeStage.isClassified(cell, maxDigits: segmented.maxDigits) { offset += cell.entryCount }
            }
            let pageFolder = staging + "/" + page.id
            try FileManager.default.createDirectory(atPath: folder.path(pageFolder), withIntermediateDirectories: true)
            for cell in doubtful {
                let stem = "r\(cell.row)-c\(cell.column)"
                let cellImage = page.id + "/" + stem + ".png"
                if let stored = segmented.cells.first(where: { $0.row == cell.row && $0.column == cell.column }) {
                    try writePNG(crop(binary, corners: stored.corners), to: folder.path(staging + "/" + cellImage))
                }
                let common = [csv(page.id), String(cell.row), String(cell.column), csv(cell.name), csv(cell.value),
                              cell.flag.rawValue, String(format: "%.4f", cell.confidence)]
                var listed = false
                if cell.flag == .review, let first = offsets["\(cell.row),\(cell.column)"] {
                    for (index, digit) in cell.digits.enumerated() where digit.probability < threshold {
                        let digitImage = page.id + "/" + stem + "-d\(index).png"
                        let at = (first + digit.entry) * NormalizeStage.pixels
                        // entry -1: a digit the whole-cell reader read, with no image of its own.
                        if digit.entry >= 0 && at + NormalizeStage.pixels <= normalized.values.count {
                            let ink = normalized.values[at..<(at + NormalizeStage.pixels)]
                            let image = GrayImage(width: DigitNormalizer.side, height: DigitNormalizer.side, pixels: ink.map { 1 - $0 })
                            try writePNG(image, to: folder.path(staging + "/" + digitImage))
                        }
                        let choices = digit.alternatives.map { "\($0.digit):" + String(format: "%.4f", $0.probability) }.joined(separator: "|")
                        reviewText += (common + [String(index), String(digit.digit), String(format: "%.4f", digit.probability),
                                                 choices, digitImage, cellImage]).joined(separator: ",") + "\n"
                        listed = true
                        reviewCount += 1
                    }
                }
                if !listed {
                    reviewText += (common + ["", "", "", "", "", cellImage]).joined(separator: ",") + "\n"
                    reviewCount += 1
                }
            }
        }
        var outputs: [String: String] = [:]
        if config.export.review {
            try AtomicFile.write(reviewText, to: folder.path(staging + "/review.csv"))
            // Swap the new review folder in; a kill in between leaves no review/, so the export
            // counts as not done and runs again.
            let old = RunFolder.reviewFolder + ".old-\(getpid())"
            if FileManager.default.fileExists(atPath: folder.path(RunFolder.reviewFolder)) {
                try FileManager.default.moveItem(atPath: folder.path(RunFolder.reviewFolder), toPath: folder.path(old))
            }
            try FileManager.default.moveItem(atPath: folder.path(staging), toPath: folder.path(RunFolder.reviewFolder))
            try? FileManager.default.removeItem(atPath: folder.path(old))
            outputs[RunFolder.reviewFolder + "/review.csv"] = SHA256.hex(reviewText)
        }
        // Corrections imported by `logbook review import` outlive a new export.
        text = try CorrectionsLog.reapply(to: text, runFolder: folder.root)
        try AtomicFile.write(text, to: folder.path(RunFolder.transcriptionFile))
        outputs[RunFolder.transcriptionFile] = SHA256.hex(text)
        let cells = finished.reduce(0) { $0 + (Int($1.record(.segment)?.info?["cells"] ?? "0") ?? 0) }
        return StageRecord(status: .done, inputs: inputs(pages: pages, review: config.export.review), parameters: fingerprint,
                           outputs: outputs, seconds: Clock.seconds(since: start), finished: Clock.now(), error: nil,
                           info: ["pages": String(finished.count), "cells": String(cells), "review_items": String(reviewCount)])
    }

    /// The cell's box on the straightened page, with a margin of a tenth of its height.
    static func crop(_ page: GrayImage, corners c: [Double], margin share: Double = 0.1) -> GrayImage {
        guard c.count == 8 else { return GrayImage(width: 1, height: 1) }
        let xs = [c[0], c[2], c[4], c[6]], ys = [c[1], c[3], c[5], c[7]]
        let margin = share * (ys.max()! - ys.min()!)
        let x0 = max(0, Int((xs.min()! - margin).rounded(.down))), y0 = max(0, Int((ys.min()! - margin).rounded(.down)))
        let x1 = min(page.width - 1, Int((xs.max()! + margin).rounded(.up)))
        let y1 = min(page.height - 1, Int((ys.max()! + margin).rounded(.up)))
        guard x1 > x0, y1 > y0 else { return GrayImage(width: 1, height: 1) }
        return page.cropped(x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1)
    }
}
