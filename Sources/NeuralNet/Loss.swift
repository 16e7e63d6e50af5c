import Foundation

/// A loss value and its gradient with respect to the network's output.
public struct LossResult {
    public var loss: Float
    // gradient: same shape as the logits
    public var gradient: Tensor
}

/// Row-wise softmax of (N, C) logits.
public func softmax(_ logits: Tensor) -> Tensor {
    precondition(logits.rank == 2, "softmax needs (N, C) logits, got \(logits.shape)")
    let (n, c) = (logits.shape[0], logits.shape[1])
    var p = logits
    for r in 0..<n {
        var m = -Float.infinity
        for j in 0..<c { m = max(m, p.data[r * c + j]) }
        var s: Float = 0
        for j in 0..<c { let e = exp(p.data[r * c + j] - m); p.data[r * c + j] = e; s += e }
        for j in 0..<c { p.data[r * c + j] /= s }
    }
    return p
}

/// Mean softmax cross-entropy, as PyTorch's F.cross_entropy (with optional label smoothing).
public func crossEntropyLoss(logits: Tensor, targets: [Int], labelSmoothing: Float = 0) -> LossResult {
    let (n, c) = (logits.shape[0], logits.shape[1])
    precondition(targets.count == n, "crossEntropyLoss: \(targets.count) targets for \(n) rows")
    let p = softmax(logits)
    var grad = p
    var loss: Double = 0
    let off = labelSmoothing / Float(c)
    for r in 0..<n {
        precondition((0..<c).contains(targets[r]), "crossEntropyLoss: target \(targets[r]) outside 0..<\(c)")
        for j in 0..<c {
            let q = (j == targets[r] ? 1 - labelSmoothing : 0) + off
            if q > 0 { loss -= Double(q) * log(max(Double(p.data[r * c + j]), 1e-30)) }
            grad.data[r * c + j] = (p.data[r * c + j] - q) / Float(n)
        }
    }
    return LossResult(loss: Float(loss / Double(n)), gradient: grad)
}

/// Mean squared error over all elements.
public func mseLoss(prediction: Tensor, target: Tensor) -> LossResult {
    precondition(prediction.shape == target.shape, "mseLoss: shapes \(prediction.shape) and \(target.shape)")
    var grad = prediction
    var loss: Double = 0
    let scale = 2 / Float(prediction.count)
    for i in 0..<prediction.count {
        let d = prediction.data[i] - target.data[i]
        loss += Double(d * d)
        grad.data[i] = scale * d
    }
    return LossResult(loss: Float(loss / Double(prediction.count)), gradient: grad)
}

/// The paper's loss: MSE between softmax probabilities and one-hot targets, gradient taken back
/// through the softmax to the logits.
public func softmaxMSELoss(logits: Tensor, targets: [Int]) -> LossResult {
    let (n, c) = (logits.shape[0], logits.shape[1])
    let p = softmax(logits)
    var oneHot = Tensor(zeros: [n, c])
    for r in 0..<n { oneHot.data[r * c + targets[r]] = 1 }
    let mse = mseLoss(prediction: p, target: oneHot)
    var grad = mse.gradient
    for r in 0..<n {
        var dot: Float = 0
        for j in 0..<c { dot += mse.gradient.data[r * c + j] * p.data[r * c + j] }
        for j in 0..<c { grad.data[r * c + j] = p.data[r * c + j] * (mse.gradient.data[r * c + j] - dot) }
    }
    return LossResult(loss: mse.loss, gradient: grad)
}
