import XCTest
@testable import NeuralNet

/// Central finite differences of L = sum(forward(x) * r) against each layer's backward.
final class GradientCheckTests: XCTestCase {
    override func setUp() { Threads.set(2) }

    private func check(_ layer: Layer, input: Tensor, training: Bool = true, eps: Float = 1e-2,
                       tolerance: Double = 2e-2, samples: Int = 24, seed: UInt64 = 7,
                       file: StaticString = #filePath, line: UInt = #line) {
        var rng = RandomGenerator(seed: seed)
        let y = layer.forward(input, training: training)
        let r = Tensor(randomNormal: y.shape, using: &rng)
        layer.zeroGrad()
        let dx = layer.backward(r)
        let parameterGrads = layer.parameters.map(\.grad)

        func loss() -> Double { weightedSum(layer.forward(input, training: training), r) }
        func compare(_ numeric: Double, _ analytic: Float, _ what: String) {
            let err = abs(numeric - Double(analytic)) / max(1, abs(numeric))
            XCTAssertLessThanOrEqual(err, tolerance, "\(what): numeric \(numeric), backward \(analytic)", file: file, line: line)
        }

        var x = input
        for _ in 0..<samples {
            let i = rng.nextInt(x.count)
            let saved = x.data[i]
            x.data[i] = saved + eps
            let plus = weightedSum(layer.forward(x, training: training), r)
            x.data[i] = saved - eps
            let minus = weightedSum(layer.forward(x, training: training), r)
            x.data[i] = saved
            compare((plus - minus) / Double(2 * eps), dx.data[i], "d input[\(i)]")
        }
        for (p, (parameter, grad)) in zip(layer.parameters, parameterGrads).enumerated() {
            for _ in 0..<max(1, samples / 2) {
                let i = rng.nextInt(parameter.value.count)
                let saved = parameter.value.data[i]
                parameter.value.data[i] = saved + eps
                let plus = loss()
                parameter.value.data[i] = saved - eps
                let minus = loss()
                parameter.value.data[i] = saved
                compare((plus - minus) / Double(2 * eps), grad.data[i], "d parameter \(p)[\(i)]")
            }
        }
    }

