import Foundation
import XCTest
@testable import NeuralNet

/// Reference values written by Fixtures/make_reference.py with PyTorch (not needed to run the tests).
func fixture(_ name: String) throws -> [String: Tensor] {
    guard let url = Bundle.module.url(forResource: name, withExtension: "safetensors", subdirectory: "Fixtures") else {
        throw SafeTensorsError(path: name, problem: "fixture not bundled")
    }
    return try SafeTensors.read(path: url.path).byName
}

func fixtureMetadata(_ name: String) throws -> [String: String] {
    let url = Bundle.module.url(forResource: name, withExtension: "safetensors", subdirectory: "Fixtures")!
    return try SafeTensors.read(path: url.path).metadata
}

func assertClose(_ actual: Tensor, _ expected: Tensor?, tolerance: Float, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    guard let expected else { return XCTFail("\(what): reference tensor missing", file: file, line: line) }
    XCTAssertEqual(actual.count, expected.count, "\(what): \(actual.shape) vs \(expected.shape)", file: file, line: line)
    guard actual.count == expected.count else { return }
    var worst: Float = 0, worstIndex = 0
    for i in 0..<actual.count {
        let scale = max(1, abs(expected.data[i]))
        let err = abs(actual.data[i] - expected.data[i]) / scale
        if err > worst { worst = err; worstIndex = i }
    }
    XCTAssertLessThanOrEqual(worst, tolerance,
        "\(what): element \(worstIndex) is \(actual.data[worstIndex]), PyTorch says \(expected.data[worstIndex])",
        file: file, line: line)
}

/// sum(output * weights): a scalar whose gradient with respect to the output is `weights`.
func weightedSum(_ output: Tensor, _ weights: Tensor) -> Double {
    var s: Double = 0
    for i in 0..<output.count { s += Double(output.data[i]) * Double(weights.data[i]) }
    return s
}
