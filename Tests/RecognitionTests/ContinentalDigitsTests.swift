import XCTest
import NeuralNet
@testable import Recognition

final class ContinentalDigitsTests: XCTestCase {
    let side = DigitDataset.side

    /// A plain upright stroke from (x, top) to (x, bottom), 4 pixels wide: an American 1, or a 7's stem.
    func bar(x: Int, top: Int, bottom: Int, into image: inout [Float]) {
        for y in top...bottom { for dx in 0..<4 { image[y * side + x + dx] = 1 } }
    }

    func ink(_ image: [Float], rows: Range<Int>, columns: Range<Int>) -> Int {
        rows.reduce(0) { sum, y in sum + columns.filter { image[y * side + $0] > 0.5 }.count }
    }

    func testOneGetsAFlagUpToItsTop() {
        var one = [Float](repeating: 0, count: side * side)
        bar(x: 30, top: 8, bottom: 55, into: &one)
        let before = one
        var rng = RandomGenerator(seed: 3)
        XCTAssertTrue(ContinentalDigits.restyle(&one, side: side, digit: 1, rng: &rng))
        // New ink left of the stem in the top third only; nothing right of it or below.
        XCTAssertGreaterThan(ink(one, rows: 8..<24, columns: 0..<30), 10)
        XCTAssertEqual(ink(one, rows: 28..<side, columns: 0..<30), 0)
        XCTAssertEqual(ink(one, rows: 0..<side, columns: 35..<side), 0)
        XCTAssertEqual(ink(one, rows: 0..<5, columns: 0..<side), 0, "the flag ends at the 1's top")
        XCTAssertTrue(zip(before, one).allSatisfy { $1 >= $0 }, "restyling only adds ink")
    }

    func testSevenGetsABarAcrossItsStemBelowTheMiddle() {
        var seven = [Float](repeating: 0, count: side * side)
        for x in 14..<46 { for dy in 0..<4 { seven[(8 + dy) * side + x] = 1 } }   // top arm
        bar(x: 28, top: 8, bottom: 55, into: &seven)
        var rng = RandomGenerator(seed: 9)
        XCTAssertTrue(ContinentalDigits.restyle(&seven, side: side, digit: 7, rng: &rng))
        let middle = 22..<46   // 45-62% of the 48 rows, give or take tilt and pen width
        XCTAssertGreaterThan(ink(seven, rows: middle, columns: 0..<27), 4, "bar reaches left of the stem")
        XCTAssertGreaterThan(ink(seven, rows: middle, columns: 33..<side), 4, "bar reaches right of the stem")
        XCTAssertEqual(ink(seven, rows: 12..<middle.lowerBound, columns: 0..<27), 0)
        XCTAssertEqual(ink(seven, rows: middle.upperBound..<side, columns: 33..<side), 0)
    }

    func testOtherDigitsAndBlankImagesStayAsTheyAre() {
        var four = [Float](repeating: 0, count: side * side)
        bar(x: 30, top: 8, bottom: 55, into: &four)
        let before = four
        var rng = RandomGenerator(seed: 1)
        XCTAssertFalse(ContinentalDigits.restyle(&four, side: side, digit: 4, rng: &rng))
        XCTAssertEqual(four, before)
        var blank = [Float](repeating: 0, count: side * side)
        XCTAssertFalse(ContinentalDigits.restyle(&blank, side: side, digit: 7, rng: &rng))
        XCTAssertTrue(blank.allSatisfy { $0 == 0 })
    }

    func testSameGeneratorSameStroke() {
        var a = [Float](repeating: 0, count: side * side)
        bar(x: 30, top: 8, bottom: 55, into: &a)
        var b = a
        var r1 = RandomGenerator(seed: 42), r2 = RandomGenerator(seed: 42)
        ContinentalDigits.restyle(&a, side: side, digit: 1, rng: &r1)
        ContinentalDigits.restyle(&b, side: side, digit: 1, rng: &r2)
        XCTAssertEqual(a, b)
    }
}
