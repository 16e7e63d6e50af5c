/// max(0, x). Keeps its output: the gradient passes where the output is positive.
public final class ReLU: Layer {
    private var output: Tensor = Tensor(zeros: [0])

    public init() {}

    // The input is usually still referenced by the caller, so writing it in place would first copy
    // it: a fresh buffer reads and writes each value once.
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        var y = [Float](unsafeUninitializedCapacity: input.count) { _, c in c = input.count }
        input.data.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { yb in
                let x = xb.baseAddress!, out = yb.baseAddress!
                parallelChunks(xb.count, minimumPerThread: 1 << 16) { range in
                    for i in range { out[i] = x[i] < 0 ? 0 : x[i] }
                }
            }
        }
        let result = Tensor(shape: input.shape, data: y)
        if training { output = result }
        return result
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        var dx = [Float](unsafeUninitializedCapacity: gradOutput.count) { _, c in c = gradOutput.count }
        output.data.withUnsafeBufferPointer { yb in
            gradOutput.data.withUnsafeBufferPointer { gb in
                dx.withUnsafeMutableBufferPointer { db in
                    let y = yb.baseAddress!, g = gb.baseAddress!, d = db.baseAddress!
                    parallelChunks(db.count, minimumPerThread: 1 << 16) { range in
                        for i in range { d[i] = y[i] <= 0 ? 0 : g[i] }
                    }
                }
            }
        }
        output = Tensor(zeros: [0])
        return Tensor(shape: gradOutput.shape, data: dx)
    }

    /// The output kept by a training forward, handed over instead of running `backward`: a
    /// following layer's backward (`BatchNorm.backward(_:reluOutput:)`) masks the gradient itself.
    func takeOutput() -> Tensor {
        defer { output = Tensor(zeros: [0]) }
        return output
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
