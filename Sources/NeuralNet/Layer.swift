/// A learnable tensor and the gradient accumulated into it by `backward`, or a non-learnable
/// state tensor (batch-norm running statistics) when `requiresGrad` is false.
public final class Parameter {
    /// Every change of `value` (assignment or in-place write) bumps `version`, so layers can keep
    /// values derived from it (Winograd-transformed weights) until it changes.
    public var value: Tensor {
        didSet { version &+= 1 }
    }
    public private(set) var version = 0
    public var grad: Tensor
    public let requiresGrad: Bool

    public init(_ value: Tensor, requiresGrad: Bool = true) {
        self.value = value
        self.grad = Tensor(zeros: requiresGrad ? value.shape : [0])
        self.requiresGrad = requiresGrad
    }

    public func zeroGrad() {
        guard requiresGrad else { return }
        grad.data.withUnsafeMutableBufferPointer { gb in
            let g = gb.baseAddress!
            // The largest weights (layer4's 2.4M) are worth both threads' memory bandwidth.
            parallelChunks(gb.count, minimumPerThread: 1 << 16) { range in
                (g + range.lowerBound).update(repeating: 0, count: range.count)
            }
        }
    }
}

/// A layer: `forward` keeps what `backward` needs; `backward` takes dLoss/dOutput, accumulates
/// parameter gradients and returns dLoss/dInput. One forward, then at most one backward.
public protocol Layer: AnyObject {
    func forward(_ input: Tensor, training: Bool) -> Tensor
    func backward(_ gradOutput: Tensor) -> Tensor
    /// Parameters and buffers under PyTorch's state_dict names, relative to this layer.
    func namedState() -> [(String, Parameter)]
}

extension Layer {
    public func namedState() -> [(String, Parameter)] { [] }

    public var parameters: [Parameter] { namedState().map(\.1).filter(\.requiresGrad) }

    public func zeroGrad() {
        for p in parameters { p.zeroGrad() }
    }
}

/// Prefixes child names the way PyTorch's state_dict does (`layer1.0.conv1.weight`).
func prefixed(_ prefix: String, _ state: [(String, Parameter)]) -> [(String, Parameter)] {
    state.map { ("\(prefix).\($0.0)", $0.1) }
}
