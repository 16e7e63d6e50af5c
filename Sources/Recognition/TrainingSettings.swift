import Foundation
import NeuralNet

/// Everything that decides a training run, saved with its checkpoints so `--resume` continues the
/// same run and the model card can say how a model was made.
public struct TrainingSettings: Codable, Equatable, Sendable {
    public enum LossKind: String, Codable, Sendable, CaseIterable {
        /// Softmax cross-entropy (optionally label-smoothed).
        case crossEntropy = "cross-entropy"
        /// The paper's: mean squared error between softmax outputs and one-hot targets.
        case mseSoftmax = "mse"
    }

    public enum OptimizerKind: String, Codable, Sendable, CaseIterable {
        case adam, adamw, sgd
    }

    public enum ScheduleKind: String, Codable, Sendable, CaseIterable {
        case constant
        /// Linear warm-up over the first epoch's steps (at most 200), then cosine decay to 1% of the peak.
        case cosine
    }

    public var model: ModelConfig
    public var epochs: Int
    public var batchSize: Int
    public var seed: UInt64
    public var loss: LossKind
    public var labelSmoothing: Float
    public var optimizer: OptimizerKind
    public var learningRate: Float
    public var weightDecay: Float
    public var schedule: ScheduleKind
    public var augmentation: AugmentationSettings

    public init(model: ModelConfig, epochs: Int = 10, batchSize: Int = 64, seed: UInt64 = 0,
                loss: LossKind = .crossEntropy, labelSmoothing: Float = 0, optimizer: OptimizerKind = .adam,
                learningRate: Float = 1e-3, weightDecay: Float = 0, schedule: ScheduleKind = .cosine,
                augmentation: AugmentationSettings = .archival) {
        self.model = model
        self.epochs = epochs
        self.batchSize = batchSize
        self.seed = seed
        self.loss = loss
        self.labelSmoothing = labelSmoothing
        self.optimizer = optimizer
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.schedule = schedule
        self.augmentation = augmentation
    }

    func learningRateSchedule(stepsPerEpoch: Int) -> LearningRateSchedule {
        switch schedule {
        case .constant:
            return .constant(learningRate)
        case .cosine:
            return .cosine(peak: learningRate, warmupSteps: min(200, stepsPerEpoch),
                           totalSteps: stepsPerEpoch * epochs, floor: learningRate * 0.01)
        }
    }

    func makeOptimizer(for parameters: [Parameter]) -> Optimizer {
        switch optimizer {
        case .adam: return Adam(parameters: parameters, lr: learningRate, weightDecay: weightDecay)
        case .adamw: return Adam(parameters: parameters, lr: learningRate, weightDecay: weightDecay, decoupled: true)
        case .sgd: return SGD(parameters: parameters, lr: learningRate, momentum: 0.9, weightDecay: weightDecay)
        }
    }

    func lossFunction(logits: Tensor, targets: [Int]) -> LossResult {
        switch loss {
        case .crossEntropy: return crossEntropyLoss(logits: logits, targets: targets, labelSmoothing: labelSmoothing)
        case .mseSoftmax: return softmaxMSELoss(logits: logits, targets: targets)
        }
    }

    /// One optimizer step on the dataset's images at `indices`, augmented for `epoch`: forward in
    /// training mode, the loss, backward, the update. A loss that is not finite throws before the
    /// update, naming `position` ("epoch 3 step 12").
    func step(_ model: ResNet, optimizer: Optimizer, dataset: DigitDataset, indices: [Int], epoch: Int,
              position: @autoclosure () -> String) throws -> (loss: LossResult, logits: Tensor) {
        let input = DigitAugmenter.augmentBatch(dataset, indices: indices, settings: augmentation, seed: seed, epoch: epoch)
        optimizer.zeroGrad()
        let logits = model.forward(input, training: true)
        let loss = lossFunction(logits: logits, targets: indices.map { dataset.labels[$0] })
        guard loss.loss.isFinite else {
            throw TrainingError(description: "loss became \(loss.loss) at \(position()); lower the learning rate")
        }
        _ = model.backward(loss.gradient)
        optimizer.step()
        return (loss, logits)
    }

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }
}

/// One epoch of a training run, as the history and the loss/accuracy curves show it.
public struct EpochRecord: Codable, Equatable, Sendable {
    public var epoch: Int
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var validationLoss: Double
    public var validationAccuracy: Double
    public var learningRate: Double
    public var seconds: Double
    public var imagesPerSecond: Double
}
