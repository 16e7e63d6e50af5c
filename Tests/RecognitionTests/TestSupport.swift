import Foundation
import XCTest
@testable import Recognition

/// Gives each test its own scratch directory, removed afterwards.
class RecognitionTestCase: XCTestCase {
    private(set) var directory = ""

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("RecognitionTests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func path(_ name: String) -> String { directory + "/" + name }

    /// Expects `body` to throw a DatasetError and returns it for further checks.
    func datasetError(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> DatasetError? {
        do {
            try body()
            XCTFail("expected a DatasetError", file: file, line: line)
        } catch let error as DatasetError {
            return error
        } catch {
            XCTFail("expected a DatasetError, got \(error)", file: file, line: line)
        }
        return nil
    }
}

/// The shared digit folder (`$LOGBOOK_DIGITS` or ../shared/data/digits from the package root),
/// or a skip when this checkout has none.
func sharedDigitsRoot() throws -> String {
    if let root = ProcessInfo.processInfo.environment[DigitDataset.dataRootEnvironmentVariable], !root.isEmpty,
       FileManager.default.fileExists(atPath: root) {
        return root
    }
    // Tests run from the package root under `swift test`; fall back to this file's location.
    let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    for candidate in [DigitDataset.defaultDataRoot, packageRoot + "/" + DigitDataset.defaultDataRoot]
    where FileManager.default.fileExists(atPath: candidate + "/t10k-images-idx3-ubyte.gz") {
        return candidate
    }
    throw XCTSkip("shared digit data not found (set \(DigitDataset.dataRootEnvironmentVariable))")
}

/// A 28x28 "digit" in white-on-black bytes (MNIST's convention) that differs per `seed` and `label`:
/// a few strokes at positions derived from both, so different seeds give genuinely different shapes.
func syntheticMNISTBytes(label: Int, seed: Int) -> [UInt8] {
    var pixels = [UInt8](repeating: 0, count: 28 * 28)
    var state = UInt64(truncatingIfNeeded: seed &* 7919 &+ label &* 104_729 &+ 1)
    func next(_ n: Int) -> Int {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int((state >> 33) % UInt64(n))
    }
    for _ in 0..<(2 + label % 3) {
        let x0 = 4 + next(20), y0 = 4 + next(20), x1 = 4 + next(20), y1 = 4 + next(20)
        for step in 0...40 {
            let x = x0 + (x1 - x0) * step / 40, y = y0 + (y1 - y0) * step / 40
            for dy in 0...1 { for dx in 0...1 { pixels[(y + dy) * 28 + x + dx] = 255 } }
        }
    }
    return pixels
}

/// A small normalised dataset of synthetic digits, `perClass` per label.
func syntheticDataset(perClass: Int, seed: Int = 0, prefix: String = "synthetic") -> DigitDataset {
    var images: [Float] = [], labels: [Int] = [], origins: [String] = []
    for label in 0..<10 {
        for k in 0..<perClass {
            let bytes = syntheticMNISTBytes(label: label, seed: seed * 100_000 + k)
            images += DigitNormalizer.normalize(ink: bytes.map { Float($0) / 255 }, width: 28, height: 28)
            labels.append(label)
            origins.append("\(prefix):\(labels.count - 1)")
        }
    }
    return DigitDataset(images: images, labels: labels, origins: origins)
}

/// Pearson correlation of two equally long vectors (0 when either is constant).
func correlation(_ a: [Float], _ b: [Float]) -> Double {
    let n = Double(a.count)
    let meanA = a.reduce(0.0) { $0 + Double($1) } / n, meanB = b.reduce(0.0) { $0 + Double($1) } / n
    var covariance = 0.0, varianceA = 0.0, varianceB = 0.0
    for i in 0..<a.count {
        let da = Double(a[i]) - meanA, db = Double(b[i]) - meanB
        covariance += da * db
        varianceA += da * da
        varianceB += db * db
    }
    return varianceA > 0 && varianceB > 0 ? covariance / (varianceA * varianceB).squareRoot() : 0
}
