import Foundation

/// Batch normalisation over the channel axis of (N, C, H, W) or (N, C) input, as PyTorch's
/// BatchNorm2d/BatchNorm1d: batch statistics and running-average updates in training, running
/// statistics in evaluation.
public final class BatchNorm: Layer {
    public let channels: Int
    public let eps: Float
    public let momentum: Float
    // weight, bias, runningMean, runningVar: (C)
    public let weight: Parameter
    public let bias: Parameter
    public let runningMean: Parameter
    public let runningVar: Parameter
    // batchesTracked: () training batches seen, PyTorch's `num_batches_tracked` (stored as int64)
    public let batchesTracked: Parameter

    // normalized: same shape as the input; invStd: (C). Kept for backward.
    private var normalized: [Float] = []
    private var invStd: [Float] = []
    private var inputShape: [Int] = []
    private var trainedForward = false
    // The input of an eval-mode forward (a copy-on-write reference, not a copy), for its backward.
    private var evalInput = Tensor(zeros: [0])

    public init(channels: Int, eps: Float = 1e-5, momentum: Float = 0.1) {
        self.channels = channels
        self.eps = eps
        self.momentum = momentum
        weight = Parameter(Tensor(repeating: 1, shape: [channels]))
        bias = Parameter(Tensor(zeros: [channels]))
        runningMean = Parameter(Tensor(zeros: [channels]), requiresGrad: false)
        runningVar = Parameter(Tensor(repeating: 1, shape: [channels]), requiresGrad: false)
        batchesTracked = Parameter(Tensor(zeros: []), requiresGrad: false)
    }

    public func namedState() -> [(String, Parameter)] {
        [("weight", weight), ("bias", bias), ("running_mean", runningMean), ("running_var", runningVar),
         ("num_batches_tracked", batchesTracked)]
    }

    /// The evaluation-mode layer as y = x * scale + shift per channel, to fold into a convolution.
    public func inferenceAffine() -> (scale: [Float], shift: [Float]) {
        var scale = [Float](repeating: 0, count: channels), shift = scale
        for c in 0..<channels {
            scale[c] = weight.value.data[c] / (runningVar.value.data[c] + eps).squareRoot()
            shift[c] = bias.value.data[c] - runningMean.value.data[c] * scale[c]
        }
        return (scale, shift)
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank >= 2 && input.shape[1] == channels,
                     "BatchNorm(\(channels)): input \(input.shape) has no channel axis of \(channels)")
        let n = input.shape[0]
        let spatial = input.count / max(1, n * channels)
        let perChannel = n * spatial
        inputShape = input.shape
        trainedForward = training
        var output = [Float](unsafeUninitializedCapacity: input.count) { _, c in c = input.count }
        var stds = [Float](repeating: 0, count: channels)

