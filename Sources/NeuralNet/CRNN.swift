import Foundation

/// A convolutional-recurrent network (Shi, Bai & Yao 2015, CRNN) as data: the image's columns
/// become time steps for CTC.
public struct CRNNConfig: Codable, Equatable, Sendable {
    /// Input size (N, 1, inputHeight, inputWidth).
    public var inputHeight: Int
    public var inputWidth: Int
    /// Output channels of each 3x3 convolution (each followed by batch norm and ReLU).
    public var convChannels: [Int]
    /// Max-pool window (height, width) after each convolution, stride = window; [1, 1] for none.
    /// The heights should bring the map down to a few rows (ideally 1) and the widths keep enough
    /// columns for the longest text: every column is one CTC frame.
    public var pools: [[Int]]
    public var lstmHidden: Int
    /// A second LSTM reads the columns right to left; the two outputs are concatenated.
    public var bidirectional: Bool
    /// Characters of classes 1..., class 0 being the CTC blank.
    public var alphabet: String

    public init(inputHeight: Int = 32, inputWidth: Int = 128, convChannels: [Int] = [16, 32, 48, 64, 96],
                pools: [[Int]] = [[2, 2], [2, 2], [2, 1], [2, 1], [2, 1]], lstmHidden: Int = 64,
                bidirectional: Bool = true, alphabet: String = "0123456789.-") {
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.convChannels = convChannels
        self.pools = pools
        self.lstmHidden = lstmHidden
        self.bidirectional = bidirectional
        self.alphabet = alphabet
    }

    public var classes: Int { alphabet.count + 1 }
    /// Height of the last feature map.
    public var featureHeight: Int { pools.reduce(inputHeight) { $0 / $1[0] } }
    /// CTC frames per image.
    public var frames: Int { pools.reduce(inputWidth) { $0 / $1[1] } }

    /// Why the configuration cannot be built, or nil.
    public var problem: String? {
        if convChannels.isEmpty { return "no convolutions" }
        if pools.count != convChannels.count { return "\(pools.count) pools for \(convChannels.count) convolutions" }
        if pools.contains(where: { $0.count != 2 || $0[0] < 1 || $0[1] < 1 }) { return "pools must be [height, width] >= 1" }
        if featureHeight < 1 || frames < 1 { return "pooling leaves no feature map from \(inputHeight)x\(inputWidth)" }
        if lstmHidden < 1 || alphabet.isEmpty { return "lstmHidden and the alphabet must not be empty" }
        return nil
    }

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    public static func fromJSON(_ text: String) -> CRNNConfig? {
        try? JSONDecoder().decode(CRNNConfig.self, from: Data(text.utf8))
    }
}

/// CRNN: [3x3 conv (no bias), batch norm, ReLU, max pool] per entry of `convChannels`; the final
/// (N, C, H, W) map read column by column as (N, W, C*H); an LSTM (plus a reversed one when
/// bidirectional) over the columns; `fc` maps every step to class logits.
/// Input (N, 1, inputHeight, inputWidth) -> logits (N, frames, classes) for `ctcLoss`.
///
/// State names follow PyTorch: `conv{i}.weight`, `bn{i}.*`, `lstm.weight_ih_l0` and, for the
/// reversed direction, nn.LSTM(bidirectional=True)'s `lstm.weight_ih_l0_reverse`, `fc.*`.
public final class CRNN: Layer {
    public static let configMetadataKey = "logbook.crnn"

    public let config: CRNNConfig
    let convs: [Conv2D]
    let norms: [BatchNorm]
    let relus: [ReLU]
    let pools: [MaxPool2D?]
    let forwardLSTM: LSTM
    let backwardLSTM: LSTM?
    let fc: Linear
    private var featureShape: [Int] = []

