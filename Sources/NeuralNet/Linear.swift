/// y = x W^T + b, as PyTorch's nn.Linear.
public final class Linear: Layer {
    public let inFeatures: Int
    public let outFeatures: Int
    // weight: (out, in)
    public let weight: Parameter
    // bias: (out)
    public let bias: Parameter
    // input: (N, in), kept for the weight gradient
    private var input = Tensor(zeros: [0])

    public init(inFeatures: Int, outFeatures: Int, rng: inout RandomGenerator) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        // PyTorch's default: U(-1/sqrt(in), 1/sqrt(in)) for both.
        let bound = 1 / Float(inFeatures).squareRoot()
        weight = Parameter(Tensor(randomUniform: [outFeatures, inFeatures], bound: bound, using: &rng))
        bias = Parameter(Tensor(randomUniform: [outFeatures], bound: bound, using: &rng))
    }

    public func namedState() -> [(String, Parameter)] { [("weight", weight), ("bias", bias)] }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank == 2 && input.shape[1] == inFeatures,
                     "Linear(\(inFeatures)->\(outFeatures)): input \(input.shape) is not (N, \(inFeatures))")
        let n = input.shape[0]
        var output = [Float](repeating: 0, count: n * outFeatures)
        for r in 0..<n {
            for o in 0..<outFeatures { output[r * outFeatures + o] = bias.value.data[o] }
        }
        input.data.withUnsafeBufferPointer { x in
            weight.value.data.withUnsafeBufferPointer { w in
                output.withUnsafeMutableBufferPointer { y in
                    gemm(transposeA: false, transposeB: true, m: n, n: outFeatures, k: inFeatures,
                         a: x.baseAddress!, b: w.baseAddress!, beta: 1, c: y.baseAddress!)
                }
            }
        }
        self.input = training ? input : Tensor(zeros: [0])
        return Tensor(shape: [n, outFeatures], data: output)
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        let n = gradOutput.shape[0]
        gradOutput.data.withUnsafeBufferPointer { dy in
            input.data.withUnsafeBufferPointer { x in
                weight.grad.data.withUnsafeMutableBufferPointer { dw in
                    // dW (out, in) += dy^T (out, N) x (N, in)
                    gemm(transposeA: true, transposeB: false, m: outFeatures, n: inFeatures, k: n,
                         a: dy.baseAddress!, b: x.baseAddress!, beta: 1, c: dw.baseAddress!)
                }
            }
        }
        for r in 0..<n {
            for o in 0..<outFeatures { bias.grad.data[o] += gradOutput.data[r * outFeatures + o] }
        }
        var dx = [Float](repeating: 0, count: n * inFeatures)
        gradOutput.data.withUnsafeBufferPointer { dy in
            weight.value.data.withUnsafeBufferPointer { w in
                dx.withUnsafeMutableBufferPointer { d in
                    // dx (N, in) = dy (N, out) x W (out, in)
                    gemm(transposeA: false, transposeB: false, m: n, n: inFeatures, k: outFeatures,
                         a: dy.baseAddress!, b: w.baseAddress!, c: d.baseAddress!)
                }
            }
        }
        input = Tensor(zeros: [0])
        return Tensor(shape: [n, inFeatures], data: dx)
    }
}
