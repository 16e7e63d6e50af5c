import Foundation

/// Updates parameters from their accumulated gradients.
public protocol Optimizer: AnyObject {
    var learningRate: Float { get set }
    var parameters: [Parameter] { get }
    func step()
    /// Optimizer state to save in a checkpoint, named by parameter index.
    func stateTensors() -> [(String, Tensor)]
    func loadState(_ tensors: [String: Tensor]) throws
}

extension Optimizer {
    public func zeroGrad() {
        for p in parameters { p.zeroGrad() }
    }
}

public struct OptimizerStateError: Error, CustomStringConvertible {
    public var description: String
}

/// Adam (Kingma & Ba) with PyTorch's semantics: `weightDecay` adds an L2 term to the gradient
/// (torch.optim.Adam), or with `decoupled` shrinks the weights directly (torch.optim.AdamW).
public final class Adam: Optimizer {
    public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let eps: Float
    public let weightDecay: Float
    public let decoupled: Bool
    public let parameters: [Parameter]
    public private(set) var stepCount = 0
    private var firstMoments: [[Float]]
    private var secondMoments: [[Float]]

    public init(parameters: [Parameter], lr: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                eps: Float = 1e-8, weightDecay: Float = 0, decoupled: Bool = false) {
        self.parameters = parameters
        self.learningRate = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
        self.decoupled = decoupled
        firstMoments = parameters.map { [Float](repeating: 0, count: $0.value.count) }
        secondMoments = parameters.map { [Float](repeating: 0, count: $0.value.count) }
    }