    public init(config: CRNNConfig, seed: UInt64 = 0) {
        precondition(config.problem == nil, "CRNN: \(config.problem!)")
        self.config = config
        var rng = RandomGenerator(seed: seed)
        var convs: [Conv2D] = [], norms: [BatchNorm] = [], pools: [MaxPool2D?] = []
        var inChannels = 1
        for (channels, pool) in zip(config.convChannels, config.pools) {
            convs.append(Conv2D(inChannels: inChannels, outChannels: channels, kernelSize: 3, stride: 1, padding: 1,
                                bias: false, rng: &rng))
            norms.append(BatchNorm(channels: channels))
            pools.append(pool == [1, 1] ? nil : MaxPool2D(kernelHeight: pool[0], kernelWidth: pool[1]))
            inChannels = channels
        }
        self.convs = convs
        self.norms = norms
        self.relus = convs.map { _ in ReLU() }
        self.pools = pools
        let features = inChannels * config.featureHeight
        forwardLSTM = LSTM(inputSize: features, hiddenSize: config.lstmHidden, rng: &rng)
        backwardLSTM = config.bidirectional ? LSTM(inputSize: features, hiddenSize: config.lstmHidden, rng: &rng) : nil
        fc = Linear(inFeatures: config.lstmHidden * (config.bidirectional ? 2 : 1), outFeatures: config.classes, rng: &rng)
    }

    /// Whether `backward` returns dLoss/dImage (training does not need it).
    public var computesInputGradient: Bool {
        get { convs[0].computesInputGradient }
        set { convs[0].computesInputGradient = newValue }
    }

    public func namedState() -> [(String, Parameter)] {
        var state: [(String, Parameter)] = []
        for i in convs.indices {
            state += prefixed("conv\(i)", convs[i].namedState()) + prefixed("bn\(i)", norms[i].namedState())
        }
        state += prefixed("lstm", forwardLSTM.namedState())
        if let backwardLSTM {
            state += prefixed("lstm", backwardLSTM.namedState().map { ($0.0 + "_reverse", $0.1) })
        }
        state += prefixed("fc", fc.namedState())
        return state
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank == 4 && input.shape[1] == 1 && input.shape[2] == config.inputHeight
                     && input.shape[3] == config.inputWidth,
                     "CRNN: input \(input.shape) is not (N, 1, \(config.inputHeight), \(config.inputWidth))")
        var x = input
        for i in convs.indices {
            if training {
                x = relus[i].forward(norms[i].forward(convs[i].forward(x, training: true), training: true), training: true)
            } else {
                let affine = norms[i].inferenceAffine()
                x = convs[i].forwardFused(x, scale: affine.scale, shift: affine.shift, relu: true)
            }
            if let pool = pools[i] { x = pool.forward(x, training: training) }
        }
        featureShape = x.shape
        let sequence = ResNet.columnsAsSequence(x)           // (N, T, F)
        let n = sequence.shape[0], steps = sequence.shape[1]
        var hidden = forwardLSTM.forward(sequence, training: training)   // (N, T, H)
        if let backwardLSTM {
            let reversed = backwardLSTM.forward(CRNN.reversedSteps(sequence), training: training)
            hidden = CRNN.concatenateFeatures(hidden, CRNN.reversedSteps(reversed))   // (N, T, 2H)
        }
        let logits = fc.forward(hidden.reshaped([n * steps, hidden.shape[2]]), training: training)
        return logits.reshaped([n, steps, config.classes])
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        let (n, steps) = (gradOutput.shape[0], gradOutput.shape[1])
        let gradHidden = fc.backward(gradOutput.reshaped([n * steps, config.classes]))
        let h = config.lstmHidden
        var gradSequence: Tensor
        if let backwardLSTM {
            let (forwardPart, backwardPart) = CRNN.splitFeatures(gradHidden.reshaped([n, steps, 2 * h]), first: h)
            gradSequence = forwardLSTM.backward(forwardPart)
            gradSequence += CRNN.reversedSteps(backwardLSTM.backward(CRNN.reversedSteps(backwardPart)))
        } else {
            gradSequence = forwardLSTM.backward(gradHidden.reshaped([n, steps, h]))
        }
        var grad = ResNet.sequenceAsColumns(gradSequence, channels: featureShape[1], height: featureShape[2])
        for i in convs.indices.reversed() {
            if let pool = pools[i] { grad = pool.backward(grad) }
            grad = convs[i].backward(norms[i].backward(relus[i].backward(grad)))
        }
        return grad
    }

    /// (N, T, F) with the time axis reversed.
    static func reversedSteps(_ s: Tensor) -> Tensor {
        let (n, t, f) = (s.shape[0], s.shape[1], s.shape[2])
        var out = [Float](repeating: 0, count: s.count)
        for b in 0..<n {
            for step in 0..<t {
                let src = (b * t + step) * f, dst = (b * t + t - 1 - step) * f
                for j in 0..<f { out[dst + j] = s.data[src + j] }
            }
        }
        return Tensor(shape: s.shape, data: out)
    }

    /// (N, T, A) and (N, T, B) -> (N, T, A + B).
    static func concatenateFeatures(_ a: Tensor, _ b: Tensor) -> Tensor {
        let (rows, fa, fb) = (a.shape[0] * a.shape[1], a.shape[2], b.shape[2])
        var out = [Float](repeating: 0, count: rows * (fa + fb))
        for r in 0..<rows {
            for j in 0..<fa { out[r * (fa + fb) + j] = a.data[r * fa + j] }
            for j in 0..<fb { out[r * (fa + fb) + fa + j] = b.data[r * fb + j] }
        }
        return Tensor(shape: [a.shape[0], a.shape[1], fa + fb], data: out)
    }

    /// The inverse of `concatenateFeatures`: the first `first` features and the rest.
    static func splitFeatures(_ s: Tensor, first fa: Int) -> (Tensor, Tensor) {
        let (rows, f) = (s.shape[0] * s.shape[1], s.shape[2])
        let fb = f - fa
        var a = [Float](repeating: 0, count: rows * fa), b = [Float](repeating: 0, count: rows * fb)
        for r in 0..<rows {
            for j in 0..<fa { a[r * fa + j] = s.data[r * f + j] }
            for j in 0..<fb { b[r * fb + j] = s.data[r * f + fa + j] }
        }
        return (Tensor(shape: [s.shape[0], s.shape[1], fa], data: a), Tensor(shape: [s.shape[0], s.shape[1], fb], data: b))
    }
}

