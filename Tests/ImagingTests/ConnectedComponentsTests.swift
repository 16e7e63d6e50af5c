import XCTest
@testable import Imaging

final class ConnectedComponentsTests: XCTestCase {
    /// A mask from rows of "#" (foreground) and "." (background).
    private func mask(_ rows: [String]) -> (mask: [Bool], width: Int, height: Int) {
        let width = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == width })
        return (rows.flatMap { $0.map { $0 == "#" } }, width, rows.count)
    }

    func testTwoBlobs() {
        let m = mask([
            "##....",
            "##..##",
            "....##",
            "....#.",
        ])
        let (labels, components) = connectedComponents(of: m.mask, width: m.width, height: m.height)
        XCTAssertEqual(components.count, 2)
        XCTAssertEqual(components[0].label, 1)
        XCTAssertEqual(components[0].pixelCount, 4)
        XCTAssertEqual([components[0].minX, components[0].minY, components[0].maxX, components[0].maxY], [0, 0, 1, 1])
        XCTAssertEqual(components[0].centroid.x, 0.5, accuracy: 1e-12)
        XCTAssertEqual(components[0].centroid.y, 0.5, accuracy: 1e-12)
        XCTAssertEqual(components[1].pixelCount, 5)
        XCTAssertEqual([components[1].minX, components[1].minY, components[1].maxX, components[1].maxY], [4, 1, 5, 3])
        XCTAssertEqual(components[1].width, 2)
        XCTAssertEqual(components[1].height, 3)
        XCTAssertEqual(components[1].centroid.x, (4 + 5 + 4 + 5 + 4) / 5.0, accuracy: 1e-12)
        XCTAssertEqual(components[1].centroid.y, (1 + 1 + 2 + 2 + 3) / 5.0, accuracy: 1e-12)
        XCTAssertEqual(labels, [1, 1, 0, 0, 0, 0,
                                1, 1, 0, 0, 2, 2,
                                0, 0, 0, 0, 2, 2,
                                0, 0, 0, 0, 2, 0])
    }

    func testDiagonalTouchIsConnectedWithEightButNotFour() {
        let m = mask([
            "#...",
            ".#..",
            "..#.",
            "...#",
        ])
        let eight = connectedComponents(of: m.mask, width: 4, height: 4, connectivity: 8)
        XCTAssertEqual(eight.components.count, 1)
        XCTAssertEqual(eight.components[0].pixelCount, 4)
        let four = connectedComponents(of: m.mask, width: 4, height: 4, connectivity: 4)
        XCTAssertEqual(four.components.count, 4)
        XCTAssertTrue(four.components.allSatisfy { $0.pixelCount == 1 })
    }

    /// An anti-diagonal joins through the up-right neighbour, and a U shape whose arms get
    /// different provisional labels must be merged into one component.
    func testAntiDiagonalAndUShapeMerge() {
        let m = mask([
            "#.#..#",
            "#.#.#.",
            "###...",
        ])
        let (labels, components) = connectedComponents(of: m.mask, width: m.width, height: m.height)
        XCTAssertEqual(components.count, 2)
        XCTAssertEqual(components[0].pixelCount, 7)
        XCTAssertEqual(components[1].pixelCount, 2)
        XCTAssertEqual(labels[0], labels[2])
        XCTAssertEqual(labels[5], labels[10])
        XCTAssertEqual(components.map(\.label), [1, 2])
    }

    func testEmptyAndBlankImages() {
        let empty = connectedComponents(of: [], width: 0, height: 0)
        XCTAssertTrue(empty.labels.isEmpty)
        XCTAssertTrue(empty.components.isEmpty)
        let blank = connectedComponents(of: [Bool](repeating: false, count: 12), width: 4, height: 3)
        XCTAssertEqual(blank.labels, [Int32](repeating: 0, count: 12))
        XCTAssertTrue(blank.components.isEmpty)
    }

    func testSpiralIsOneComponent() {
        // Many provisional labels that only meet late: exercises union-find path handling.
        let m = mask([
            "#######",
            "#.....#",
            "#.###.#",
            "#.#.#.#",
            "#.#...#",
            "#.#####",
        ])
        let (labels, components) = connectedComponents(of: m.mask, width: m.width, height: m.height)
        XCTAssertEqual(components.count, 1)
        XCTAssertEqual(components[0].pixelCount, m.mask.filter { $0 }.count)
        XCTAssertEqual(Set(labels), [0, 1])
    }

    func testInkMaskMarksDarkPixels() {
        let image = GrayImage(width: 3, height: 1, pixels: [0, 0.49, 0.9])
        XCTAssertEqual(image.inkMask(), [true, true, false])
        XCTAssertEqual(image.inkMask(threshold: 0.3), [true, false, false])
    }

    func testLargeMaskIsFast() {
        let width = 1000, height = 1000
        var m = [Bool](repeating: false, count: width * height)
        for y in stride(from: 0, to: height, by: 4) { for x in 0..<width where (x / 3) % 2 == 0 { m[y * width + x] = true } }
        let (_, components) = connectedComponents(of: m, width: width, height: height)
        XCTAssertEqual(components.count, (height / 4) * ((width + 5) / 6))
    }
}
