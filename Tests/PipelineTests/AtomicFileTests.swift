import Foundation
import XCTest
@testable import Pipeline

final class AtomicFileTests: XCTestCase {
    func testReplacesTheWholeFileAndLeavesNoTemporaryFiles() throws {
        let folder = NSTemporaryDirectory() + "logbook-atomic-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/nested/out.csv"
        try AtomicFile.write("a,b\n1,2\n", to: path)
        try AtomicFile.write("a,b\n3,4\n", to: path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "a,b\n3,4\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder + "/nested"), ["out.csv"])
        XCTAssertThrowsError(try AtomicFile.write("x", to: "/proc/logbook-cannot-write/out.csv"))
    }
}
