import XCTest
@testable import NeuralNet

/// Forward values and gradients against PyTorch's, from the fixtures.
final class ReferenceTests: XCTestCase {
    override func setUp() { Threads.set(2) }

    private func checkConv(_ name: String, stride: Int, padding: Int) throws {
        let f = try fixture(name)
        let weight = f["weight"]!
        var rng = RandomGenerator(seed: 1)
        let conv = Conv2D(inChannels: weight.shape[1], outChannels: weight.shape[0], kernelSize: weight.shape[2],
                          stride: stride, padding: padding, bias: f["bias"] != nil, rng: &rng)
        conv.weight.value = weight
        if let bias = f["bias"] { conv.bias!.value = bias }
        let y = conv.forward(f["x"]!, training: true)
        XCTAssertEqual(y.shape, f["y"]!.shape)
        assertClose(y, f["y"], tolerance: 1e-5, "\(name) y")
        let dx = conv.backward(f["dy"]!)
        assertClose(dx, f["dx"], tolerance: 1e-5, "\(name) dx")
        assertClose(conv.weight.grad, f["dweight"], tolerance: 1e-5, "\(name) dweight")
        if let dbias = f["dbias"] { assertClose(conv.bias!.grad, dbias, tolerance: 1e-5, "\(name) dbias") }
    }

    func testConv2DMatchesPyTorch() throws {
        try checkConv("conv2d_s1p1", stride: 1, padding: 1)
        try checkConv("conv2d_s2p3_k7", stride: 2, padding: 3)
        try checkConv("conv2d_1x1_s2", stride: 2, padding: 0)
    }

    private func checkBatchNorm(_ name: String, training: Bool) throws {
        let f = try fixture(name)
        let bn = BatchNorm(channels: f["weight"]!.count)
        bn.weight.value = f["weight"]!
        bn.bias.value = f["bias"]!
        bn.runningMean.value = f["running_mean"]!
        bn.runningVar.value = f["running_var"]!
        let y = bn.forward(f["x"]!, training: training)
        assertClose(y, f["y"], tolerance: 1e-5, "\(name) y")
        let dx = bn.backward(f["dy"]!)
        assertClose(dx, f["dx"], tolerance: 1e-4, "\(name) dx")
        assertClose(bn.weight.grad, f["dweight"], tolerance: 1e-4, "\(name) dweight")
        assertClose(bn.bias.grad, f["dbias"], tolerance: 1e-4, "\(name) dbias")
        if training {
            assertClose(bn.runningMean.value, f["running_mean_after"], tolerance: 1e-6, "\(name) running_mean")
            assertClose(bn.runningVar.value, f["running_var_after"], tolerance: 1e-6, "\(name) running_var")
            XCTAssertEqual(bn.batchesTracked.value.data[0], 1)
        } else {
            XCTAssertEqual(bn.runningMean.value, f["running_mean"]!, "eval mode must not touch running stats")
        }
    }

    func testBatchNormMatchesPyTorch() throws {
        try checkBatchNorm("batchnorm_train", training: true)
        try checkBatchNorm("batchnorm_eval", training: false)
        try checkBatchNorm("batchnorm1d_train", training: true)
    }

    func testPoolingMatchesPyTorch() throws {
        let m = try fixture("maxpool_k3s2p1")
        let pool = MaxPool2D(kernelSize: 3, stride: 2, padding: 1)
        assertClose(pool.forward(m["x"]!, training: false), m["y"], tolerance: 0, "maxpool y (evaluation, no argmax)")
        assertClose(pool.forward(m["x"]!, training: true), m["y"], tolerance: 0, "maxpool y")
        assertClose(pool.backward(m["dy"]!), m["dx"], tolerance: 0, "maxpool dx")

        let a = try fixture("avgpool_global")
        let avg = GlobalAvgPool2D()
        assertClose(avg.forward(a["x"]!, training: true), a["y"], tolerance: 1e-6, "avgpool y")
        assertClose(avg.backward(a["dy"]!.reshaped([2, 3])), a["dx"], tolerance: 1e-6, "avgpool dx")
    }

