import Foundation

/// Which network, as data: torchvision's ResNet18 layout (1 grayscale channel, 64x64 input) with a
/// width multiplier, or the paper's compound ResNet18+LSTM.
public struct ModelConfig: Codable, Equatable, Sendable {
    public enum Architecture: String, Codable, Sendable, CaseIterable {
        case resnet18 = "resnet18"
        case resnet18LSTM = "resnet18-lstm"
    }

    public var architecture: Architecture
    /// Residual blocks per stage; ResNet18 is [2, 2, 2, 2].
    public var blocks: [Int]
    /// Channel multiplier on torchvision's 64, 128, 256, 512.
    public var width: Double
    public var inChannels: Int
    public var classes: Int
    /// resnet18-lstm: the stage whose feature map the LSTM reads (3: layer3's 4x4 map, layer4 left
    /// out; 4: layer4 with stride 1, also 4x4).
    public var sequenceFrom: Int
    public var lstmHidden: Int
    public var inputSize: Int

    public init(architecture: Architecture, blocks: [Int] = [2, 2, 2, 2], width: Double = 1,
                inChannels: Int = 1, classes: Int = 10, sequenceFrom: Int = 3, lstmHidden: Int = 32,
                inputSize: Int = 64) {
        self.architecture = architecture
        self.blocks = blocks
        self.width = width
        self.inChannels = inChannels
        self.classes = classes
        self.sequenceFrom = sequenceFrom
        self.lstmHidden = lstmHidden
        self.inputSize = inputSize
    }

    public var stageChannels: [Int] {
        [64, 128, 256, 512].prefix(blocks.count).map { max(1, Int((Double($0) * width).rounded())) }
    }

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    public static func fromJSON(_ text: String) -> ModelConfig? {
        try? JSONDecoder().decode(ModelConfig.self, from: Data(text.utf8))
    }
}

/// torchvision's BasicBlock: two 3x3 convolutions with batch norm, plus the identity (or a strided
/// 1x1 projection when the shape changes), then ReLU.
public final class BasicBlock: Layer {
    let conv1: Conv2D
    let bn1: BatchNorm
    let relu1 = ReLU()
    let conv2: Conv2D
    let bn2: BatchNorm
    let downsampleConv: Conv2D?
    let downsampleBN: BatchNorm?
    let reluOut = ReLU()

    public init(inChannels: Int, outChannels: Int, stride: Int, rng: inout RandomGenerator) {
        conv1 = Conv2D(inChannels: inChannels, outChannels: outChannels, kernelSize: 3, stride: stride,
                       padding: 1, bias: false, rng: &rng)
        bn1 = BatchNorm(channels: outChannels)
        conv2 = Conv2D(inChannels: outChannels, outChannels: outChannels, kernelSize: 3, stride: 1,
                       padding: 1, bias: false, rng: &rng)
        bn2 = BatchNorm(channels: outChannels)
        if stride != 1 || inChannels != outChannels {
            downsampleConv = Conv2D(inChannels: inChannels, outChannels: outChannels, kernelSize: 1,
                                    stride: stride, padding: 0, bias: false, rng: &rng)
            downsampleBN = BatchNorm(channels: outChannels)
        } else {
            downsampleConv = nil
            downsampleBN = nil
        }
    }

    public func namedState() -> [(String, Parameter)] {
        var state = prefixed("conv1", conv1.namedState()) + prefixed("bn1", bn1.namedState())
            + prefixed("conv2", conv2.namedState()) + prefixed("bn2", bn2.namedState())
        if let downsampleConv, let downsampleBN {
            state += prefixed("downsample.0", downsampleConv.namedState())
                + prefixed("downsample.1", downsampleBN.namedState())
        }
        return state
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        guard training else { return forwardEvaluation(input) }
        var out = conv1.forward(input, training: training)
        out = bn1.forward(out, training: training)
        out = relu1.forward(out, training: training)
        out = conv2.forward(out, training: training)
        out = bn2.forward(out, training: training)
        if let downsampleConv, let downsampleBN {
            out += downsampleBN.forward(downsampleConv.forward(input, training: training), training: training)
        } else {
            out += input
        }
        return reluOut.forward(out, training: training)
    }

