import Foundation
import XCTest
@testable import NeuralNet

final class SafeTensorsTests: XCTestCase {
    private var folder: String!

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "logbook-st-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    func testRoundTripInFloat32AndFloat16() throws {
        var rng = RandomGenerator(seed: 1)
        let a = Tensor(randomNormal: [2, 3, 4], using: &rng)
        let b = Tensor(shape: [], data: [42])
        let file = SafeTensors(tensors: [("a", a), ("x.num_batches_tracked", b)], metadata: ["k": "v"])
        try file.write(to: folder + "/f32.safetensors")
        let back = try SafeTensors.read(path: folder + "/f32.safetensors")
        XCTAssertEqual(back.byName["a"], a)
        XCTAssertEqual(back.byName["x.num_batches_tracked"], b)
        XCTAssertEqual(back.metadata["k"], "v")

        try file.write(to: folder + "/f16.safetensors", dtype: .f16)
        let half = try SafeTensors.read(path: folder + "/f16.safetensors")
        XCTAssertLessThan(half.byName["a"]!.maxAbsDifference(a), 4e-3)
        XCTAssertNotEqual(half.byName["a"], a, "F16 storage rounds")
        let size32 = try FileManager.default.attributesOfItem(atPath: folder + "/f32.safetensors")[.size] as! Int
        let size16 = try FileManager.default.attributesOfItem(atPath: folder + "/f16.safetensors")[.size] as! Int
        XCTAssertLessThan(size16, size32)
    }

    func testHeaderLayoutFollowsTheSpecification() throws {
        let data = SafeTensors(tensors: [("w", Tensor(shape: [2], data: [1, -2]))]).encoded()
        let length = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual(length % 8, 0)
        let header = try JSONSerialization.jsonObject(with: data[8..<(8 + length)]) as! [String: [String: Any]]
        XCTAssertEqual(header["w"]?["dtype"] as? String, "F32")
        XCTAssertEqual(header["w"]?["data_offsets"] as? [Int], [0, 8])
        XCTAssertEqual(data.count, 8 + length + 8)
        XCTAssertEqual(Array(data.suffix(4)), [0, 0, 0, 0xC0], "-2.0 little-endian")
    }

    func testBadFilesAreRefusedWithTheFileAndTheProblem() throws {
        let missing = folder + "/missing.safetensors"
        XCTAssertThrowsError(try SafeTensors.read(path: missing)) { error in
            XCTAssertEqual("\(error)", "\(missing): no such file")
        }
        let good = SafeTensors(tensors: [("w", Tensor(randomUniform: [64], bound: 1, using: &rngForTests))]).encoded()
        let truncated = folder + "/truncated.safetensors"
        try good.prefix(good.count - 10).write(to: URL(fileURLWithPath: truncated))
        XCTAssertThrowsError(try SafeTensors.read(path: truncated)) { error in
            XCTAssertTrue("\(error)".hasPrefix(truncated) && "\(error)".contains("truncated"), "\(error)")
        }
        let foreign = folder + "/foreign.safetensors"
        try Data("PK\u{3}\u{4} this is a zip, not a checkpoint".utf8).write(to: URL(fileURLWithPath: foreign))
        XCTAssertThrowsError(try SafeTensors.read(path: foreign)) { error in
            XCTAssertTrue("\(error)".contains("not a safetensors file"), "\(error)")
        }
    }

    func testModelFilesRoundTripAndRefuseTheWrongArchitecture() throws {
        let model = ResNet(config: ModelConfig(architecture: .resnet18, width: 0.0625), seed: 3)
        var rng = RandomGenerator(seed: 4)
        let x = Tensor(randomNormal: [2, 1, 64, 64], using: &rng)
        _ = model.forward(x, training: true)  // move the running statistics off their defaults
        let before = model.forward(x, training: false)
        let path = folder + "/model.safetensors"
        try model.save(to: path)
        let loaded = try ResNet.load(path: path)
        XCTAssertEqual(loaded.config, model.config)
        XCTAssertEqual(loaded.forward(x, training: false), before)
        XCTAssertEqual(loaded.bn1.batchesTracked.value.data[0], 1)

        let other = ResNet(config: ModelConfig(architecture: .resnet18, width: 0.125), seed: 3)
        XCTAssertThrowsError(try other.load(stateDict: try SafeTensors.read(path: path).byName, source: path)) { error in
            XCTAssertTrue("\(error)".contains("has shape"), "\(error)")
        }
        let lstm = ResNet(config: ModelConfig(architecture: .resnet18LSTM, width: 0.0625), seed: 3)
        XCTAssertThrowsError(try lstm.load(stateDict: try SafeTensors.read(path: path).byName, source: path)) { error in
            XCTAssertTrue("\(error)".contains("missing"), "\(error)")
        }
        let bare = folder + "/bare.safetensors"
        try SafeTensors(tensors: model.stateDict()).write(to: bare)
        XCTAssertThrowsError(try ResNet.load(path: bare)) { error in
            XCTAssertTrue("\(error)".contains("not a Logbook model file"), "\(error)")
        }
        XCTAssertNoThrow(try ResNet.load(path: bare, config: model.config), "a PyTorch export loads with its config given")
    }
}

nonisolated(unsafe) var rngForTests = RandomGenerator(seed: 123)