    func testLinearMatchesPyTorch() throws {
        let f = try fixture("linear")
        var rng = RandomGenerator(seed: 1)
        let linear = Linear(inFeatures: 5, outFeatures: 4, rng: &rng)
        linear.weight.value = f["weight"]!
        linear.bias.value = f["bias"]!
        assertClose(linear.forward(f["x"]!, training: true), f["y"], tolerance: 1e-6, "linear y")
        assertClose(linear.backward(f["dy"]!), f["dx"], tolerance: 1e-6, "linear dx")
        assertClose(linear.weight.grad, f["dweight"], tolerance: 1e-6, "linear dweight")
        assertClose(linear.bias.grad, f["dbias"], tolerance: 1e-6, "linear dbias")
    }

    func testLSTMMatchesPyTorch() throws {
        let f = try fixture("lstm")
        var rng = RandomGenerator(seed: 1)
        func makeLSTM() -> LSTM {
            let lstm = LSTM(inputSize: 5, hiddenSize: 4, rng: &rng)
            lstm.weightIH.value = f["weight_ih"]!
            lstm.weightHH.value = f["weight_hh"]!
            lstm.biasIH.value = f["bias_ih"]!
            lstm.biasHH.value = f["bias_hh"]!
            return lstm
        }
        // Case 1: gradient on the last hidden state only.
        let lstm = makeLSTM()
        let y = lstm.forward(f["x"]!, training: true)
        assertClose(y, f["y_seq"], tolerance: 1e-6, "lstm y_seq")
        assertClose(ResNet.lastStep(y), f["h_last"], tolerance: 1e-6, "lstm h_last")
        assertClose(lstm.lastCell, f["c_last"], tolerance: 1e-6, "lstm c_last")
        var dSeq = Tensor(zeros: [2, 3, 4])
        for b in 0..<2 { for j in 0..<4 { dSeq.data[(b * 3 + 2) * 4 + j] = f["dh_last"]!.data[b * 4 + j] } }
        assertClose(lstm.backward(dSeq), f["dx"], tolerance: 1e-5, "lstm dx")
        assertClose(lstm.weightIH.grad, f["dweight_ih"], tolerance: 1e-5, "lstm dweight_ih")
        assertClose(lstm.weightHH.grad, f["dweight_hh"], tolerance: 1e-5, "lstm dweight_hh")
        assertClose(lstm.biasIH.grad, f["dbias_ih"], tolerance: 1e-5, "lstm dbias_ih")
        assertClose(lstm.biasHH.grad, f["dbias_hh"], tolerance: 1e-5, "lstm dbias_hh")
        // Case 2: gradient on every step.
        let lstm2 = makeLSTM()
        _ = lstm2.forward(f["x"]!, training: true)
        assertClose(lstm2.backward(f["dy_seq"]!), f["dx_seq_case"], tolerance: 1e-5, "lstm seq dx")
        assertClose(lstm2.weightIH.grad, f["dweight_ih_seq_case"], tolerance: 1e-5, "lstm seq dweight_ih")
        assertClose(lstm2.weightHH.grad, f["dweight_hh_seq_case"], tolerance: 1e-5, "lstm seq dweight_hh")
        assertClose(lstm2.biasHH.grad, f["dbias_hh_seq_case"], tolerance: 1e-5, "lstm seq dbias_hh")
    }

