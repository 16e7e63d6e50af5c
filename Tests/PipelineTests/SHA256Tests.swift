import Foundation
import XCTest
@testable import Pipeline

final class SHA256Tests: XCTestCase {
    func testKnownDigestsAndPiecewiseUpdates() throws {
        // FIPS 180-4 examples.
        XCTAssertEqual(SHA256.hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // Fed in uneven pieces across block boundaries: the same digest as at once.
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        var hasher = SHA256()
        var start = 0
        for size in [1, 63, 64, 65, 200, 607] {
            hasher.update(bytes[start..<(start + size)])
            start += size
        }
        XCTAssertEqual(hasher.finalize(), SHA256.hex(bytes))
        let path = NSTemporaryDirectory() + "logbook-sha-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try SHA256.hex(fileAt: path), SHA256.hex(bytes))
    }
}