        if training {
            precondition(perChannel > 1, "BatchNorm: training needs more than one value per channel, got input \(input.shape)")
            var norm = [Float](unsafeUninitializedCapacity: input.count) { _, c in c = input.count }
            var means = [Float](repeating: 0, count: channels)
            var variances = [Float](repeating: 0, count: channels)
            input.data.withUnsafeBufferPointer { xb in
                norm.withUnsafeMutableBufferPointer { nb in
                    output.withUnsafeMutableBufferPointer { yb in
                        means.withUnsafeMutableBufferPointer { mb in
                            variances.withUnsafeMutableBufferPointer { vb in
                                stds.withUnsafeMutableBufferPointer { sb in
                                    weight.value.data.withUnsafeBufferPointer { gb in
                                        bias.value.data.withUnsafeBufferPointer { bb in
                                            let x = xb.baseAddress!, xn = nb.baseAddress!, y = yb.baseAddress!
                                            let meanP = mb.baseAddress!, varP = vb.baseAddress!, stdP = sb.baseAddress!
                                            let g = gb.baseAddress!, be = bb.baseAddress!
                                            parallelFor(channels) { c in
                                                var sum: Double = 0
                                                for b in 0..<n {
                                                    let p = x + (b * channels + c) * spatial
                                                    var s: Float = 0
                                                    for j in 0..<spatial { s += p[j] }
                                                    sum += Double(s)
                                                }
                                                let mean = Float(sum / Double(perChannel))
                                                var sq: Double = 0
                                                for b in 0..<n {
                                                    let p = x + (b * channels + c) * spatial
                                                    var s: Float = 0
                                                    for j in 0..<spatial { let d = p[j] - mean; s += d * d }
                                                    sq += Double(s)
                                                }
                                                let variance = Float(sq / Double(perChannel))
                                                let inv = 1 / (variance + eps).squareRoot()
                                                meanP[c] = mean
                                                varP[c] = variance
                                                stdP[c] = inv
                                                let scale = g[c], shift = be[c]
                                                for b in 0..<n {
                                                    let off = (b * channels + c) * spatial
                                                    for j in 0..<spatial {
                                                        let v = (x[off + j] - mean) * inv
                                                        xn[off + j] = v
                                                        y[off + j] = v * scale + shift
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            // PyTorch keeps the unbiased variance in its running average.
            let unbias = Float(perChannel) / Float(perChannel - 1)
            for c in 0..<channels {
                runningMean.value.data[c] = (1 - momentum) * runningMean.value.data[c] + momentum * means[c]
                runningVar.value.data[c] = (1 - momentum) * runningVar.value.data[c] + momentum * variances[c] * unbias
            }
            batchesTracked.value.data[0] += 1
            normalized = norm
            evalInput = Tensor(zeros: [0])
        } else {
            for c in 0..<channels { stds[c] = 1 / (runningVar.value.data[c] + eps).squareRoot() }
            let mean = runningMean.value.data, g = weight.value.data, be = bias.value.data
            input.data.withUnsafeBufferPointer { xb in
                output.withUnsafeMutableBufferPointer { yb in
                    let x = xb.baseAddress!, y = yb.baseAddress!
                    parallelFor(n * channels, minimumPerThread: 16) { i in
                        let c = i % channels
                        let scale = g[c] * stds[c], shift = be[c] - mean[c] * scale
                        let off = i * spatial
                        for j in 0..<spatial { y[off + j] = x[off + j] * scale + shift }
                    }
                }
            }
            normalized = []
            evalInput = input
        }
        invStd = stds
        return Tensor(shape: input.shape, data: output)
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        let n = inputShape[0]
        let spatial = gradOutput.count / max(1, n * channels)
        let perChannel = Float(n * spatial)
        var gradInput = [Float](unsafeUninitializedCapacity: gradOutput.count) { _, c in c = gradOutput.count }
        let g = weight.value.data, inv = invStd

        if !trainedForward {
            // Running statistics are constants here: per channel the layer is y = x * scale + shift.
            let mean = runningMean.value.data
            let x = evalInput.data, dy = gradOutput.data
            for i in 0..<(n * channels) {
                let c = i % channels
                let scale = g[c] * inv[c]
                var dg: Float = 0, db: Float = 0
                for j in 0..<spatial {
                    let k = i * spatial + j
                    gradInput[k] = dy[k] * scale
                    dg += dy[k] * (x[k] - mean[c]) * inv[c]
                    db += dy[k]
                }
                weight.grad.data[c] += dg
                bias.grad.data[c] += db
            }
            return Tensor(shape: inputShape, data: gradInput)
        }

        var dGamma = [Float](repeating: 0, count: channels)
        var dBeta = [Float](repeating: 0, count: channels)
        gradOutput.data.withUnsafeBufferPointer { dyb in
            normalized.withUnsafeBufferPointer { nb in
                gradInput.withUnsafeMutableBufferPointer { dxb in
                    dGamma.withUnsafeMutableBufferPointer { dgb in
                        dBeta.withUnsafeMutableBufferPointer { dbb in
                            let dy = dyb.baseAddress!, xn = nb.baseAddress!, dx = dxb.baseAddress!
                            let dgP = dgb.baseAddress!, dbP = dbb.baseAddress!
                            parallelFor(channels) { c in
                                var sumDy: Float = 0, sumDyXn: Float = 0
                                for b in 0..<n {
                                    let off = (b * channels + c) * spatial
                                    for j in 0..<spatial {
                                        sumDy += dy[off + j]
                                        sumDyXn += dy[off + j] * xn[off + j]
                                    }
                                }
                                dgP[c] = sumDyXn
                                dbP[c] = sumDy
                                // dx = gamma * invStd / M * (M * dy - sum(dy) - xhat * sum(dy * xhat))
                                let k = g[c] * inv[c] / perChannel
                                let meanDy = sumDy, meanDyXn = sumDyXn
                                for b in 0..<n {
                                    let off = (b * channels + c) * spatial
                                    for j in 0..<spatial {
                                        dx[off + j] = k * (perChannel * dy[off + j] - meanDy - xn[off + j] * meanDyXn)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        for c in 0..<channels {
            weight.grad.data[c] += dGamma[c]
            bias.grad.data[c] += dBeta[c]
        }
        normalized = []
        return Tensor(shape: inputShape, data: gradInput)
    }
}
