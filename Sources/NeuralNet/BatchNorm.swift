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
        backward(gradOutput, reluOutput: nil)
    }

    /// Backward of batch norm followed by ReLU, given dLoss/d(ReLU output) and the ReLU's output
    /// (same shape): the gradient passes where that output is positive, masked as it is read here
    /// instead of in a pass of its own.
    func backward(_ gradOutput: Tensor, reluOutput: Tensor?) -> Tensor {
        if let reluOutput {
            precondition(reluOutput.shape == gradOutput.shape,
                         "BatchNorm.backward: ReLU output \(reluOutput.shape) and gradient \(gradOutput.shape) differ")
            guard trainedForward else {
                return backward(ReLUMask.apply(gradOutput, positiveWhere: reluOutput), reluOutput: nil)
            }
        }
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
        // mask: (N, C, H, W), the ReLU output when there is one (else unread).
        let mask = reluOutput ?? gradOutput
        let masked = reluOutput != nil
        gradOutput.data.withUnsafeBufferPointer { dyb in
            mask.data.withUnsafeBufferPointer { yb in
                normalized.withUnsafeBufferPointer { nb in
                    gradInput.withUnsafeMutableBufferPointer { dxb in
                        dGamma.withUnsafeMutableBufferPointer { dgb in
                            dBeta.withUnsafeMutableBufferPointer { dbb in
                                let planes = BackwardPlanes(dy: dyb.baseAddress!, reluOutput: yb.baseAddress!,
                                                            normalized: nb.baseAddress!, dx: dxb.baseAddress!,
                                                            n: n, channels: channels, spatial: spatial)
                                let dgP = dgb.baseAddress!, dbP = dbb.baseAddress!
                                parallelFor(channels) { c in
                                    let sums = masked ? planes.sums(c, masked: true) : planes.sums(c, masked: false)
                                    dgP[c] = sums.dyXn
                                    dbP[c] = sums.dy
                                    // dx = gamma * invStd / M * (M * dy - sum(dy) - xhat * sum(dy * xhat))
                                    let k = g[c] * inv[c] / perChannel
                                    if masked {
                                        planes.inputGradient(c, k: k, m: perChannel, sums: sums, masked: true)
                                    } else {
                                        planes.inputGradient(c, k: k, m: perChannel, sums: sums, masked: false)
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

/// The training backward's buffers, all (N, C, H*W) with `spatial` = H*W, and its per-channel
/// passes. Where `spatial` is a multiple of 8 the sums run in 8 lanes (summed in a different order
/// than one float at a time: differences at float rounding level, checked by the reference tests).
private struct BackwardPlanes {
    let dy: UnsafePointer<Float>, reluOutput: UnsafePointer<Float>, normalized: UnsafePointer<Float>
    let dx: UnsafeMutablePointer<Float>
    let n: Int, channels: Int, spatial: Int

    /// dLoss/d(batch-norm output): dy, zero where the following ReLU's output is not positive.
    @inline(__always) private func gradient8(_ k: Int, masked: Bool) -> SIMD8<Float> {
        let d = UnsafeRawPointer(dy + k).loadUnaligned(as: SIMD8<Float>.self)
        guard masked else { return d }
        let y = UnsafeRawPointer(reluOutput + k).loadUnaligned(as: SIMD8<Float>.self)
        return d.replacing(with: 0, where: y .<= 0)
    }

    @inline(__always) private func gradient(_ k: Int, masked: Bool) -> Float {
        masked && reluOutput[k] <= 0 ? 0 : dy[k]
    }

    /// sum(dy) and sum(dy * xhat) over channel c.
    @inline(__always) func sums(_ c: Int, masked: Bool) -> (dy: Float, dyXn: Float) {
        var sumDy: Float = 0, sumDyXn: Float = 0
        if spatial % 8 == 0 {
            var lanesDy = SIMD8<Float>(), lanesDyXn = SIMD8<Float>()
            for b in 0..<n {
                let off = (b * channels + c) * spatial
                for j in stride(from: 0, to: spatial, by: 8) {
                    let d = gradient8(off + j, masked: masked)
                    lanesDy += d
                    lanesDyXn += d * UnsafeRawPointer(normalized + off + j).loadUnaligned(as: SIMD8<Float>.self)
                }
            }
            return (lanesDy.sum(), lanesDyXn.sum())
        }
        for b in 0..<n {
            let off = (b * channels + c) * spatial
            for j in 0..<spatial {
                let d = gradient(off + j, masked: masked)
                sumDy += d
                sumDyXn += d * normalized[off + j]
            }
        }
        return (sumDy, sumDyXn)
    }

    /// dx over channel c: k * (m * dy - sum(dy) - xhat * sum(dy * xhat)), k = gamma * invStd / m.
    @inline(__always) func inputGradient(_ c: Int, k: Float, m: Float, sums: (dy: Float, dyXn: Float), masked: Bool) {
        if spatial % 8 == 0 {
            let k8 = SIMD8<Float>(repeating: k), m8 = SIMD8<Float>(repeating: m)
            let sumDy8 = SIMD8<Float>(repeating: sums.dy), sumDyXn8 = SIMD8<Float>(repeating: sums.dyXn)
            for b in 0..<n {
                let off = (b * channels + c) * spatial
                for j in stride(from: 0, to: spatial, by: 8) {
                    let xn = UnsafeRawPointer(normalized + off + j).loadUnaligned(as: SIMD8<Float>.self)
                    let value = k8 * (m8 * gradient8(off + j, masked: masked) - sumDy8 - xn * sumDyXn8)
                    UnsafeMutableRawPointer(dx + off + j).storeBytes(of: value, as: SIMD8<Float>.self)
                }
            }
            return
        }
        for b in 0..<n {
            let off = (b * channels + c) * spatial
            for j in 0..<spatial {
                dx[off + j] = k * (m * gradient(off + j, masked: masked) - sums.dy - normalized[off + j] * sums.dyXn)
            }
        }
    }
}

/// dy where `output` > 0, else 0: ReLU's backward from its output.
enum ReLUMask {
    static func apply(_ gradient: Tensor, positiveWhere output: Tensor) -> Tensor {
        var dx = gradient
        for i in 0..<dx.count where output.data[i] <= 0 { dx.data[i] = 0 }
        return dx
    }
}
