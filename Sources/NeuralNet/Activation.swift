/// max(0, x). Keeps its output: the gradient passes where the output is positive.
public final class ReLU: Layer {
    private var output: Tensor = Tensor(zeros: [0])

    public init() {}

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        var y = input
        y.data.withUnsafeMutableBufferPointer { p in
            let base = p.baseAddress!
            parallelChunks(p.count, minimumPerThread: 1 << 16) { range in
                for i in range where base[i] < 0 { base[i] = 0 }
            }
        }
        if training { output = y }
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        var dx = gradOutput
        output.data.withUnsafeBufferPointer { yb in
            dx.data.withUnsafeMutableBufferPointer { db in
                let y = yb.baseAddress!, d = db.baseAddress!
                parallelChunks(db.count, minimumPerThread: 1 << 16) { range in
                    for i in range where y[i] <= 0 { d[i] = 0 }
                }
            }
        }
        output = Tensor(zeros: [0])
        return dx
    }
}

/// Inverted dropout: in training, zeroes each value with probability p and scales the rest by
/// 1/(1-p), so evaluation needs no rescaling.
public final class Dropout: Layer {
    public let probability: Float
    private var rng: RandomGenerator
    private var mask: [Float] = []

    public init(probability: Float, seed: UInt64 = 0) {
        precondition((0..<1).contains(probability), "Dropout probability must be in [0, 1)")
        self.probability = probability
        self.rng = RandomGenerator(seed: seed)
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        guard training && probability > 0 else { mask = []; return input }
        let keep = 1 - probability
        mask = (0..<input.count).map { _ in rng.nextFloat() < keep ? 1 / keep : 0 }
        var y = input
        for i in 0..<y.count { y.data[i] *= mask[i] }
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        guard !mask.isEmpty else { return gradOutput }
        var dx = gradOutput
        for i in 0..<dx.count { dx.data[i] *= mask[i] }
        return dx
    }
}