    private func random(_ shape: [Int], seed: UInt64 = 3) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        return Tensor(randomNormal: shape, using: &rng)
    }

    func testConv2D() {
        var rng = RandomGenerator(seed: 1)
        check(Conv2D(inChannels: 3, outChannels: 4, kernelSize: 3, stride: 1, padding: 1, rng: &rng), input: random([2, 3, 6, 6]))
        check(Conv2D(inChannels: 2, outChannels: 3, kernelSize: 7, stride: 2, padding: 3, bias: false, rng: &rng), input: random([2, 2, 9, 9]))
        check(Conv2D(inChannels: 4, outChannels: 2, kernelSize: 1, stride: 2, padding: 0, rng: &rng), input: random([3, 4, 5, 5]))
        check(Conv2D(inChannels: 2, outChannels: 2, kernelSize: 3, stride: 2, padding: 1, rng: &rng), input: random([1, 2, 7, 5]))
    }

    func testBatchNorm() {
        let bn = BatchNorm(channels: 3)
        var rng = RandomGenerator(seed: 2)
        bn.weight.value = Tensor(randomNormal: [3], using: &rng)
        bn.bias.value = Tensor(randomNormal: [3], using: &rng)
        check(bn, input: random([4, 3, 3, 3]), eps: 1e-2)
        bn.runningMean.value = Tensor(randomNormal: [3], using: &rng)
        check(bn, input: random([4, 3, 3, 3]), training: false)
        check(BatchNorm(channels: 5), input: random([6, 5]))
    }

    func testActivationsAndPooling() {
        check(ReLU(), input: random([2, 3, 4, 4]), eps: 1e-3)
        check(MaxPool2D(kernelSize: 3, stride: 2, padding: 1), input: random([2, 2, 7, 7]), eps: 1e-3)
        check(MaxPool2D(kernelSize: 2, stride: 2), input: random([1, 3, 6, 6]), eps: 1e-3)
        check(GlobalAvgPool2D(), input: random([2, 3, 4, 5]))
    }

    func testLinearAndLSTM() {
        var rng = RandomGenerator(seed: 4)
        check(Linear(inFeatures: 6, outFeatures: 3, rng: &rng), input: random([4, 6]))
        check(LSTM(inputSize: 5, hiddenSize: 4, rng: &rng), input: random([3, 4, 5]), eps: 1e-2)
    }

    /// Composite networks are checked along random directions of all parameters and the input at
    /// once: (L(w + e d) - L(w - e d)) / 2e = <grad, d>. The step is small (1e-4) because a deep
    /// stack of batch norms and ReLUs bends sharply: at 1e-3 steps cross ReLU kinks and the
    /// difference quotient is off by 30% even where backward agrees with PyTorch to 1e-5.
    private func checkDirectional(_ layer: Layer, input: Tensor, directions: Int = 4, eps: Float = 1e-4,
                                  tolerance: Double = 2e-2, file: StaticString = #filePath, line: UInt = #line) {
        var rng = RandomGenerator(seed: 17)
        let y = layer.forward(input, training: true)
        let r = Tensor(randomNormal: y.shape, using: &rng)
        layer.zeroGrad()
        let dx = layer.backward(r)
        let parameters = layer.parameters
        let grads = parameters.map(\.grad)
        let original = parameters.map(\.value)
        for _ in 0..<directions {
            let dInput = Tensor(randomNormal: input.shape, using: &rng)
            let dParameters = parameters.map { Tensor(randomNormal: $0.value.shape, using: &rng) }
            var analytic = weightedSum(dx, dInput)
            for (g, d) in zip(grads, dParameters) { analytic += weightedSum(g, d) }
            func loss(_ sign: Float) -> Double {
                var x = input
                for i in 0..<x.count { x.data[i] += sign * eps * dInput.data[i] }
                for (k, p) in parameters.enumerated() {
                    for i in 0..<p.value.count { p.value.data[i] = original[k].data[i] + sign * eps * dParameters[k].data[i] }
                }
                return weightedSum(layer.forward(x, training: true), r)
            }
            let numeric = (loss(1) - loss(-1)) / Double(2 * eps)
            for (k, p) in parameters.enumerated() { p.value = original[k] }
            XCTAssertEqual(numeric, analytic, accuracy: tolerance * max(1, abs(analytic)),
                           "directional derivative", file: file, line: line)
        }
    }

    func testResidualBlocks() {
        var rng = RandomGenerator(seed: 5)
        checkDirectional(BasicBlock(inChannels: 3, outChannels: 3, stride: 1, rng: &rng), input: random([3, 3, 5, 5]))
        checkDirectional(BasicBlock(inChannels: 2, outChannels: 4, stride: 2, rng: &rng), input: random([3, 2, 6, 6]))
    }

    /// Whole networks bend too sharply at this batch size (batch norm over 2x2 maps of 4 images)
    /// for every coordinate's difference quotient to be clean, so: for one sampled coordinate in
    /// every parameter tensor (and 8 input pixels), at least 90% must agree with backward. A wrong
    /// gradient in any layer family fails most of its coordinates.
    func testWholeNetworks() {
        for config in [ModelConfig(architecture: .resnet18, width: 0.0625),
                       ModelConfig(architecture: .resnet18LSTM, width: 0.0625, lstmHidden: 8),
                       ModelConfig(architecture: .resnet18LSTM, width: 0.0625, sequenceFrom: 4, lstmHidden: 8)] {
            let model = ResNet(config: config, seed: 11)
            let input = random([4, 1, 64, 64])
            var rng = RandomGenerator(seed: 21)
            let r = Tensor(randomNormal: model.forward(input, training: true).shape, using: &rng)
            model.zeroGrad()
            let dx = model.backward(r)
            let eps: Float = 1e-4
            var agree = 0, total = 0
            func record(_ numeric: Double, _ analytic: Float) {
                total += 1
                if abs(numeric - Double(analytic)) <= 2e-2 * max(1, abs(numeric)) { agree += 1 }
            }
            for parameter in model.parameters {
                let i = rng.nextInt(parameter.value.count)
                let saved = parameter.value.data[i]
                parameter.value.data[i] = saved + eps
                let plus = weightedSum(model.forward(input, training: true), r)
                parameter.value.data[i] = saved - eps
                let minus = weightedSum(model.forward(input, training: true), r)
                parameter.value.data[i] = saved
                record((plus - minus) / Double(2 * eps), parameter.grad.data[i])
            }
            var x = input
            for _ in 0..<8 {
                let i = rng.nextInt(x.count)
                let saved = x.data[i]
                x.data[i] = saved + eps
                let plus = weightedSum(model.forward(x, training: true), r)
                x.data[i] = saved - eps
                let minus = weightedSum(model.forward(x, training: true), r)
                x.data[i] = saved
                record((plus - minus) / Double(2 * eps), dx.data[i])
            }
            XCTAssertGreaterThanOrEqual(Double(agree), 0.9 * Double(total),
                                        "\(config.architecture.rawValue) sequenceFrom \(config.sequenceFrom): \(agree) of \(total) coordinates agree")
        }
    }

    func testLosses() {
        var rng = RandomGenerator(seed: 6)
        let logits = Tensor(randomNormal: [5, 10], using: &rng)
        let targets = [3, 0, 9, 3, 7]
        let losses: [(String, (Tensor) -> LossResult)] = [
            ("cross-entropy", { crossEntropyLoss(logits: $0, targets: targets) }),
            ("smoothed cross-entropy", { crossEntropyLoss(logits: $0, targets: targets, labelSmoothing: 0.1) }),
            ("softmax-MSE", { softmaxMSELoss(logits: $0, targets: targets) }),
            ("MSE", { mseLoss(prediction: $0, target: Tensor(repeating: 0.5, shape: [5, 10])) }),
        ]
        for (name, loss) in losses {
            let analytic = loss(logits).gradient
            var x = logits
            for i in stride(from: 0, to: 50, by: 3) {
                let eps: Float = 1e-2
                let saved = x.data[i]
                x.data[i] = saved + eps
                let plus = Double(loss(x).loss)
                x.data[i] = saved - eps
                let minus = Double(loss(x).loss)
                x.data[i] = saved
                let numeric = (plus - minus) / Double(2 * eps)
                XCTAssertEqual(numeric, Double(analytic.data[i]), accuracy: 2e-3 * max(1, abs(numeric)), "\(name) d logits[\(i)]")
            }
        }
    }

    func testDropoutScalesKeptValuesAndRoutesGradientsThroughThem() {
        let dropout = Dropout(probability: 0.25, seed: 9)
        let x = Tensor(repeating: 2, shape: [1000])
        let y = dropout.forward(x, training: true)
        let kept = y.data.filter { $0 != 0 }
        XCTAssertEqual(Double(kept.count) / 1000, 0.75, accuracy: 0.05)
        XCTAssertTrue(kept.allSatisfy { abs($0 - 2 / 0.75) < 1e-5 })
        let dx = dropout.backward(Tensor(repeating: 1, shape: [1000]))
        for i in 0..<1000 { XCTAssertEqual(dx.data[i] == 0, y.data[i] == 0) }
        XCTAssertEqual(dropout.forward(x, training: false), x, "evaluation passes values through")
    }
}

