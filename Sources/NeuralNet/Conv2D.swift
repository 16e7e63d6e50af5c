import Foundation

/// 2-D convolution as im2col + one OpenBLAS GEMM over the whole batch.
///
/// The batch shares one column matrix (C*kH*kW, N*outH*outW) so the GEMM is as large as the layer
/// allows; OpenBLAS is efficient only on large products, which is where the time goes.
public final class Conv2D: Layer {
    public let inChannels: Int
    public let outChannels: Int
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int
    // weight: (outC, inC, kH, kW)
    public let weight: Parameter
    // bias: (outC), absent when a batch norm follows
    public let bias: Parameter?

    // columns: (inC * kH * kW, N * outH * outW), kept from forward for the weight gradient
    private var columns: [Float] = []
    private var inputShape: [Int] = []
    // transformedInput: (16, inC, tiles), V of a training forward on the Winograd path, kept for
    // the weight gradient (4x the input, where im2col's columns are 9x)
    private var transformedInput: [Float] = []
    // winogradWeights: (16, outC, inC), the transformed weights of `weight` at `winogradWeightsVersion`:
    // reused by backward, and by every evaluation batch until the weights change.
    private var winogradWeights: [Float] = []
    private var winogradWeightsVersion = -1

    /// Whether 3x3, stride-1, padding-1 convolutions use Winograd F(2x2, 3x3) for the forward pass
    /// and the input gradient (the weight gradient always uses im2col + GEMM).
    nonisolated(unsafe) public static var winogradEnabled = true

    var usesWinograd: Bool { Conv2D.winogradEnabled && kernelSize == 3 && stride == 1 && padding == 1 }

    /// False for a network's first layer during training: nothing upstream needs dLoss/dImage, and
    /// its input gradient is a large GEMM plus col2im. `backward` then returns an empty tensor.
    public var computesInputGradient = true

