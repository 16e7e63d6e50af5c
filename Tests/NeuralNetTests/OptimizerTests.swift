import XCTest
@testable import NeuralNet

final class OptimizerTests: XCTestCase {
    /// The scalar Adam/AdamW update the vectorised one replaced, one value at a time.
    private func scalarAdam(p: inout [Float], g: [Float], m: inout [Float], v: inout [Float], step: Int,
                            lr: Float, weightDecay wd: Float, decoupled: Bool) {
        let b1: Float = 0.9, b2: Float = 0.999, eps: Float = 1e-8
        let correction1 = 1 - pow(b1, Float(step)), correction2 = 1 - pow(b2, Float(step))
        for i in p.indices {
            var grad = g[i]
            if decoupled { p[i] *= 1 - lr * wd } else { grad += wd * p[i] }
            m[i] = b1 * m[i] + (1 - b1) * grad
            v[i] = b2 * v[i] + (1 - b2) * grad * grad
            let denominator = (v[i] / correction2).squareRoot() + eps
            p[i] -= lr * (m[i] / correction1) / denominator
        }
    }

    /// Sizes below, at and above one 8-lane run and the threading threshold (2^15), odd tails, on
    /// two threads: every value equals the scalar formula's exactly, step after step.
    func testVectorisedAdamEqualsScalarFormula() {
        let previousThreads = Threads.count
        Threads.set(2)
        defer { Threads.set(previousThreads) }
        var rng = RandomGenerator(seed: 7)
        for decoupled in [false, true] {
            let sizes = [1, 7, 8, 13, 64, (1 << 16) + 5]
            let parameters = sizes.map { Parameter(Tensor(randomNormal: [$0], std: 0.5, using: &rng)) }
            var expected = parameters.map(\.value.data)
            var m = sizes.map { [Float](repeating: 0, count: $0) }, v = m
            let adam = Adam(parameters: parameters, lr: 3e-3, weightDecay: 0.05, decoupled: decoupled)
            for step in 1...4 {
                for (k, parameter) in parameters.enumerated() {
                    parameter.grad = Tensor(randomNormal: [sizes[k]], std: step == 2 ? 1e-4 : 1, using: &rng)
                    scalarAdam(p: &expected[k], g: parameter.grad.data, m: &m[k], v: &v[k], step: step,
                               lr: 3e-3, weightDecay: 0.05, decoupled: decoupled)
                }
                adam.step()
                for (k, parameter) in parameters.enumerated() {
                    XCTAssertEqual(parameter.value.data, expected[k], "decoupled \(decoupled), size \(sizes[k]), step \(step)")
                }
            }
            let state = Dictionary(uniqueKeysWithValues: adam.stateTensors())
            XCTAssertEqual(state["m.5"]?.data, m[5])
            XCTAssertEqual(state["v.5"]?.data, v[5])
        }
    }

    func testZeroGradClearsLargeAndSmallGradients() {
        for size in [3, (1 << 17) + 3] {
            let parameter = Parameter(Tensor(zeros: [size]))
            parameter.grad = Tensor(repeating: 2, shape: [size])
            parameter.zeroGrad()
            XCTAssertTrue(parameter.grad.data.allSatisfy { $0 == 0 }, "size \(size)")
        }
    }

    /// Batch norm's backward with the following ReLU's mask folded in (8-lane path: 4x4 planes;
    /// scalar path: 3x3) equals ReLU's backward then batch norm's, to float rounding.
    func testBatchNormBackwardWithReLUMaskEqualsSeparatePasses() {
        var rng = RandomGenerator(seed: 3)
        for side in [4, 3] {
            let input = Tensor(randomNormal: [3, 5, side, side], using: &rng)
            let dy = Tensor(randomNormal: input.shape, using: &rng)
            func run(fused: Bool) -> (Tensor, Tensor, Tensor) {
                let bn = BatchNorm(channels: 5), relu = ReLU()
                for c in 0..<5 { bn.weight.value.data[c] = 0.5 + Float(c) * 0.3; bn.bias.value.data[c] = Float(c) * 0.1 - 0.2 }
                _ = relu.forward(bn.forward(input, training: true), training: true)
                let dx = fused ? bn.backward(dy, reluOutput: relu.takeOutput()) : bn.backward(relu.backward(dy))
                return (dx, bn.weight.grad, bn.bias.grad)
            }
            let fused = run(fused: true), separate = run(fused: false)
            XCTAssertLessThan(fused.0.maxAbsDifference(separate.0), 1e-5, "dx, \(side)x\(side)")
            XCTAssertLessThan(fused.1.maxAbsDifference(separate.1), 1e-5, "dgamma, \(side)x\(side)")
            XCTAssertLessThan(fused.2.maxAbsDifference(separate.2), 1e-5, "dbeta, \(side)x\(side)")
            XCTAssertGreaterThan(separate.0.data.map(abs).max() ?? 0, 0.01, "the gradient is not trivially zero")
        }
    }
}