    func testLossesMatchPyTorch() throws {
        let ce = try fixture("cross_entropy")
        let targets = ce["targets"]!.data.map { Int($0) }
        let plain = crossEntropyLoss(logits: ce["logits"]!, targets: targets)
        XCTAssertEqual(plain.loss, ce["loss"]!.data[0], accuracy: 1e-5)
        assertClose(plain.gradient, ce["dlogits"], tolerance: 1e-6, "cross-entropy dlogits")
        let smooth = crossEntropyLoss(logits: ce["logits"]!, targets: targets, labelSmoothing: 0.1)
        XCTAssertEqual(smooth.loss, ce["loss_ls"]!.data[0], accuracy: 1e-5)
        assertClose(smooth.gradient, ce["dlogits_ls"], tolerance: 1e-6, "smoothed cross-entropy dlogits")

        let mse = try fixture("mse_softmax")
        let paper = softmaxMSELoss(logits: mse["logits"]!, targets: mse["targets"]!.data.map { Int($0) })
        XCTAssertEqual(paper.loss, mse["loss"]!.data[0], accuracy: 1e-6)
        assertClose(paper.gradient, mse["dlogits"], tolerance: 1e-6, "softmax-MSE dlogits")
    }

    func testOptimizersMatchPyTorch() throws {
        let f = try fixture("optimizers")
        func run(_ make: (Parameter) -> Optimizer, prefix: String) {
            let p = Parameter(f["p0"]!)
            let optimizer = make(p)
            for k in 1...3 {
                p.grad = f["g\(k)"]!
                optimizer.step()
                assertClose(p.value, f["\(prefix)\(k)"], tolerance: 1e-6, "\(prefix) step \(k)")
            }
        }
        run({ Adam(parameters: [$0], lr: 0.01, weightDecay: 0.01) }, prefix: "p")
        run({ Adam(parameters: [$0], lr: 0.01, weightDecay: 0.01, decoupled: true) }, prefix: "pw")
        run({ SGD(parameters: [$0], lr: 0.1, momentum: 0.9, weightDecay: 1e-3) }, prefix: "ps")
    }

    /// A state_dict exported from PyTorch (our architecture with torchvision's names) loads and
    /// gives PyTorch's logits and gradients, in evaluation and in training mode.
    private func checkModel(_ name: String, config: ModelConfig, shards: [String] = [], extraGradient: (String, String)? = nil) throws {
        var f = try fixture(name)
        for shard in shards { f.merge(try fixture(shard)) { a, _ in a } }
        let model = ResNet(config: config, seed: 99)
        let names = Set(model.namedState().map(\.0))
        let state = f.filter { names.contains($0.key) }
        try model.load(stateDict: state, source: name)

        let eval = model.forward(f["x"]!, training: false)
        assertClose(eval, f["logits_eval"], tolerance: 1e-4, "\(name) logits (eval)")
        let train = model.forward(f["x"]!, training: true)
        assertClose(train, f["logits_train"], tolerance: 1e-4, "\(name) logits (train)")
        model.zeroGrad()
        let dx = model.backward(f["dy"]!)
        assertClose(dx, f["dx_train"], tolerance: 1e-4, "\(name) dx")
        assertClose(model.conv1.weight.grad, f["dconv1_weight"], tolerance: 1e-3, "\(name) dconv1.weight")
        assertClose(model.fc.weight.grad, f["dfc_weight"], tolerance: 1e-4, "\(name) dfc.weight")
        assertClose(model.bn1.runningMean.value, f["after.bn1.running_mean"], tolerance: 1e-5, "\(name) bn1 running mean")
        assertClose(model.bn1.runningVar.value, f["after.bn1.running_var"], tolerance: 1e-5, "\(name) bn1 running var")
        if let (key, _) = extraGradient {
            assertClose(model.lstm!.weightIH.grad, f[key], tolerance: 1e-4, "\(name) \(key)")
        }
    }

    func testResNet18MatchesPyTorch() throws {
        try checkModel("resnet18_w0125", config: ModelConfig(architecture: .resnet18, width: 0.125),
                       shards: ["resnet18_w0125_layer4_0", "resnet18_w0125_layer4_1"])
    }

    func testResNet18LSTMMatchesPyTorch() throws {
        try checkModel("resnet18_lstm_w0125", config: ModelConfig(architecture: .resnet18LSTM, width: 0.125, sequenceFrom: 3),
                       extraGradient: ("dlstm_weight_ih", "lstm.weight_ih_l0"))
    }
}
