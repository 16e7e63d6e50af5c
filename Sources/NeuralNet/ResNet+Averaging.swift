import Foundation

/// Weight averaging ("model soup", Wortsman et al. 2022): models fine-tuned from one starting point
/// with different seeds stay in one basin of the loss, so their element-wise mean is a model too, of
/// one model's size and speed. What one fine-tune reads on an unseen hand depends on its seed; their
/// mean depends on it less (models/README.md, session 19).
extension ResNet {
    public struct AveragingError: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    /// The element-wise mean of `models`' weights and batch-norm running statistics. The models must
    /// share one configuration; `names` (their files) name the one that does not.
    /// Averaging models trained from different random starts gives a useless model: nothing here can
    /// tell, so fine-tune the members from one model.
    public static func averaging(_ models: [ResNet], names: [String]? = nil) throws -> ResNet {
        guard let first = models.first else { throw AveragingError(description: "no models to average") }
        let names = names ?? models.indices.map { "model \($0 + 1)" }
        for (model, name) in zip(models, names).dropFirst() where model.config != first.config {
            throw AveragingError(description: "\(name): its architecture (\(model.config.json)) is not \(names[0])'s (\(first.config.json)); only models of one architecture can be averaged")
        }
        let states = models.map { $0.stateDict() }
        let averaged = ResNet(config: first.config)
        var byName: [String: Tensor] = [:]
        for (index, entry) in states[0].enumerated() {
            // sum: the tensor's shape; one running sum in Double so the mean of many stays exact
            var sum = [Double](repeating: 0, count: entry.tensor.count)
            for state in states {
                for (i, value) in state[index].tensor.data.enumerated() { sum[i] += Double(value) }
            }
            let count = Double(states.count)
            byName[entry.name] = Tensor(shape: entry.tensor.shape, data: sum.map { Float($0 / count) })
        }
        try averaged.load(stateDict: byName, source: names.joined(separator: ", "))
        return averaged
    }
}
