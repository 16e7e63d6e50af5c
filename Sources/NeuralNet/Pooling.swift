/// Max pooling (PyTorch's MaxPool2d; padding counts as -infinity). Windows may be rectangular:
/// the CRNN pools (2, 1) to shrink the height and keep the width as time steps.
public final class MaxPool2D: Layer {
    public let kernelHeight: Int, kernelWidth: Int
    public let strideHeight: Int, strideWidth: Int
    public let padding: Int
    // argmax: (N, C, outH, outW), flat index into the input plane of each output's maximum
    private var argmax: [Int32] = []
    private var inputShape: [Int] = []

    public init(kernelSize: Int, stride: Int, padding: Int = 0) {
        (kernelHeight, kernelWidth, strideHeight, strideWidth) = (kernelSize, kernelSize, stride, stride)
        self.padding = padding
    }

    /// Non-overlapping (kH, kW) windows, stride = window, no padding (MaxPool2d((kH, kW))):
    /// trailing rows or columns that fill no window are dropped.
    public init(kernelHeight: Int, kernelWidth: Int) {
        (self.kernelHeight, self.kernelWidth, strideHeight, strideWidth) = (kernelHeight, kernelWidth, kernelHeight, kernelWidth)
        padding = 0
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank == 4, "MaxPool2D: input \(input.shape) is not (N, C, H, W)")
        let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let oh = (h + 2 * padding - kernelHeight) / strideHeight + 1
        let ow = (w + 2 * padding - kernelWidth) / strideWidth + 1
        var output = [Float](repeating: 0, count: n * c * oh * ow)
        let (kh, kw, sh, sw, p) = (kernelHeight, kernelWidth, strideHeight, strideWidth, padding)
        if !training {
            // Evaluation keeps no argmax: a branch-free maximum.
            input.data.withUnsafeBufferPointer { xb in
                output.withUnsafeMutableBufferPointer { yb in
                    let x = xb.baseAddress!, y = yb.baseAddress!
                    parallelFor(n * c, minimumPerThread: 8) { plane in
                        let src = x + plane * h * w
                        let dst = y + plane * oh * ow
                        for oy in 0..<oh {
                            let y0 = max(0, oy * sh - p), y1 = min(h, oy * sh - p + kh)
                            for ox in 0..<ow {
                                let x0 = max(0, ox * sw - p), x1 = min(w, ox * sw - p + kw)
                                var best = -Float.infinity
                                for yy in y0..<y1 {
                                    for xx in x0..<x1 { best = max(best, src[yy * w + xx]) }
                                }
                                dst[oy * ow + ox] = best
                            }
                        }
                    }
                }
            }
            return Tensor(shape: [n, c, oh, ow], data: output)
        }
        var indices = [Int32](repeating: 0, count: n * c * oh * ow)
        input.data.withUnsafeBufferPointer { xb in
            output.withUnsafeMutableBufferPointer { yb in
                indices.withUnsafeMutableBufferPointer { ib in
                    let x = xb.baseAddress!, y = yb.baseAddress!, idx = ib.baseAddress!
                    parallelFor(n * c, minimumPerThread: 8) { plane in
                        let src = x + plane * h * w
                        let dst = plane * oh * ow
                        for oy in 0..<oh {
                            let y0 = max(0, oy * sh - p), y1 = min(h, oy * sh - p + kh)
                            for ox in 0..<ow {
                                let x0 = max(0, ox * sw - p), x1 = min(w, ox * sw - p + kw)
                                var best = -Float.infinity, bestIndex = y0 * w + x0
                                for yy in y0..<y1 {
                                    for xx in x0..<x1 where src[yy * w + xx] > best {
                                        best = src[yy * w + xx]
                                        bestIndex = yy * w + xx
                                    }
                                }
                                y[dst + oy * ow + ox] = best
                                idx[dst + oy * ow + ox] = Int32(bestIndex)
                            }
                        }
                    }
                }
            }
        }
        argmax = indices
        inputShape = input.shape
        return Tensor(shape: [n, c, oh, ow], data: output)
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        let planeIn = inputShape[2] * inputShape[3]
        let planeOut = gradOutput.shape[2] * gradOutput.shape[3]
        let planes = inputShape[0] * inputShape[1]
        var dx = [Float](repeating: 0, count: planes * planeIn)
        gradOutput.data.withUnsafeBufferPointer { dyb in
            dx.withUnsafeMutableBufferPointer { dxb in
                argmax.withUnsafeBufferPointer { ib in
                    let dy = dyb.baseAddress!, d = dxb.baseAddress!, idx = ib.baseAddress!
                    parallelFor(planes, minimumPerThread: 8) { plane in
                        for j in 0..<planeOut {
                            d[plane * planeIn + Int(idx[plane * planeOut + j])] += dy[plane * planeOut + j]
                        }
                    }
                }
            }
        }
        argmax = []
        return Tensor(shape: inputShape, data: dx)
    }
}

/// Average over each whole feature map: (N, C, H, W) -> (N, C). PyTorch's
/// AdaptiveAvgPool2d(1) followed by flatten.
public final class GlobalAvgPool2D: Layer {
    private var inputShape: [Int] = []

    public init() {}

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank == 4, "GlobalAvgPool2D: input \(input.shape) is not (N, C, H, W)")
        let (n, c) = (input.shape[0], input.shape[1])
        let plane = input.shape[2] * input.shape[3]
        inputShape = input.shape
        var output = [Float](repeating: 0, count: n * c)
        input.data.withUnsafeBufferPointer { x in
            for i in 0..<(n * c) {
                var s: Float = 0
                for j in 0..<plane { s += x[i * plane + j] }
                output[i] = s / Float(plane)
            }
        }
        return Tensor(shape: [n, c], data: output)
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        let plane = inputShape[2] * inputShape[3]
        var dx = [Float](repeating: 0, count: gradOutput.count * plane)
        let scale = 1 / Float(plane)
        for i in 0..<gradOutput.count {
            let g = gradOutput.data[i] * scale
            for j in 0..<plane { dx[i * plane + j] = g }
        }
        return Tensor(shape: inputShape, data: dx)
    }
}
