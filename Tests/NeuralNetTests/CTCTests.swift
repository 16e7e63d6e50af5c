import XCTest
@testable import NeuralNet

final class CTCTests: XCTestCase {
    override func setUp() { Threads.set(2) }

    private func fixtureTargets(_ f: [String: Tensor]) -> [[Int]] {
        let padded = f["targets"]!, lengths = f["target_lengths"]!.data.map { Int($0) }
        let width = padded.shape[1]
        return lengths.enumerated().map { i, length in (0..<length).map { Int(padded.data[i * width + $0]) } }
    }

    func testMatchesPyTorch() throws {
        let f = try fixture("ctc_loss")
        let targets = fixtureTargets(f)
        let inputLengths = f["input_lengths"]!.data.map { Int($0) }
        for reduction in [CTCReduction.mean, .sum] {
            let result = ctcLoss(logits: f["logits"]!, targets: targets, inputLengths: inputLengths, reduction: reduction)
            XCTAssertEqual(result.loss, f["loss_\(reduction.rawValue)"]!.data[0], accuracy: 1e-4 * max(1, result.loss))
            assertClose(result.gradient, f["dlogits_\(reduction.rawValue)"], tolerance: 1e-5, "ctc dlogits (\(reduction))")
        }
        let none = ctcLoss(logits: f["logits"]!, targets: targets, inputLengths: inputLengths)
        assertClose(Tensor(shape: [targets.count], data: none.sequenceLosses), f["sequence_losses"], tolerance: 1e-5, "per-sequence losses")
    }

    /// Central differences of the loss against the analytic gradient, every logit of a tiny batch.
    func testGradientMatchesFiniteDifferences() {
        var rng = RandomGenerator(seed: 11)
        var logits = Tensor(randomNormal: [3, 7, 5], std: 1.5, using: &rng)
        let targets = [[1, 1, 2], [4, 3], []]
        let lengths = [7, 6, 7]
        let analytic = ctcLoss(logits: logits, targets: targets, inputLengths: lengths).gradient
        let eps: Float = 1e-2
        var worst: Double = 0
        for i in 0..<logits.count {
            let saved = logits.data[i]
            logits.data[i] = saved + eps
            let plus = Double(ctcLoss(logits: logits, targets: targets, inputLengths: lengths).loss)
            logits.data[i] = saved - eps
            let minus = Double(ctcLoss(logits: logits, targets: targets, inputLengths: lengths).loss)
            logits.data[i] = saved
            worst = max(worst, abs((plus - minus) / Double(2 * eps) - Double(analytic.data[i])))
        }
        XCTAssertLessThan(worst, 2e-3)
        // Frames past a sequence's length get no gradient.
        for c in 0..<5 { XCTAssertEqual(analytic.data[(1 * 7 + 6) * 5 + c], 0) }
    }

    func testImpossibleTargetIsZeroedLikeZeroInfinity() {
        var rng = RandomGenerator(seed: 2)
        let logits = Tensor(randomNormal: [2, 3, 4], using: &rng)
        // [1, 1, 1] needs 5 frames (blanks between the repeats); only 3 are given.
        let result = ctcLoss(logits: logits, targets: [[1, 1, 1], [2]], reduction: .sum)
        XCTAssertEqual(result.sequenceLosses[0], .infinity)
        XCTAssertTrue(result.sequenceLosses[1].isFinite)
        XCTAssertEqual(result.loss, result.sequenceLosses[1], accuracy: 1e-5)
        XCTAssertTrue(result.gradient.data[0..<12].allSatisfy { $0 == 0 })
    }

    func testGreedyDecodingMergesRepeatsAndDropsBlanks() {
        // Frames: 1, 1, blank, 1, 2, 2, blank -> "1 1 2"
        let best = [1, 1, 0, 1, 2, 2, 0]
        var p = [Float](repeating: 0.05, count: 7 * 3)
        for (t, c) in best.enumerated() { p[t * 3 + c] = 0.9 }
        p[1 * 3 + 1] = 0.95
        let decoded = p.withUnsafeBufferPointer { ctcGreedyDecode(probabilities: $0, frames: 7, classes: 3) }
        XCTAssertEqual(decoded.map(\.label), [1, 1, 2])
        XCTAssertEqual(decoded[0].firstFrame, 0)
        XCTAssertEqual(decoded[0].lastFrame, 1)
        XCTAssertEqual(decoded[0].peakFrame, 1)
        XCTAssertEqual(decoded[0].probability, 0.95)
        XCTAssertEqual(decoded[2].firstFrame, 4)
    }
}

final class CRNNTests: XCTestCase {
    override func setUp() { Threads.set(2) }

    private let tiny = CRNNConfig(inputHeight: 8, inputWidth: 12, convChannels: [3, 4], pools: [[2, 2], [2, 1]],
                                  lstmHidden: 3, bidirectional: true, alphabet: "0123")

