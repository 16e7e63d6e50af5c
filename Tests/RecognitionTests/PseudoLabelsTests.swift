import Foundation
import XCTest
import Imaging
@testable import Recognition

final class PseudoLabelsTests: RecognitionTestCase {
    private func reading(_ digits: [Int], _ p: Float, flag: CellFlag = .ok, pointAfter: Int? = nil,
                         seen: Bool = false) -> CellReading {
        let readings = digits.map { DigitReading(digit: $0, probability: p, alternatives: [.init(digit: $0, probability: p)],
                                                 box: .init(minX: 0, minY: 0, maxX: 1, maxY: 1)) }
        var text = digits.map(String.init).joined()
        if let point = pointAfter { text.insert(".", at: text.index(text.startIndex, offsetBy: point)) }
        return CellReading(value: digits.isEmpty ? "" : text, digits: readings, separatorAfter: pointAfter,
                           separatorSeen: seen, confidence: digits.isEmpty ? 1 : p, flag: digits.isEmpty ? .empty : flag)
    }

    func testAgreementNeedsTheSameDigitsBothSure() {
        func agreed(_ a: CellReading, _ b: CellReading) -> String? {
            try? PseudoLabels.agreement(a, b, minConfidence: 0.98).get()
        }
        func why(_ a: CellReading, _ b: CellReading) -> PseudoLabels.Rejection? {
            if case .failure(let reason) = PseudoLabels.agreement(a, b, minConfidence: 0.98) { return reason }
            return nil
        }
        XCTAssertEqual(agreed(reading([2, 8, 7], 0.99), reading([2, 8, 7], 0.995)), "287")
        XCTAssertEqual(why(reading([2, 8, 7], 0.99), reading([2, 8, 1], 0.999)), .disagree)
        XCTAssertEqual(why(reading([2, 8, 7], 0.99), reading([2, 8], 0.999)), .disagree, "a lost digit is a disagreement")
        XCTAssertEqual(why(reading([2, 8, 7], 0.97), reading([2, 8, 7], 0.999)), .unsure)
        XCTAssertEqual(why(reading([2, 8, 7], 0.999), reading([2, 8, 7], 0.97)), .unsure, "both readers must be sure")
        XCTAssertEqual(why(reading([], 1), reading([2], 0.999)), .empty)
        XCTAssertEqual(why(reading([2, 8, 7, 1, 1, 1], 0.99, flag: .unreadable), reading([2, 8, 7], 0.999)), .unreadable)
        // A point one reader saw is kept; one placed by a column convention is not.
        XCTAssertEqual(agreed(reading([2, 8, 7], 0.99, pointAfter: 2, seen: true), reading([2, 8, 7], 0.99)), "28.7")
        XCTAssertEqual(agreed(reading([2, 8, 7], 0.99, pointAfter: 2, seen: false), reading([2, 8, 7], 0.99)), "287")
        XCTAssertEqual(why(reading([2, 8, 7], 0.99, pointAfter: 2, seen: true),
                           reading([2, 8, 7], 0.99, pointAfter: 1, seen: true)), .disagree)
    }

    /// Two stub readers over three cells: the CSV holds only the agreed cell, and reads back as truth.
    func testLabelWritesATruthCSVOfTheAgreedCells() throws {
        final class Stub: CellImageReader {
            let readings: [CellReading]
            init(_ readings: [CellReading]) { self.readings = readings }
            var reviewThreshold: Float { 0.9 }
            func read(cells: [GrayImage], columns: [String?]?) -> [CellReading] { readings }
        }
        let sequence = Stub([reading([3, 1, 5], 0.995), reading([1, 2], 0.99), reading([4], 0.5)])
        let segment = Stub([reading([3, 1, 5], 0.99), reading([1, 7], 0.99), reading([4], 0.999)])
        let cells = (0..<3).map { _ in GrayImage(width: 8, height: 8, fill: 1) }
        let outcome = PseudoLabels.label(cells: cells, sequence: sequence, segment: segment, minConfidence: 0.98)
        XCTAssertEqual(outcome.labels.map(\.index), [0])
        XCTAssertEqual(outcome.rejected[.disagree], 1)
        XCTAssertEqual(outcome.rejected[.unsure], 1)
        let csv = PseudoLabels.truthCSV(outcome, imagePaths: ["a.png", "b.png", "c.png"], stations: ["9", "9", "9"])
        try csv.write(toFile: path("pseudo.csv"), atomically: true, encoding: .utf8)
        let truth = try CellTruth.readTruth(csv: path("pseudo.csv"))
        XCTAssertEqual(truth.map(\.value), ["315"])
        XCTAssertEqual(truth.map(\.station), ["9"])
        XCTAssertEqual(truth.first?.imagePath, path("a.png"))
        XCTAssertEqual(truth.first?.extra["segment_confidence"], "0.9900")
    }
}
