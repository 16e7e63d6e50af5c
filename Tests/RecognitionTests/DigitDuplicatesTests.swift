import Imaging
import XCTest
@testable import Recognition

final class DigitDuplicatesTests: XCTestCase {
    /// `image` moved right by `dx` and down by `dy` pixels in the 64x64 field.
    private func shifted(_ image: [Float], dx: Int, dy: Int) -> [Float] {
        var result = [Float](repeating: 0, count: image.count)
        for y in 0..<64 { for x in 0..<64 {
            let sx = x - dx, sy = y - dy
            if sx >= 0 && sx < 64 && sy >= 0 && sy < 64 { result[y * 64 + x] = image[sy * 64 + sx] }
        } }
        return result
    }

    /// The synthetic raw digit re-rendered at 20x20 (the way OpenCV's set renders MNIST's digits), normalised.
    private func lowResolutionCopy(label: Int, seed: Int) -> [Float] {
        let raw = GrayImage(width: 28, height: 28, pixels: syntheticMNISTBytes(label: label, seed: seed).map { Float($0) / 255 })
        return DigitNormalizer.normalize(ink: raw.resized(width: 20, height: 20).pixels, width: 20, height: 20)
    }

    func testSignaturesAreUnitLengthAndBlankIsZero() {
        var dataset = syntheticDataset(perClass: 1)
        dataset.append(contentsOf: DigitDataset(images: [Float](repeating: 0, count: 4096), labels: [0], origins: ["blank"]))
        let signatures = dataset.duplicateSignatures()
        XCTAssertEqual(signatures.count, 11 * 256)
        for i in 0..<10 {
            let norm = (0..<256).reduce(Float(0)) { $0 + signatures[i * 256 + $1] * signatures[i * 256 + $1] }
            XCTAssertEqual(norm, 1, accuracy: 1e-4)
        }
        XCTAssertTrue(signatures[(10 * 256)...].allSatisfy { $0 == 0 })
    }

    func testFindsInjectedCopiesButNotDistinctDigits() {
        let originals = syntheticDataset(perClass: 10, seed: 1, prefix: "original")
        var others = syntheticDataset(perClass: 10, seed: 2, prefix: "other")
        // Inject: original 13 shifted by a pixel, original 57 re-rendered at 20x20.
        let copies = DigitDataset(images: shifted(originals.image(at: 13), dx: 1, dy: 0) + lowResolutionCopy(label: 5, seed: 100_000 + 7),
                                  labels: [originals.labels[13], 5], origins: ["copy-of-13", "copy-of-57"])
        XCTAssertEqual(originals.labels[57], 5)
        others.append(contentsOf: copies)

        let pairs = others.duplicatePairs(of: originals)
        XCTAssertEqual(pairs.map(\.index), [100, 101], "\(pairs)")
        XCTAssertEqual(pairs.map(\.otherIndex), [13, 57])
        XCTAssertTrue(pairs.allSatisfy { $0.similarity >= DigitDataset.defaultDuplicateThreshold && $0.similarity <= 1.0001 })
        XCTAssertEqual(others.duplicateIndices(of: originals), [100, 101])
        XCTAssertEqual(others.duplicateIndices(of: originals, sameLabelOnly: true), [100, 101])
        XCTAssertEqual(others.deduplicated(against: originals).count, 100)
        XCTAssertEqual(originals.duplicateIndices(of: others), [13, 57], "symmetric")

        let nearest = others.nearestMatches(in: originals)
        XCTAssertEqual(nearest[100].index, 13)
        XCTAssertLessThan(nearest[0].similarity, DigitDataset.defaultDuplicateThreshold)
    }

    func testDuplicatesWithinOneDataset() {
        var dataset = syntheticDataset(perClass: 6, seed: 3)
        let copy = DigitDataset(images: shifted(dataset.image(at: 20), dx: 0, dy: -1) + dataset.image(at: 41),
                                labels: [dataset.labels[20], dataset.labels[41]], origins: ["near", "exact"])
        dataset.append(contentsOf: copy)
        XCTAssertEqual(dataset.exactDuplicateIndices(), [61])
        XCTAssertEqual(copy.exactDuplicateIndices(after: syntheticDataset(perClass: 6, seed: 3)), [1])
        XCTAssertEqual((copy + copy).exactDuplicateIndices(after: DigitDataset()), [2, 3])
        XCTAssertEqual(dataset.removingExactDuplicates().count, 61)
        let pairs = dataset.internalDuplicatePairs()
        XCTAssertEqual(pairs.map { [$0.index, $0.otherIndex] }, [[20, 60], [41, 61]])
        XCTAssertEqual(dataset.mutualBestDuplicatePairs().map { [$0.index, $0.otherIndex] }, [[20, 60], [41, 61]])
    }

    func testCorpusDropsDerivedCopiesAndKeepsNearDuplicatesTogether() {
        var original = syntheticDataset(perClass: 10, seed: 4, prefix: "original")
        // A near-duplicate pair inside the first source: must land in the same part.
        original.append(contentsOf: DigitDataset(images: shifted(original.image(at: 33), dx: 1, dy: 1), labels: [original.labels[33]],
                                                 origins: ["original:near-33"]))
        // A derived source: 3 re-rendered copies of originals and 20 new digits.
        var derived = syntheticDataset(perClass: 2, seed: 5, prefix: "derived")
        derived.append(contentsOf: DigitDataset(images: (0..<3).flatMap { lowResolutionCopy(label: $0 + 2, seed: 400_000 + $0) },
                                                labels: [2, 3, 4], origins: ["derived:c0", "derived:c1", "derived:c2"]))
        XCTAssertEqual(original.labels[20], 2)
        // A plain source with an exact copy of an original.
        let plain = DigitDataset(images: original.image(at: 70), labels: [original.labels[70]], origins: ["plain:0"])

        let corpus = DigitCorpus.build(sources: [.init(name: "original", dataset: original),
                                                 .init(name: "derived", dataset: derived, isDerived: true),
                                                 .init(name: "plain", dataset: plain)], seed: 9)
        let summary = corpus.summary
        XCTAssertEqual(summary.sources.map(\.copiesRemoved), [0, 3, 0])
        XCTAssertEqual(summary.sources.map(\.exactDuplicatesRemoved), [0, 0, 1])
        XCTAssertEqual(summary.sources.map(\.kept), [101, 20, 0])
        XCTAssertEqual(corpus.train.count + corpus.validation.count + corpus.test.count, 121)
        XCTAssertEqual([summary.train.count, summary.validation.count, summary.test.count],
                       [corpus.train.count, corpus.validation.count, corpus.test.count])
        XCTAssertGreaterThanOrEqual(summary.nearDuplicatePairsKeptTogether, 1)
        let partWith33 = [corpus.train, corpus.validation, corpus.test].firstIndex { $0.origins.contains("original:33") }
        let partWithNear = [corpus.train, corpus.validation, corpus.test].firstIndex { $0.origins.contains("original:near-33") }
        XCTAssertNotNil(partWith33)
        XCTAssertEqual(partWith33, partWithNear)
        XCTAssertFalse(corpus.train.origins.contains { $0.hasPrefix("derived:c") })
        XCTAssertTrue(summary.text.contains("derived: 23 loaded, 0 exact duplicates and 3 copies"), summary.text)
        // Same inputs, same corpus.
        let again = DigitCorpus.build(sources: [.init(name: "original", dataset: original),
                                                .init(name: "derived", dataset: derived, isDerived: true),
                                                .init(name: "plain", dataset: plain)], seed: 9)
        XCTAssertEqual(again.test.origins, corpus.test.origins)
    }
}