    /// Evaluation: batch norms folded into the convolutions, ReLUs fused with them.
    private func forwardEvaluation(_ input: Tensor) -> Tensor {
        let affine1 = bn1.inferenceAffine(), affine2 = bn2.inferenceAffine()
        var out = conv1.forwardFused(input, scale: affine1.scale, shift: affine1.shift, relu: true)
        out = conv2.forwardFused(out, scale: affine2.scale, shift: affine2.shift, relu: false)
        var shortcut = input
        if let downsampleConv, let downsampleBN {
            let affine = downsampleBN.inferenceAffine()
            shortcut = downsampleConv.forwardFused(input, scale: affine.scale, shift: affine.shift, relu: false)
        }
        // out = max(0, out + shortcut), one pass on the engine's threads
        precondition(out.shape == shortcut.shape, "BasicBlock: main path \(out.shape) and shortcut \(shortcut.shape) differ")
        out.data.withUnsafeMutableBufferPointer { ob in
            shortcut.data.withUnsafeBufferPointer { sb in
                let o = ob.baseAddress!, s = sb.baseAddress!
                parallelChunks(ob.count, minimumPerThread: 1 << 15) { range in
                    for i in range { o[i] = max(0, o[i] + s[i]) }
                }
            }
        }
        return out
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        let grad = reluOut.backward(gradOutput)
        var main = bn2.backward(grad)
        main = conv2.backward(main)
        main = bn1.backward(main, reluOutput: relu1.takeOutput())
        main = conv1.backward(main)
        if let downsampleConv, let downsampleBN {
            main += downsampleConv.backward(downsampleBN.backward(grad))
        } else {
            main += grad
        }
        return main
    }
}

/// Both of the paper's networks. Input (N, 1, 64, 64), output logits (N, classes).
///
/// resnet18: stem (7x7/2 conv, BN, ReLU, 3x3/2 max pool), four stages of BasicBlocks, global
/// average pool, `fc`. resnet18-lstm: the same stem and stages up to `sequenceFrom`; the final
/// (N, C, H, W) map is read column by column as a sequence of C*H features by a 32-unit LSTM
/// whose last hidden state feeds `fc`.
public final class ResNet: Layer {
    public let config: ModelConfig
    let conv1: Conv2D
    let bn1: BatchNorm
    let relu = ReLU()
    let maxPool = MaxPool2D(kernelSize: 3, stride: 2, padding: 1)
    let stages: [[BasicBlock]]
    let avgPool = GlobalAvgPool2D()
    let lstm: LSTM?
    let fc: Linear
    private var featureShape: [Int] = []

    public init(config: ModelConfig, seed: UInt64 = 0) {
        precondition(config.architecture == .resnet18 || (3...4).contains(config.sequenceFrom),
                     "resnet18-lstm reads the map of stage 3 or 4, not \(config.sequenceFrom)")
        self.config = config
        var rng = RandomGenerator(seed: seed)
        let channels = config.stageChannels
        conv1 = Conv2D(inChannels: config.inChannels, outChannels: channels[0], kernelSize: 7, stride: 2,
                       padding: 3, bias: false, rng: &rng)
        bn1 = BatchNorm(channels: channels[0])
        let stageCount = config.architecture == .resnet18 ? config.blocks.count : config.sequenceFrom
        var built: [[BasicBlock]] = []
        var inChannels = channels[0]
        for stage in 0..<stageCount {
            var stride = stage == 0 ? 1 : 2
            // Keep the 4x4 map for the LSTM: a 64x64 input would leave 2x2 after a strided layer4.
            if config.architecture == .resnet18LSTM && stage == 3 { stride = 1 }
            var blocks: [BasicBlock] = []
            for b in 0..<config.blocks[stage] {
                blocks.append(BasicBlock(inChannels: inChannels, outChannels: channels[stage],
                                         stride: b == 0 ? stride : 1, rng: &rng))
                inChannels = channels[stage]
            }
            built.append(blocks)
        }
        stages = built
        if config.architecture == .resnet18LSTM {
            let mapSize = ResNet.featureMapSize(inputSize: config.inputSize, stages: stageCount)
            let lstm = LSTM(inputSize: inChannels * mapSize, hiddenSize: config.lstmHidden, rng: &rng)
            self.lstm = lstm
            fc = Linear(inFeatures: config.lstmHidden, outFeatures: config.classes, rng: &rng)
        } else {
            lstm = nil
            fc = Linear(inFeatures: inChannels, outFeatures: config.classes, rng: &rng)
        }
    }

    /// Height of the last feature map: /4 for the stem, /2 for each stage after the first, except
    /// a stride-1 layer4 in the LSTM model.
    static func featureMapSize(inputSize: Int, stages: Int) -> Int {
        var size = (inputSize + 2 * 3 - 7) / 2 + 1
        size = (size + 2 - 3) / 2 + 1
        let stridedStages = min(stages, 3) - 1
        for _ in 0..<max(0, stridedStages) { size = (size + 2 - 3) / 2 + 1 }
        return size
    }

