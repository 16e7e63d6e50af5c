import Imaging
import NeuralNet
import XCTest
@testable import Recognition

final class DigitDatasetTests: XCTestCase {
    func testStorageSubsetConcatenationAndTensor() {
        let a = syntheticDataset(perClass: 2, prefix: "a"), b = syntheticDataset(perClass: 1, seed: 5, prefix: "b")
        XCTAssertEqual(a.count, 20)
        XCTAssertEqual(a.images.count, 20 * 64 * 64)
        XCTAssertEqual(DigitDataset.side, 64)
        XCTAssertEqual(a.classCounts, [Int](repeating: 2, count: 10))

        let both = a + b
        XCTAssertEqual(both.count, 30)
        XCTAssertEqual(both.image(at: 25), b.image(at: 5))
        XCTAssertEqual(both.origins[25], "b:5")
        XCTAssertEqual(both.classCounts, [Int](repeating: 3, count: 10))

        let picked = both.subset([25, 0, 25])
        XCTAssertEqual(picked.labels, [both.labels[25], both.labels[0], both.labels[25]])
        XCTAssertEqual(picked.image(at: 1), both.image(at: 0))
        XCTAssertEqual(picked.origins, ["b:5", "a:0", "b:5"])

        let tensor = both.tensor(for: [3, 25])
        XCTAssertEqual(tensor.shape, [2, 1, 64, 64])
        XCTAssertEqual(Array(tensor.data[4096..<8192]), both.image(at: 25))
        XCTAssertEqual(both.labels(for: [3, 25]), [both.labels[3], both.labels[25]])
        XCTAssertEqual(DigitDataset().count, 0)
        XCTAssertEqual(both.indicesByClass[4], both.labels.indices.filter { both.labels[$0] == 4 })
    }

    func testContactSheetTilesInPaperPolarity() {
        let dataset = syntheticDataset(perClass: 1)
        let sheet = dataset.contactSheet(indices: Array(0..<10), columns: 4, gap: 2)
        XCTAssertEqual(sheet.width, 4 * 66 + 2)
        XCTAssertEqual(sheet.height, 3 * 66 + 2)
        // Cell (1, 0) starts at x = 68, y = 2: paper = 1 - ink.
        let image = dataset.image(at: 1)
        for (x, y) in [(10, 10), (32, 32), (40, 20)] {
            XCTAssertEqual(sheet[68 + x, 2 + y], 1 - image[y * 64 + x], accuracy: 1e-6)
        }
        XCTAssertEqual(sheet[0, 0], 0.6, accuracy: 1e-6, "gaps are grey")
    }
}