final class WinogradTests: XCTestCase {
    override func tearDown() { Conv2D.winogradEnabled = true }

    /// The Winograd path (3x3, stride 1, padding 1) against im2col + GEMM, forward and both
    /// gradients (the weight gradient in the Winograd domain), on odd and even sizes, channel counts
    /// that fill the 8-lane groups of the transforms and ones that leave a partial group.
    func testWinogradMatchesIm2col() {
        for (n, c, o, h, w) in [(2, 3, 4, 7, 5), (3, 8, 6, 6, 6), (1, 5, 2, 1, 3), (2, 16, 16, 4, 4), (2, 3, 4, 18, 17), (1, 2, 3, 16, 33),
                                (2, 9, 5, 10, 10), (1, 20, 3, 3, 2), (3, 4, 5, 16, 16), (2, 3, 2, 15, 32)] {
            var rng = RandomGenerator(seed: UInt64(h * 100 + w))
            let x = Tensor(randomNormal: [n, c, h, w], using: &rng)
            let dy = Tensor(randomNormal: [n, o, h, w], using: &rng)
            var results: [(Tensor, Tensor, Tensor, Tensor)] = []
            for winograd in [false, true] {
                Conv2D.winogradEnabled = winograd
                var weightRNG = RandomGenerator(seed: 9)
                let conv = Conv2D(inChannels: c, outChannels: o, kernelSize: 3, stride: 1, padding: 1, rng: &weightRNG)
                XCTAssertEqual(conv.usesWinograd, winograd)
                let y = conv.forward(x, training: true)
                let dx = conv.backward(dy)
                results.append((y, dx, conv.weight.grad, conv.bias!.grad))
            }
            XCTAssertLessThan(results[0].0.maxAbsDifference(results[1].0), 1e-4, "y for \(n),\(c),\(o),\(h),\(w)")
            XCTAssertLessThan(results[0].1.maxAbsDifference(results[1].1), 1e-4, "dx")
            XCTAssertLessThan(results[0].2.maxAbsDifference(results[1].2), 1e-4, "dweight")
            XCTAssertLessThan(results[0].3.maxAbsDifference(results[1].3), 1e-4, "dbias")
        }
    }