    func testShapesFollowTheConfiguration() {
        XCTAssertEqual(CRNNConfig().frames, 32)
        XCTAssertEqual(CRNNConfig().featureHeight, 1)
        XCTAssertEqual(tiny.frames, 6)
        XCTAssertEqual(tiny.featureHeight, 2)
        XCTAssertNotNil(CRNNConfig(convChannels: [8], pools: [[2, 2], [2, 1]]).problem)
        let model = CRNN(config: tiny, seed: 1)
        var rng = RandomGenerator(seed: 1)
        let logits = model.forward(Tensor(randomUniform: [2, 1, 8, 12], bound: 1, using: &rng), training: false)
        XCTAssertEqual(logits.shape, [2, 6, 5])
        XCTAssertTrue(model.namedState().contains { $0.0 == "lstm.weight_hh_l0_reverse" })
    }

    /// Finite differences through the whole network and the CTC loss (training mode: batch
    /// statistics), for the input and a sample of every parameter.
    func testGradientThroughNetworkAndCTC() {
        for bidirectional in [true, false] {
            var config = tiny
            config.bidirectional = bidirectional
            let model = CRNN(config: config, seed: 4)
            var rng = RandomGenerator(seed: 5)
            var x = Tensor(randomUniform: [3, 1, 8, 12], bound: 1, using: &rng)
            let targets = [[1, 2], [3], [4, 4]]
            func loss() -> Double { Double(ctcLoss(logits: model.forward(x, training: true), targets: targets).loss) }
            let logits = model.forward(x, training: true)
            model.zeroGrad()
            let dx = model.backward(ctcLoss(logits: logits, targets: targets).gradient)
            let grads = model.parameters.map(\.grad)
            let eps: Float = 1e-2
            func compare(_ numeric: Double, _ analytic: Float, _ what: String) {
                XCTAssertLessThanOrEqual(abs(numeric - Double(analytic)), 1e-2 + 3e-2 * abs(numeric), what)
            }
            for _ in 0..<12 {
                let i = rng.nextInt(x.count)
                let saved = x.data[i]
                x.data[i] = saved + eps; let plus = loss()
                x.data[i] = saved - eps; let minus = loss()
                x.data[i] = saved
                compare((plus - minus) / Double(2 * eps), dx.data[i], "d input[\(i)]")
            }
            for (p, (parameter, grad)) in zip(model.parameters, grads).enumerated() {
                for _ in 0..<3 {
                    let i = rng.nextInt(parameter.value.count)
                    let saved = parameter.value.data[i]
                    parameter.value.data[i] = saved + eps; let plus = loss()
                    parameter.value.data[i] = saved - eps; let minus = loss()
                    parameter.value.data[i] = saved
                    compare((plus - minus) / Double(2 * eps), grad.data[i], "d parameter \(p)[\(i)] (bidirectional \(bidirectional))")
                }
            }
        }
    }

    func testWindowMaxPoolGradientGoesToTheMaximum() {
        let pool = MaxPool2D(kernelHeight: 2, kernelWidth: 1)
        let x = Tensor(shape: [1, 1, 2, 3], data: [1, 5, 2, 4, 0, 3])
        XCTAssertEqual(pool.forward(x, training: true).data, [4, 5, 3])
        XCTAssertEqual(pool.backward(Tensor(shape: [1, 1, 1, 3], data: [1, 2, 3])).data, [0, 2, 0, 1, 0, 3])
    }

    func testCheckpointRoundTripAndRefusals() throws {
        let model = CRNN(config: tiny, seed: 9)
        var rng = RandomGenerator(seed: 2)
        let x = Tensor(randomUniform: [2, 1, 8, 12], bound: 1, using: &rng)
        _ = model.forward(x, training: true)   // moves the running statistics off their defaults
        let expected = model.forward(x, training: false)
        let folder = NSTemporaryDirectory() + "logbook-crnn-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/m.safetensors"
        try model.save(to: path)
        let loaded = try CRNN.load(path: path)
        XCTAssertEqual(loaded.config, tiny)
        XCTAssertEqual(loaded.forward(x, training: false), expected)
        try model.save(to: path, dtype: .f16)
        XCTAssertLessThan(try CRNN.load(path: path).forward(x, training: false).maxAbsDifference(expected), 2e-2)

        // A digit classifier's file is not a CRNN.
        try ResNet(config: ModelConfig(architecture: .resnet18, blocks: [1, 1, 1, 1], width: 0.0625)).save(to: path)
        XCTAssertThrowsError(try CRNN.load(path: path)) { error in
            XCTAssertTrue("\(error)".contains("no CRNN description"), "\(error)")
        }
        var wider = tiny
        wider.lstmHidden = 4
        let other = CRNN(config: wider)
        var tensors: [String: Tensor] = [:]
        for (name, tensor) in model.stateDict() { tensors[name] = tensor }
        XCTAssertThrowsError(try other.load(stateDict: tensors, source: "x"))
    }
}
