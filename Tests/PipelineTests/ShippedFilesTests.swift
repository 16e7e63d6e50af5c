import Foundation
import XCTest
@testable import Pipeline

/// The shipped model and pipeline are found when the tool runs outside the checkout.
final class ShippedFilesTests: XCTestCase {
    func testFoundUnderTheHomeOrAboveTheExecutableElseLeftAsGiven() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("shipped-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let relative = "models-\(UUID().uuidString)/model.safetensors"   // exists nowhere else
        let checkout = root + "/checkout", home = root + "/home"
        for folder in [checkout, home] {
            try FileManager.default.createDirectory(atPath: folder + "/" + (relative as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try Data("x".utf8).write(to: URL(fileURLWithPath: folder + "/" + relative))
        }
        let executable = checkout + "/.build/release/logbook"
        XCTAssertEqual(ShippedFiles.path(relative, environment: [:], executable: executable), checkout + "/" + relative)
        XCTAssertEqual(ShippedFiles.path(relative, environment: ["LOGBOOK_HOME": home], executable: executable), home + "/" + relative)
        XCTAssertEqual(ShippedFiles.path(relative, environment: [:], executable: root + "/elsewhere/bin/logbook"), relative)
        XCTAssertEqual(ShippedFiles.path(relative, environment: [:], executable: nil), relative)
        // Absolute paths, and relative ones that exist from here, are taken as given.
        XCTAssertEqual(ShippedFiles.path("/no/such/file", environment: ["LOGBOOK_HOME": home], executable: executable), "/no/such/file")
        let here = FileManager.default.currentDirectoryPath
        let local = "local-\(UUID().uuidString).txt"
        try Data("x".utf8).write(to: URL(fileURLWithPath: here + "/" + local))
        defer { try? FileManager.default.removeItem(atPath: here + "/" + local) }
        XCTAssertEqual(ShippedFiles.path(local, environment: ["LOGBOOK_HOME": home], executable: executable), local)
    }
}
