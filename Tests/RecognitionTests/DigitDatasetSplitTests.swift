import XCTest
@testable import Recognition

final class DigitDatasetSplitTests: XCTestCase {
    /// 53 images per class for classes 0-8 and 17 of class 9, cheap to build (pixels are irrelevant here).
    private func unevenDataset() -> DigitDataset {
        var labels: [Int] = []
        for label in 0..<10 { labels += [Int](repeating: label, count: label == 9 ? 17 : 53) }
        return DigitDataset(images: [Float](repeating: 0, count: labels.count * DigitDataset.pixelsPerImage),
                            labels: labels, origins: labels.indices.map { "test:\($0)" })
    }

    func testSplitIsStratifiedDisjointAndComplete() {
        let dataset = unevenDataset()
        let parts = dataset.splitIndices(seed: 42)
        XCTAssertEqual(parts.count, 3)
        XCTAssertEqual(parts.flatMap { $0 }.sorted(), Array(0..<dataset.count), "every image in exactly one part")
        for label in 0..<10 {
            let n = label == 9 ? 17 : 53
            let counts = parts.map { $0.filter { dataset.labels[$0] == label }.count }
            let expected = [Int((Double(n) * 0.7).rounded()), Int((Double(n) * 0.9).rounded()) - Int((Double(n) * 0.7).rounded()),
                            n - Int((Double(n) * 0.9).rounded())]
            XCTAssertEqual(counts, expected, "class \(label)")
        }
        let datasets = dataset.split(seed: 42)
        XCTAssertEqual(datasets.map(\.count), parts.map(\.count))
        XCTAssertEqual(datasets[1].origins, parts[1].map { "test:\($0)" })
    }

    func testSplitIsReproducibleAndSeedDependent() {
        let dataset = unevenDataset()
        XCTAssertEqual(dataset.splitIndices(seed: 7), dataset.splitIndices(seed: 7))
        XCTAssertNotEqual(dataset.splitIndices(seed: 7), dataset.splitIndices(seed: 8))
        XCTAssertNotEqual(dataset.splitIndices(seed: 7)[2], dataset.splitIndices(seed: 8)[2])
    }

    func testCustomFractionsAreNormalised() {
        let dataset = unevenDataset()
        let parts = dataset.splitIndices(fractions: [1, 1], seed: 3)
        XCTAssertEqual(parts.count, 2)
        XCTAssertEqual(abs(parts[0].count - parts[1].count), 10, "at most one image apart per class (53 is odd)")
        XCTAssertEqual(dataset.splitIndices(fractions: [1], seed: 3), [Array(0..<dataset.count)])
    }

    func testGroupsStayTogether() {
        let dataset = unevenDataset()
        // Pair each image of class 2 with the next one, and make one big group of 20 class-0 images.
        var groups = Array(0..<dataset.count)
        for i in stride(from: 106, to: 158, by: 2) { groups[i + 1] = i }
        for i in 0..<20 { groups[i] = 0 }
        let parts = dataset.splitIndices(seed: 11, groups: groups)
        XCTAssertEqual(parts.flatMap { $0 }.sorted(), Array(0..<dataset.count))
        func part(of index: Int) -> Int { parts.firstIndex { $0.contains(index) }! }
        for i in stride(from: 106, to: 158, by: 2) { XCTAssertEqual(part(of: i), part(of: i + 1)) }
        XCTAssertEqual(Set((0..<20).map(part(of:))).count, 1)
        XCTAssertEqual(part(of: 0), 0, "the big group goes where there is most room: train")
        // Stratification survives the groups: class 2 still close to 70/20/10.
        let counts = parts.map { $0.filter { dataset.labels[$0] == 2 }.count }
        XCTAssertEqual(counts[0], 37, accuracy: 1)
        XCTAssertEqual(counts[1], 11, accuracy: 1)
    }
}