// MARK: - Checkpoints

extension CRNN {
    public func stateDict() -> [(name: String, tensor: Tensor)] {
        namedState().map { ($0.0, $0.1.value) }
    }

    /// Copies `tensors` into the model; every tensor must be there with its shape and nothing else
    /// (a file of another architecture is refused, not half-loaded).
    public func load(stateDict tensors: [String: Tensor], source: String) throws {
        let state = namedState()
        for (name, parameter) in state {
            guard let tensor = tensors[name] else {
                if name.hasSuffix("num_batches_tracked") { continue }
                throw SafeTensorsError(path: source, problem: "not a matching CRNN checkpoint: tensor '\(name)' is missing")
            }
            guard tensor.count == parameter.value.count else {
                throw SafeTensorsError(path: source, problem: "tensor '\(name)' has shape \(tensor.shape), the CRNN expects \(parameter.value.shape)")
            }
        }
        let known = Set(state.map(\.0))
        if let foreign = tensors.keys.filter({ !known.contains($0) }).sorted().first {
            throw SafeTensorsError(path: source, problem: "tensor '\(foreign)' is not part of this CRNN")
        }
        for (name, parameter) in state {
            if let tensor = tensors[name] { parameter.value = Tensor(shape: parameter.value.shape, data: tensor.data) }
        }
    }

    public func save(to path: String, dtype: SafeTensors.DType = .f32, metadata: [String: String] = [:]) throws {
        var meta = metadata
        meta[CRNN.configMetadataKey] = config.json
        meta["format"] = "pt"
        try SafeTensors(tensors: stateDict(), metadata: meta).write(to: path, dtype: dtype)
    }

    /// Loads a model file written by `save` (float32 or float16).
    public static func load(path: String) throws -> CRNN {
        let file = try SafeTensors.read(path: path)
        guard let text = file.metadata[configMetadataKey] else {
            throw SafeTensorsError(path: path, problem: "no CRNN description in the metadata ('\(configMetadataKey)'); not a Logbook cell-sequence model")
        }
        guard let config = CRNNConfig.fromJSON(text) else {
            throw SafeTensorsError(path: path, problem: "unreadable CRNN description in the metadata: \(text.prefix(120))")
        }
        if let problem = config.problem { throw SafeTensorsError(path: path, problem: "invalid CRNN description: \(problem)") }
        let model = CRNN(config: config)
        try model.load(stateDict: file.byName, source: path)
        return model
    }
}