    public func step() {
        stepCount += 1
        let constants = AdamConstants(lr: learningRate, beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay,
                                      correction1: 1 - pow(beta1, Float(stepCount)),
                                      correction2: 1 - pow(beta2, Float(stepCount)))
        let decoupled = decoupled
        for (index, parameter) in parameters.enumerated() {
            parameter.value.data.withUnsafeMutableBufferPointer { pb in
                parameter.grad.data.withUnsafeBufferPointer { gb in
                    firstMoments[index].withUnsafeMutableBufferPointer { mb in
                        secondMoments[index].withUnsafeMutableBufferPointer { vb in
                            let p = pb.baseAddress!, g = gb.baseAddress!, m = mb.baseAddress!, v = vb.baseAddress!
                            // Memory-bound (four streams in, three out): 2^15 values per thread at least.
                            parallelChunks(pb.count, minimumPerThread: 1 << 15) { range in
                                if decoupled {
                                    Adam.update(p, g, m, v, range, constants, decoupled: true)
                                } else {
                                    Adam.update(p, g, m, v, range, constants, decoupled: false)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    struct AdamConstants {
        var lr, beta1, beta2, eps, weightDecay, correction1, correction2: Float
    }

    /// p, g, m, v: (count) of one parameter; updates `range` of them, 8 lanes at a time. Each lane
    /// does the same IEEE operations in the same order as the scalar tail (vdivps and vsqrtps round
    /// like their scalar forms), so the result does not depend on where the 8-lane runs start.
    @inline(__always)
    static func update(_ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>,
                       _ v: UnsafeMutablePointer<Float>, _ range: Range<Int>, _ k: AdamConstants, decoupled: Bool) {
        let lr = k.lr, b1 = k.beta1, b2 = k.beta2, wd = k.weightDecay, c1 = k.correction1, c2 = k.correction2
        let shrink = 1 - lr * wd
        var i = range.lowerBound
        let lr8 = SIMD8<Float>(repeating: lr), b18 = SIMD8<Float>(repeating: b1), b28 = SIMD8<Float>(repeating: b2)
        let oneMinusB1 = SIMD8<Float>(repeating: 1 - b1), oneMinusB2 = SIMD8<Float>(repeating: 1 - b2)
        let c18 = SIMD8<Float>(repeating: c1), c28 = SIMD8<Float>(repeating: c2), eps8 = SIMD8<Float>(repeating: k.eps)
        let wd8 = SIMD8<Float>(repeating: wd), shrink8 = SIMD8<Float>(repeating: shrink)
        while i + 8 <= range.upperBound {
            var param = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
            var grad = UnsafeRawPointer(g + i).loadUnaligned(as: SIMD8<Float>.self)
            if decoupled { param = param * shrink8 } else { grad = grad + wd8 * param }
            let first = b18 * UnsafeRawPointer(m + i).loadUnaligned(as: SIMD8<Float>.self) + oneMinusB1 * grad
            let second = b28 * UnsafeRawPointer(v + i).loadUnaligned(as: SIMD8<Float>.self) + oneMinusB2 * grad * grad
            let denominator = (second / c28).squareRoot() + eps8
            param = param - lr8 * (first / c18) / denominator
            UnsafeMutableRawPointer(m + i).storeBytes(of: first, as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(v + i).storeBytes(of: second, as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(p + i).storeBytes(of: param, as: SIMD8<Float>.self)
            i += 8
        }
        while i < range.upperBound {
            var grad = g[i]
            if decoupled { p[i] *= shrink } else { grad += wd * p[i] }
            m[i] = b1 * m[i] + (1 - b1) * grad
            v[i] = b2 * v[i] + (1 - b2) * grad * grad
            let denominator = (v[i] / c2).squareRoot() + k.eps
            p[i] -= lr * (m[i] / c1) / denominator
            i += 1
        }
    }

    public func stateTensors() -> [(String, Tensor)] {
        var state: [(String, Tensor)] = [("step", Tensor(shape: [1], data: [Float(stepCount)]))]
        for i in parameters.indices {
            state.append(("m.\(i)", Tensor(shape: [firstMoments[i].count], data: firstMoments[i])))
            state.append(("v.\(i)", Tensor(shape: [secondMoments[i].count], data: secondMoments[i])))
        }
        return state
    }

    public func loadState(_ tensors: [String: Tensor]) throws {
        guard let step = tensors["step"]?.data.first else {
            throw OptimizerStateError(description: "Adam state has no step count")
        }
        for i in parameters.indices {
            guard let m = tensors["m.\(i)"], let v = tensors["v.\(i)"],
                  m.count == parameters[i].value.count, v.count == parameters[i].value.count else {
                throw OptimizerStateError(description: "Adam state for parameter \(i) is missing or has the wrong size")
            }
            firstMoments[i] = m.data
            secondMoments[i] = v.data
        }
        stepCount = Int(step)
    }
}

/// SGD with momentum, PyTorch's semantics (buffer = momentum * buffer + grad, first step buffer = grad).
public final class SGD: Optimizer {
    public var learningRate: Float
    public let momentum: Float
    public let weightDecay: Float
    public let parameters: [Parameter]
    private var velocities: [[Float]]
    private var started = false

    public init(parameters: [Parameter], lr: Float, momentum: Float = 0, weightDecay: Float = 0) {
        self.parameters = parameters
        self.learningRate = lr
        self.momentum = momentum
        self.weightDecay = weightDecay
        velocities = parameters.map { [Float](repeating: 0, count: $0.value.count) }
    }

    public func step() {
        for (index, parameter) in parameters.enumerated() {
            for i in 0..<parameter.value.count {
                var grad = parameter.grad.data[i] + weightDecay * parameter.value.data[i]
                if momentum != 0 {
                    velocities[index][i] = started ? momentum * velocities[index][i] + grad : grad
                    grad = velocities[index][i]
                }
                parameter.value.data[i] -= learningRate * grad
            }
        }
        started = true
    }

    public func stateTensors() -> [(String, Tensor)] {
        var state: [(String, Tensor)] = [("started", Tensor(shape: [1], data: [started ? 1 : 0]))]
        for i in parameters.indices {
            state.append(("momentum.\(i)", Tensor(shape: [velocities[i].count], data: velocities[i])))
        }
        return state
    }

    public func loadState(_ tensors: [String: Tensor]) throws {
        for i in parameters.indices {
            guard let v = tensors["momentum.\(i)"], v.count == parameters[i].value.count else {
                throw OptimizerStateError(description: "SGD state for parameter \(i) is missing or has the wrong size")
            }
            velocities[i] = v.data
        }
        started = (tensors["started"]?.data.first ?? 0) > 0
    }
}

/// Learning rate as a function of the optimizer step.
public enum LearningRateSchedule: Equatable, Sendable {
    case constant(Float)
    /// Linear warm-up to `peak`, then cosine decay to `floor` at `totalSteps`.
    case cosine(peak: Float, warmupSteps: Int, totalSteps: Int, floor: Float)
    /// Multiply by `gamma` every `every` steps.
    case stepDecay(initial: Float, every: Int, gamma: Float)

    public func rate(atStep step: Int) -> Float {
        switch self {
        case .constant(let lr):
            return lr
        case let .cosine(peak, warmup, total, floor):
            if step < warmup { return peak * Float(step + 1) / Float(warmup) }
            let progress = min(1, Float(step - warmup) / Float(max(1, total - warmup)))
            return floor + (peak - floor) * 0.5 * (1 + cos(Float.pi * progress))
        case let .stepDecay(initial, every, gamma):
            return initial * pow(gamma, Float(step / max(1, every)))
        }
    }
}
