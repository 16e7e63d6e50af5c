import Foundation
import XCTest
import Imaging
import NeuralNet
import Recognition
@testable import Pipeline

/// Fixtures for the pipeline tests: small synthetic pages (bitmap-font handwriting, so no corpus
/// is loaded), a tiny random model (fast in a debug build), temporary folders.
enum PipelineFixtures {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let shippedModel = repositoryRoot.appendingPathComponent("models/logbook-digits.safetensors").path
    static let samples = repositoryRoot.appendingPathComponent("samples").path

    static func temporaryFolder(_ test: XCTestCase, _ name: String) -> String {
        let folder = NSTemporaryDirectory() + "logbook-\(name)-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        return folder
    }

    /// A width-1/16 ResNet18 with random weights, saved as a model file: reads nothing right,
    /// but exercises every stage in a fraction of a second per page.
    static func tinyModel(in folder: String) throws -> String {
        let path = folder + "/tiny.safetensors"
        let model = ResNet(config: ModelConfig(architecture: .resnet18, width: 0.0625, classes: 10), seed: 3)
        try model.save(to: path)
        return path
    }

    static func pageOptions(pages: Int, seed: UInt64 = 11, formats: [SyntheticPageFormat] = [.png]) -> SyntheticPageOptions {
        SyntheticPageOptions(pages: pages, seed: seed, width: 560, height: 640, rows: 8, formats: formats,
                             degradation: SyntheticDegradation.standard.scaled(by: 0.5), dpi: 72)
    }

    /// Writes synthetic pages (font handwriting) and truth.csv into `folder`.
    @discardableResult
    static func writePages(_ options: SyntheticPageOptions, to folder: String) throws -> SyntheticPageSet {
        try SyntheticPages.generate(options: options, digits: SyntheticPageTests.fontDigits, outputDirectory: folder)
    }

    static func request(folder: String, scans: [String], model: String, pipeline: String? = nil) -> RunRequest {
        var request = RunRequest(folder: folder)
        request.scans = scans
        request.modelPath = model
        request.pipelinePath = pipeline
        request.quiet = true
        request.jobs = 2
        return request
    }

    /// Files under `folder` (relative paths), sorted.
    static func files(under folder: String) -> [String] {
        (FileManager.default.enumerator(atPath: folder)?.allObjects as? [String] ?? []).filter { path in
            var isFolder: ObjCBool = false
            return FileManager.default.fileExists(atPath: folder + "/" + path, isDirectory: &isFolder) && !isFolder.boolValue
        }.sorted()
    }

    /// The transcription's lines with the confidence columns rounded to 2 places (classification
    /// batches that differ in size may move the last bits of a probability).
    static func comparableTranscription(_ path: String) throws -> [String] {
        let table = try CSVTable.load(path: path)
        let confidence = table.column("confidence")!, digits = table.column("digit_confidences")!
        let alternatives = table.column("alternatives")!
        return table.rows.map { row in
            var row = row
            row[confidence] = String(format: "%.2f", Double(row[confidence]) ?? -1)
            row[digits] = row[digits].split(separator: " ").map { String(format: "%.2f", Double($0) ?? -1) }.joined(separator: " ")
            row[alternatives] = row[alternatives].split(separator: " ").map { $0.split(separator: "|").map { $0.split(separator: ":")[0] }.joined(separator: "|") }.joined(separator: " ")
            return row.joined(separator: ",")
        }
    }
}