    /// Evaluation keeps the transformed weights across batches, so every way of changing the
    /// weights (an in-place write, an assignment, an optimizer step) must reach the next batch.
    /// Nine input channels: one full group of eight lanes in the weight transform and a partial one.
    func testTransformedWeightsFollowWeightChanges() {
        var rng = RandomGenerator(seed: 5)
        let conv = Conv2D(inChannels: 9, outChannels: 5, kernelSize: 3, stride: 1, padding: 1, bias: false, rng: &rng)
        let x = Tensor(randomNormal: [2, 9, 6, 6], using: &rng)
        func im2colOutput() -> Tensor {
            Conv2D.winogradEnabled = false
            defer { Conv2D.winogradEnabled = true }
            return conv.forward(x, training: false)
        }
        func assertCurrent(_ what: String, previous: Tensor) -> Tensor {
            let y = conv.forward(x, training: false)
            XCTAssertGreaterThan(y.maxAbsDifference(previous), 1e-2, "\(what): the weights did change")
            XCTAssertLessThan(y.maxAbsDifference(im2colOutput()), 1e-4, what)
            return y
        }
        var y = conv.forward(x, training: false)
        XCTAssertLessThan(y.maxAbsDifference(im2colOutput()), 1e-4, "first batch")
        conv.weight.value.data[4] += 1
        y = assertCurrent("in-place write", previous: y)
        conv.weight.value = Tensor(randomNormal: conv.weight.value.shape, using: &rng)
        y = assertCurrent("assignment", previous: y)
        _ = conv.forward(x, training: true)
        conv.zeroGrad()
        _ = conv.backward(Tensor(randomNormal: [2, 5, 6, 6], using: &rng))
        Adam(parameters: conv.parameters, lr: 0.1).step()
        _ = assertCurrent("Adam step", previous: y)
    }

    func testFusedEvaluationMatchesConvolutionThenAffineThenReLU() {
        for winograd in [false, true] {
            Conv2D.winogradEnabled = winograd
            var rng = RandomGenerator(seed: 4)
            let conv = Conv2D(inChannels: 3, outChannels: 4, kernelSize: 3, stride: 1, padding: 1, bias: false, rng: &rng)
            let x = Tensor(randomNormal: [2, 3, 5, 6], using: &rng)
            let scale: [Float] = [0.5, -1, 2, 1.5], shift: [Float] = [0.1, 0.2, -0.3, 0]
            let fused = conv.forwardFused(x, scale: scale, shift: shift, relu: true)
            var expected = conv.forward(x, training: false)
            for i in 0..<expected.count {
                let channel = (i / 30) % 4
                expected.data[i] = max(0, expected.data[i] * scale[channel] + shift[channel])
            }
            XCTAssertLessThan(fused.maxAbsDifference(expected), 1e-5)
        }
    }
}
