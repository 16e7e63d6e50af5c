import Foundation

/// Timings of one model on random 64x64 batches, the same work as benchmarks/peers.py times in
/// PyTorch: forward, cross-entropy, backward and an Adam step; then inference in evaluation mode.
public struct ModelBenchmark: Codable, Sendable {
    public var trainStepSeconds: Double
    public var inferImagesPerSecond: Double
    /// Processor time (all threads) per training step and per inference batch: on a machine shared
    /// with other jobs, the work done, where wall time also counts the time other processes ran.
    public var trainStepCPUSeconds: Double
    public var inferBatchCPUSeconds: Double
    public var parameters: Int

    enum CodingKeys: String, CodingKey {
        case trainStepSeconds = "train_step_s"
        case inferImagesPerSecond = "infer_images_per_s"
        case trainStepCPUSeconds = "train_step_cpu_s"
        case inferBatchCPUSeconds = "infer_batch_cpu_s"
        case parameters
    }

    /// `training` or `inference` false skips that half (its figure is then 0), to profile the other.
    public static func measure(config: ModelConfig, batch: Int, seconds: Double = 10, seed: UInt64 = 0,
                               training: Bool = true, inference: Bool = true) -> ModelBenchmark {
        let model = ResNet(config: config, seed: seed)
        model.computesInputGradient = false  // as in PyTorch, where the input does not require grad
        var rng = RandomGenerator(seed: seed)
        let input = Tensor(randomUniform: [batch, config.inChannels, config.inputSize, config.inputSize], bound: 1, using: &rng)
        let targets = (0..<batch).map { _ in rng.nextInt(config.classes) }
        let optimizer = Adam(parameters: model.parameters, lr: 1e-3)

        func trainStep() {
            optimizer.zeroGrad()
            let logits = model.forward(input, training: true)
            let loss = crossEntropyLoss(logits: logits, targets: targets)
            _ = model.backward(loss.gradient)
            optimizer.step()
        }
        let train = training ? timeRepeatedly(seconds: seconds, warmup: 2, trainStep) : (times: [], cpuPerCall: 0)
        let infer = inference ? timeRepeatedly(seconds: seconds / 2, warmup: 2) { _ = model.forward(input, training: false) } : (times: [], cpuPerCall: 0)
        return ModelBenchmark(trainStepSeconds: training ? median(train.times) : 0,
                              inferImagesPerSecond: inference ? Double(batch) / median(infer.times) : 0,
                              trainStepCPUSeconds: train.cpuPerCall, inferBatchCPUSeconds: infer.cpuPerCall,
                              parameters: model.parameters.reduce(0) { $0 + $1.value.count })
    }

    /// Wall times of each call, and the mean processor time per call.
    private static func timeRepeatedly(seconds: Double, warmup: Int, _ body: () -> Void) -> (times: [Double], cpuPerCall: Double) {
        for _ in 0..<warmup { body() }
        var times: [Double] = []
        let cpuStart = processorSeconds()
        let start = DispatchTime.now().uptimeNanoseconds
        repeat {
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        } while times.count < 5 || (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 < seconds && times.count < 200)
        return (times, (processorSeconds() - cpuStart) / Double(times.count))
    }

    /// User and system time of the whole process so far.
    private static func processorSeconds() -> Double {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    private static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted[sorted.count / 2]
    }
}

extension ResNet {
    /// Floating-point operations (2 x multiply-adds) of one image's forward pass through the convolutions,
    /// the LSTM and the classifier, the same count benchmarks/peers.py makes for PyTorch.
    public var forwardFlopsPerImage: Double {
        var flops = 0.0
        var size = config.inputSize
        func conv(_ c: Conv2D) {
            size = c.outputSize(size)
            flops += 2 * Double(c.outChannels * c.inChannels * c.kernelSize * c.kernelSize * size * size)
        }
        conv(conv1)
        size = (size + 2 * maxPool.padding - maxPool.kernelHeight) / maxPool.strideHeight + 1
        for block in stages.joined() {
            let inputSize = size
            conv(block.conv1)
            conv(block.conv2)
            if let projection = block.downsampleConv {
                let outputSize = size
                size = inputSize
                conv(projection)
                size = outputSize
            }
        }
        if let lstm {
            flops += 2 * Double(4 * lstm.hiddenSize * (lstm.inputSize + lstm.hiddenSize) * size)
        }
        flops += 2 * Double(fc.inFeatures * fc.outFeatures)
        return flops
    }
}
