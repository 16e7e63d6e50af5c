import Foundation

/// Loading and saving model weights as safetensors with PyTorch's state_dict names; the
/// architecture travels in the file's metadata (`logbook.config`) so a model file is self-contained.
extension ResNet {
    public static let configMetadataKey = "logbook.config"

    /// The weights and running statistics by PyTorch name.
    public func stateDict() -> [(name: String, tensor: Tensor)] {
        namedState().map { ($0.0, $0.1.value) }
    }

    /// Copies `tensors` into the model. Every model tensor must be present with its shape, and no
    /// foreign tensor may be left over, so a file for another architecture is refused, not half-loaded.
    /// `num_batches_tracked` may be missing (older PyTorch exports).
    public func load(stateDict tensors: [String: Tensor], source: String) throws {
        let state = namedState()
        var missing: [String] = []
        for (name, parameter) in state {
            guard let tensor = tensors[name] else {
                if !name.hasSuffix("num_batches_tracked") { missing.append(name) }
                continue
            }
            guard tensor.count == parameter.value.count, tensor.shape.reduce(1, *) == parameter.value.shape.reduce(1, *),
                  tensor.shape == parameter.value.shape || tensor.shape.isEmpty || parameter.value.shape.isEmpty else {
                throw SafeTensorsError(path: source,
                                       problem: "tensor '\(name)' has shape \(tensor.shape), the model expects \(parameter.value.shape)")
            }
        }
        if !missing.isEmpty {
            throw SafeTensorsError(path: source, problem: "not a \(config.architecture.rawValue) checkpoint: missing \(missing.count) tensors (first: \(missing[0]))")
        }
        let known = Set(state.map(\.0))
        let unexpected = tensors.keys.filter { !known.contains($0) }.sorted()
        if !unexpected.isEmpty {
            throw SafeTensorsError(path: source, problem: "tensors the \(config.architecture.rawValue) model does not have: \(unexpected.prefix(3).joined(separator: ", "))")
        }
        for (name, parameter) in state {
            if let tensor = tensors[name] { parameter.value = Tensor(shape: parameter.value.shape, data: tensor.data) }
        }
    }

    public func save(to path: String, dtype: SafeTensors.DType = .f32, metadata: [String: String] = [:]) throws {
        var meta = metadata
        meta[ResNet.configMetadataKey] = config.json
        meta["format"] = "pt"
        try SafeTensors(tensors: stateDict(), metadata: meta).write(to: path, dtype: dtype)
    }

    /// Loads a model file written by `save`, or a PyTorch export when `config` is given.
    public static func load(path: String, config: ModelConfig? = nil) throws -> ResNet {
        let file = try SafeTensors.read(path: path)
        guard let config = config ?? file.metadata[configMetadataKey].flatMap(ModelConfig.fromJSON) else {
            throw SafeTensorsError(path: path, problem: "no model description in the metadata ('\(configMetadataKey)'); not a Logbook model file")
        }
        let model = ResNet(config: config)
        try model.load(stateDict: file.byName, source: path)
        return model
    }
}