    public init(inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, rng: inout RandomGenerator) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        // Kaiming normal, fan_out, for ReLU networks (torchvision's ResNet initialisation).
        let fanOut = Float(outChannels * kernelSize * kernelSize)
        weight = Parameter(Tensor(randomNormal: [outChannels, inChannels, kernelSize, kernelSize],
                                  std: (2 / fanOut).squareRoot(), using: &rng))
        if bias {
            let bound = 1 / Float(inChannels * kernelSize * kernelSize).squareRoot()
            self.bias = Parameter(Tensor(randomUniform: [outChannels], bound: bound, using: &rng))
        } else {
            self.bias = nil
        }
    }

    public func namedState() -> [(String, Parameter)] {
        var state = [("weight", weight)]
        if let bias { state.append(("bias", bias)) }
        return state
    }

    public func outputSize(_ inputSize: Int) -> Int {
        (inputSize + 2 * padding - kernelSize) / stride + 1
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        convolve(input, keepColumns: training, scale: nil, shift: bias?.value.data, relu: false)
    }

    /// Evaluation-mode convolution with a per-channel affine map (a batch norm's running
    /// statistics folded in) and optionally a ReLU applied while the GEMM output is rearranged:
    /// one pass over the activations instead of three.
    public func forwardFused(_ input: Tensor, scale: [Float], shift: [Float], relu: Bool) -> Tensor {
        precondition(bias == nil, "forwardFused folds a batch norm into a convolution without bias")
        return convolve(input, keepColumns: false, scale: scale, shift: shift, relu: relu)
    }

    private func convolve(_ input: Tensor, keepColumns: Bool, scale: [Float]?, shift: [Float]?, relu: Bool) -> Tensor {
        precondition(input.rank == 4 && input.shape[1] == inChannels,
                     "Conv2D(\(inChannels)->\(outChannels)): input \(input.shape) is not (N, \(inChannels), H, W)")
        let (n, h, w) = (input.shape[0], input.shape[2], input.shape[3])
        let (oh, ow) = (outputSize(h), outputSize(w))
        let k = kernelSize
        let patch = inChannels * k * k
        let positions = oh * ow
        let columnCount = n * positions

        if usesWinograd {
            var output = [Float](unsafeUninitializedCapacity: n * outChannels * positions) { _, c in c = n * outChannels * positions }
            let u = transformedWeights()
            let v = input.data.withUnsafeBufferPointer { x in
                output.withUnsafeMutableBufferPointer { y in
                    Winograd.convolve(x.baseAddress!, n: n, inChannels: inChannels, height: h, width: w, u: u,
                                      outChannels: outChannels, output: y.baseAddress!, scale: scale, shift: shift, relu: relu)
                }
            }
            columns = []
            transformedInput = keepColumns ? v : []
            inputShape = input.shape
            return Tensor(shape: [n, outChannels, oh, ow], data: output)
        }

        var cols = [Float](unsafeUninitializedCapacity: patch * columnCount) { _, c in c = patch * columnCount }
        input.data.withUnsafeBufferPointer { x in
            cols.withUnsafeMutableBufferPointer { c in
                im2col(x.baseAddress!, c.baseAddress!, n: n, h: h, w: w, oh: oh, ow: ow)
            }
        }

        // product: (outC, N * outH * outW)
        var product = [Float](unsafeUninitializedCapacity: outChannels * columnCount) { _, c in c = outChannels * columnCount }
        weight.value.data.withUnsafeBufferPointer { wt in
            cols.withUnsafeBufferPointer { c in
                product.withUnsafeMutableBufferPointer { p in
                    gemm(transposeA: false, transposeB: false, m: outChannels, n: columnCount, k: patch,
                         a: wt.baseAddress!, b: c.baseAddress!, c: p.baseAddress!)
                }
            }
        }

        // (outC, N, P) -> (N, outC, P), applying y = x * scale + shift (and ReLU) on the way.
        var output = [Float](unsafeUninitializedCapacity: n * outChannels * positions) { _, c in c = n * outChannels * positions }
        let channels = outChannels
        product.withUnsafeBufferPointer { p in
            output.withUnsafeMutableBufferPointer { y in
                let pp = p.baseAddress!, yp = y.baseAddress!
                parallelFor(n * channels, minimumPerThread: 64) { i in
                    let (b, o) = (i / channels, i % channels)
                    let src = pp + o * columnCount + b * positions
                    let dst = yp + i * positions
                    let a = scale?[o] ?? 1, c = shift?[o] ?? 0
                    if relu {
                        for j in 0..<positions { dst[j] = max(0, src[j] * a + c) }
                    } else {
                        for j in 0..<positions { dst[j] = src[j] * a + c }
                    }
                }
            }
        }
        transformedInput = []
        if keepColumns {
            columns = cols
            inputShape = input.shape
        } else {
            columns = []
        }
        return Tensor(shape: [n, outChannels, oh, ow], data: output)
    }

    private func transformedWeights() -> [Float] {
        if winogradWeightsVersion != weight.version || winogradWeights.isEmpty {
            winogradWeights = weight.value.data.withUnsafeBufferPointer {
                Winograd.transformWeights($0.baseAddress!, outChannels: outChannels, inChannels: inChannels)
            }
            winogradWeightsVersion = weight.version
        }
        return winogradWeights
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        if !transformedInput.isEmpty { return backwardWinograd(gradOutput) }
        precondition(!columns.isEmpty, "Conv2D.backward needs a forward pass in training mode first")
        let (n, h, w) = (inputShape[0], inputShape[2], inputShape[3])
        let (oh, ow) = (gradOutput.shape[2], gradOutput.shape[3])
        let k = kernelSize
        let patch = inChannels * k * k
        let positions = oh * ow
        let columnCount = n * positions

        // gradProduct: (outC, N * P), the layout the GEMMs want.
        var gradProduct = [Float](unsafeUninitializedCapacity: outChannels * columnCount) { _, c in c = outChannels * columnCount }
        gradOutput.data.withUnsafeBufferPointer { dy in
            gradProduct.withUnsafeMutableBufferPointer { g in
                let dyp = dy.baseAddress!, gp = g.baseAddress!
                parallelFor(n * outChannels, minimumPerThread: 64) { i in
                    let (b, o) = (i / outChannels, i % outChannels)
                    let src = dyp + i * positions
                    let dst = gp + o * columnCount + b * positions
                    for j in 0..<positions { dst[j] = src[j] }
                }
            }
        }

        if let bias {
            gradProduct.withUnsafeBufferPointer { g in
                bias.grad.data.withUnsafeMutableBufferPointer { db in
                    for o in 0..<outChannels {
                        var s: Float = 0
                        let row = g.baseAddress! + o * columnCount
                        for j in 0..<columnCount { s += row[j] }
                        db[o] += s
                    }
                }
            }
        }

        // dW (outC, patch) += gradProduct (outC, NP) x columns^T (NP, patch)
        gradProduct.withUnsafeBufferPointer { g in
            columns.withUnsafeBufferPointer { c in
                weight.grad.data.withUnsafeMutableBufferPointer { dw in
                    gemm(transposeA: false, transposeB: true, m: outChannels, n: patch, k: columnCount,
                         a: g.baseAddress!, b: c.baseAddress!, beta: 1, c: dw.baseAddress!)
                }
            }
        }

        if !computesInputGradient {
            columns = []
            return Tensor(zeros: [0])
        }

        // dColumns (patch, NP) = W^T (patch, outC) x gradProduct (outC, NP); reuse the columns buffer.
        weight.value.data.withUnsafeBufferPointer { wt in
            gradProduct.withUnsafeBufferPointer { g in
                columns.withUnsafeMutableBufferPointer { c in
                    gemm(transposeA: true, transposeB: false, m: patch, n: columnCount, k: outChannels,
                         a: wt.baseAddress!, b: g.baseAddress!, c: c.baseAddress!)
                }
            }
        }

        var gradInput = [Float](repeating: 0, count: n * inChannels * h * w)
        columns.withUnsafeBufferPointer { c in
            gradInput.withUnsafeMutableBufferPointer { dx in
                col2im(c.baseAddress!, dx.baseAddress!, n: n, h: h, w: w, oh: oh, ow: ow)
            }
        }
        columns = []
        return Tensor(shape: inputShape, data: gradInput)
    }

    /// Backward of a Winograd forward: the weight gradient from the kept transformed input (see
    /// `Winograd.accumulateWeightGradient`), the input gradient as a Winograd convolution of dy
    /// with the flipped, transposed kernels.
    private func backwardWinograd(_ gradOutput: Tensor) -> Tensor {
        let (n, h, w) = (inputShape[0], inputShape[2], inputShape[3])
        let positions = h * w
        precondition(gradOutput.shape == [n, outChannels, h, w],
                     "Conv2D.backward: gradient \(gradOutput.shape) is not (\(n), \(outChannels), \(h), \(w))")
        if let bias {
            gradOutput.data.withUnsafeBufferPointer { dy in
                bias.grad.data.withUnsafeMutableBufferPointer { db in
                    for i in 0..<(n * outChannels) {
                        var s: Float = 0
                        for j in 0..<positions { s += dy[i * positions + j] }
                        db[i % outChannels] += s
                    }
                }
            }
        }
        gradOutput.data.withUnsafeBufferPointer { dy in
            weight.grad.data.withUnsafeMutableBufferPointer { dw in
                Winograd.accumulateWeightGradient(dy.baseAddress!, n: n, outChannels: outChannels, inChannels: inChannels,
                                                  height: h, width: w, v: transformedInput, into: dw.baseAddress!)
            }
        }
        transformedInput = []
        guard computesInputGradient else { return Tensor(zeros: [0]) }

        // dx is the 3x3 convolution of dy with the kernels transposed and rotated 180 degrees.
        var gradInput = [Float](unsafeUninitializedCapacity: n * inChannels * positions) { _, c in c = n * inChannels * positions }
        let flipped = Winograd.flippedTransposed(winogradWeights, outChannels: outChannels, inChannels: inChannels)
        // The transformed dy that convolve returns is not needed here.
        _ = gradOutput.data.withUnsafeBufferPointer { dy in
            gradInput.withUnsafeMutableBufferPointer { dx in
                Winograd.convolve(dy.baseAddress!, n: n, inChannels: outChannels, height: h, width: w, u: flipped,
                                  outChannels: inChannels, output: dx.baseAddress!, scale: nil, shift: nil, relu: false)
            }
        }
        return Tensor(shape: inputShape, data: gradInput)
    }

    /// The output columns `ow` whose input column `ow * stride - padding + kw` lies inside 0..<width.
    @inline(__always)
    private func validRange(kernelOffset kw: Int, inputSize width: Int, outputSize ow: Int) -> Range<Int> {
        // ow * s - p + kw >= 0  and  ow * s - p + kw <= width - 1
        let low = max(0, (padding - kw + stride - 1) / stride)
        let highInclusive = (width - 1 + padding - kw)
        let high = highInclusive < 0 ? 0 : min(ow, highInclusive / stride + 1)
        return low < high ? low..<high : 0..<0
    }

    // x: (N, C, H, W) -> cols: (C*k*k, N*oh*ow)
    private func im2col(_ x: UnsafePointer<Float>, _ cols: UnsafeMutablePointer<Float>,
                        n: Int, h: Int, w: Int, oh: Int, ow: Int) {
        let k = kernelSize, s = stride, p = padding, c = inChannels
        let columnCount = n * oh * ow
        parallelFor(c * k * k) { row in
            let ch = row / (k * k), kh = (row / k) % k, kw = row % k
            let valid = validRange(kernelOffset: kw, inputSize: w, outputSize: ow)
            var dst = cols + row * columnCount
            for b in 0..<n {
                let plane = x + (b * c + ch) * h * w
                for y in 0..<oh {
                    let iy = y * s - p + kh
                    if iy < 0 || iy >= h {
                        for j in 0..<ow { dst[j] = 0 }
                    } else {
                        let src = plane + iy * w - p + kw
                        for j in 0..<valid.lowerBound { dst[j] = 0 }
                        if s == 1 {
                            for j in valid { dst[j] = src[j] }
                        } else {
                            for j in valid { dst[j] = src[j * s] }
                        }
                        for j in valid.upperBound..<ow { dst[j] = 0 }
                    }
                    dst += ow
                }
            }
        }
    }

    // cols: (C*k*k, N*oh*ow) summed back into dx: (N, C, H, W). One thread per input channel, so no
    // two threads write the same element.
    private func col2im(_ cols: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                        n: Int, h: Int, w: Int, oh: Int, ow: Int) {
        let k = kernelSize, s = stride, p = padding, c = inChannels
        let columnCount = n * oh * ow
        parallelFor(c) { ch in
            for kh in 0..<k {
                for kw in 0..<k {
                    let row = (ch * k + kh) * k + kw
                    let valid = validRange(kernelOffset: kw, inputSize: w, outputSize: ow)
                    var src = cols + row * columnCount
                    for b in 0..<n {
                        let plane = dx + (b * c + ch) * h * w
                        for y in 0..<oh {
                            let iy = y * s - p + kh
                            if iy >= 0 && iy < h {
                                let dst = plane + iy * w - p + kw
                                if s == 1 {
                                    for j in valid { dst[j] += src[j] }
                                } else {
                                    for j in valid { dst[j * s] += src[j] }
                                }
                            }
                            src += ow
                        }
                    }
                }
            }
        }
    }
}
