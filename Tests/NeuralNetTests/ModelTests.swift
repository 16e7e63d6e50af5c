import XCTest
@testable import NeuralNet

final class ModelTests: XCTestCase {
    /// Parameter and FLOP counts of the full-width models, against benchmarks/reference_models.py
    /// (PyTorch: 0.2833 and 0.2172 GFLOP per 64x64 image).
    func testFullWidthModelsHaveTheReferenceSizes() {
        let cnn = ResNet(config: ModelConfig(architecture: .resnet18))
        XCTAssertEqual(cnn.parameters.reduce(0) { $0 + $1.value.count }, 11_175_370)
        XCTAssertEqual(cnn.forwardFlopsPerImage / 1e9, 0.2833, accuracy: 1e-4)
        let compound = ResNet(config: ModelConfig(architecture: .resnet18LSTM))
        XCTAssertEqual(compound.parameters.reduce(0) { $0 + $1.value.count }, 2_912_266)
        XCTAssertEqual(compound.forwardFlopsPerImage / 1e9, 0.2172, accuracy: 1e-4)
        XCTAssertEqual(compound.lstm?.inputSize, 256 * 4, "layer3's 4x4 map: 256 channels x 4 rows per column")
    }

    func testWidthIsData() {
        XCTAssertEqual(ModelConfig(architecture: .resnet18, width: 0.5).stageChannels, [32, 64, 128, 256])
        XCTAssertEqual(ModelConfig(architecture: .resnet18, blocks: [1, 1, 1, 1], width: 0.25).stageChannels, [16, 32, 64, 128])
        let shallow = ResNet(config: ModelConfig(architecture: .resnet18, blocks: [1, 1, 1, 1], width: 0.25))
        XCTAssertEqual(shallow.stages.map(\.count), [1, 1, 1, 1])
        var rng = RandomGenerator(seed: 1)
        let logits = shallow.forward(Tensor(randomUniform: [3, 1, 64, 64], bound: 1, using: &rng), training: false)
        XCTAssertEqual(logits.shape, [3, 10])
    }

    func testEvaluationIsDeterministicAndIndependentOfBatchComposition() {
        let model = ResNet(config: ModelConfig(architecture: .resnet18LSTM, width: 0.125), seed: 2)
        var rng = RandomGenerator(seed: 3)
        let batch = Tensor(randomUniform: [4, 1, 64, 64], bound: 1, using: &rng)
        let all = model.forward(batch, training: false)
        let first = model.forward(batch.slice(0..<1), training: false)
        for j in 0..<10 { XCTAssertEqual(all.data[j], first.data[j], accuracy: 1e-5) }
        XCTAssertEqual(model.forward(batch, training: false), all)
    }
}

final class InputGradientTests: XCTestCase {
    /// Turning off the input gradient changes nothing else: the same parameter gradients.
    func testSkippingTheInputGradientKeepsParameterGradients() {
        var rng = RandomGenerator(seed: 8)
        let x = Tensor(randomUniform: [4, 1, 64, 64], bound: 1, using: &rng)
        let dy = Tensor(randomNormal: [4, 10], using: &rng)
        var grads: [[Tensor]] = []
        for computes in [true, false] {
            let model = ResNet(config: ModelConfig(architecture: .resnet18, width: 0.0625), seed: 3)
            model.computesInputGradient = computes
            _ = model.forward(x, training: true)
            model.zeroGrad()
            let dx = model.backward(dy)
            XCTAssertEqual(dx.count, computes ? x.count : 0)
            grads.append(model.parameters.map(\.grad))
        }
        for (a, b) in zip(grads[0], grads[1]) { XCTAssertEqual(a, b) }
    }
}