    /// Whether `backward` returns dLoss/dInput. Training does not need it (`Trainer` turns it off),
    /// which saves the first convolution's input-gradient GEMM; gradient checks do.
    public var computesInputGradient: Bool {
        get { conv1.computesInputGradient }
        set { conv1.computesInputGradient = newValue }
    }

    public func namedState() -> [(String, Parameter)] {
        var state = prefixed("conv1", conv1.namedState()) + prefixed("bn1", bn1.namedState())
        for (s, blocks) in stages.enumerated() {
            for (b, block) in blocks.enumerated() {
                state += prefixed("layer\(s + 1).\(b)", block.namedState())
            }
        }
        if let lstm { state += prefixed("lstm", lstm.namedState()) }
        state += prefixed("fc", fc.namedState())
        return state
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank == 4 && input.shape[1] == config.inChannels,
                     "\(config.architecture.rawValue): input \(input.shape) is not (N, \(config.inChannels), H, W)")
        var x: Tensor
        if training {
            x = conv1.forward(input, training: true)
            x = bn1.forward(x, training: true)
            x = relu.forward(x, training: true)
        } else {
            let affine = bn1.inferenceAffine()
            x = conv1.forwardFused(input, scale: affine.scale, shift: affine.shift, relu: true)
        }
        x = maxPool.forward(x, training: training)
        for blocks in stages {
            for block in blocks { x = block.forward(x, training: training) }
        }
        featureShape = x.shape
        guard let lstm else {
            return fc.forward(avgPool.forward(x, training: training), training: training)
        }
        let sequence = lstm.forward(ResNet.columnsAsSequence(x), training: training)
        return fc.forward(ResNet.lastStep(sequence), training: training)
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        var grad = fc.backward(gradOutput)
        if let lstm {
            let (n, c, h, w) = (featureShape[0], featureShape[1], featureShape[2], featureShape[3])
            var gradSequence = Tensor(zeros: [n, w, lstm.hiddenSize])
            for b in 0..<n {
                for j in 0..<lstm.hiddenSize {
                    gradSequence.data[(b * w + w - 1) * lstm.hiddenSize + j] = grad.data[b * lstm.hiddenSize + j]
                }
            }
            grad = ResNet.sequenceAsColumns(lstm.backward(gradSequence), channels: c, height: h)
        } else {
            grad = avgPool.backward(grad)
        }
        for blocks in stages.reversed() {
            for block in blocks.reversed() { grad = block.backward(grad) }
        }
        grad = maxPool.backward(grad)
        grad = bn1.backward(grad, reluOutput: relu.takeOutput())
        return conv1.backward(grad)
    }

    /// (N, C, H, W) -> (N, W, C*H): one time step per column, feature index c*H + h.
    static func columnsAsSequence(_ x: Tensor) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        var out = [Float](repeating: 0, count: x.count)
        for b in 0..<n {
            for ch in 0..<c {
                for y in 0..<h {
                    for col in 0..<w {
                        out[(b * w + col) * c * h + ch * h + y] = x.data[((b * c + ch) * h + y) * w + col]
                    }
                }
            }
        }
        return Tensor(shape: [n, w, c * h], data: out)
    }

    /// The inverse of `columnsAsSequence`.
    static func sequenceAsColumns(_ s: Tensor, channels c: Int, height h: Int) -> Tensor {
        let (n, w) = (s.shape[0], s.shape[1])
        var out = [Float](repeating: 0, count: s.count)
        for b in 0..<n {
            for ch in 0..<c {
                for y in 0..<h {
                    for col in 0..<w {
                        out[((b * c + ch) * h + y) * w + col] = s.data[(b * w + col) * c * h + ch * h + y]
                    }
                }
            }
        }
        return Tensor(shape: [n, c, h, w], data: out)
    }

    /// (N, T, H) -> (N, H), the last time step.
    static func lastStep(_ s: Tensor) -> Tensor {
        let (n, t, h) = (s.shape[0], s.shape[1], s.shape[2])
        var out = [Float](repeating: 0, count: n * h)
        for b in 0..<n {
            for j in 0..<h { out[b * h + j] = s.data[(b * t + t - 1) * h + j] }
        }
        return Tensor(shape: [n, h], data: out)
    }
}
