import Foundation

/// How per-sequence CTC losses become one number.
public enum CTCReduction: String, Codable, Sendable {
    /// PyTorch's `reduction='mean'`: each sequence's loss divided by its target length (at least 1),
    /// then averaged over the batch.
    case mean
    /// The plain sum over the batch.
    case sum
}

/// The CTC loss and its gradient, plus each sequence's negative log-likelihood.
public struct CTCLossResult {
    public var loss: Float
    // gradient: (N, T, C), dLoss/dLogits
    public var gradient: Tensor
    /// -log p(target | input) per sequence; +infinity where no alignment fits (see `ctcLoss`).
    public var sequenceLosses: [Float]
}

/// Connectionist temporal classification (Graves et al. 2006) over batch-first logits, as
/// `F.ctc_loss(logits.log_softmax(2).transpose(0, 1), targets, input_lengths, target_lengths,
/// blank=0, reduction=..., zero_infinity=True)`: the softmax is part of the loss, so the gradient is
/// with respect to the raw logits.
///
/// logits: (N, T, C), class 0 is the blank. `targets[n]` holds labels in 1..<C (possibly empty).
/// `inputLengths[n]` (default T) frames of sequence n are read; later frames get zero gradient.
/// A target that cannot fit its frames (length plus repeats > frames) contributes zero loss and
/// zero gradient, like PyTorch's `zero_infinity=True`, and reports +infinity in `sequenceLosses`.
///
/// Forward and backward variables are kept in log space in Double: alpha[t][s] is the log
/// probability of all paths through frame t that end at position s of the blank-extended target
/// l' = (blank, l1, blank, l2, ..., blank), emissions up to and including t; beta[t][s] the same
/// for paths from position s at frame t to the end, emission at t included.
public func ctcLoss(logits: Tensor, targets: [[Int]], inputLengths: [Int]? = nil,
                    reduction: CTCReduction = .mean) -> CTCLossResult {
    precondition(logits.rank == 3, "ctcLoss: logits \(logits.shape) are not (N, T, C)")
    let (n, steps, classes) = (logits.shape[0], logits.shape[1], logits.shape[2])
    precondition(targets.count == n, "ctcLoss: \(targets.count) targets for a batch of \(n)")
    let lengths = inputLengths ?? [Int](repeating: steps, count: n)
    precondition(lengths.count == n && lengths.allSatisfy { (0...steps).contains($0) },
                 "ctcLoss: input lengths \(lengths) must be \(n) values in 0...\(steps)")
    var gradient = [Float](repeating: 0, count: logits.count)
    var sequenceLosses = [Float](repeating: 0, count: n)
    var scales = [Double](repeating: 0, count: n)
    for b in 0..<n {
        switch reduction {
        case .mean: scales[b] = 1 / Double(max(1, targets[b].count)) / Double(n)
        case .sum: scales[b] = 1
        }
    }
    logits.data.withUnsafeBufferPointer { x in
        gradient.withUnsafeMutableBufferPointer { g in
            sequenceLosses.withUnsafeMutableBufferPointer { losses in
                let xp = x.baseAddress!, gp = g.baseAddress!, lp = losses.baseAddress!
                Threads.forEachChunk(n, minimumPerChunk: 8) { range in
                    for b in range {
                        lp[b] = ctcSequence(xp + b * steps * classes, frames: lengths[b], classes: classes,
                                            target: targets[b], scale: scales[b], gradient: gp + b * steps * classes)
                    }
                }
            }
        }
    }
    var total: Double = 0
    for b in 0..<n where sequenceLosses[b].isFinite { total += Double(sequenceLosses[b]) * scales[b] }
    return CTCLossResult(loss: Float(total), gradient: Tensor(shape: logits.shape, data: gradient), sequenceLosses: sequenceLosses)
}

@inline(__always) private func logAdd(_ a: Double, _ b: Double) -> Double {
    if a == -.infinity { return b }
    if b == -.infinity { return a }
    return a > b ? a + log1p(exp(b - a)) : b + log1p(exp(a - b))
}

/// One sequence: returns -log p(target) and writes scale * dLoss/dLogits into `gradient` (T x C).
private func ctcSequence(_ logits: UnsafePointer<Float>, frames: Int, classes: Int, target: [Int], scale: Double,
                         gradient: UnsafeMutablePointer<Float>) -> Float {
    precondition(target.allSatisfy { (1..<classes).contains($0) }, "ctcLoss: target \(target) has labels outside 1..<\(classes)")
    var repeats = 0
    for i in target.indices.dropFirst() where target[i] == target[i - 1] { repeats += 1 }
    guard frames >= target.count + repeats, frames > 0 else { return .infinity }

    // logProbabilities: (frames, C), log-softmax of each frame
    var logProbabilities = [Double](repeating: 0, count: frames * classes)
    for t in 0..<frames {
        var peak = -Double.infinity
        for c in 0..<classes { peak = max(peak, Double(logits[t * classes + c])) }
        var sum = 0.0
        for c in 0..<classes { sum += exp(Double(logits[t * classes + c]) - peak) }
        let logSum = peak + log(sum)
        for c in 0..<classes { logProbabilities[t * classes + c] = Double(logits[t * classes + c]) - logSum }
    }

    // extended: l' of length S = 2L + 1
    let positions = 2 * target.count + 1
    var extended = [Int](repeating: 0, count: positions)
    for (i, label) in target.enumerated() { extended[2 * i + 1] = label }
    // A path may skip the blank between two different labels.
    func canSkip(_ s: Int) -> Bool { s >= 2 && extended[s] != 0 && extended[s] != extended[s - 2] }

    var alpha = [Double](repeating: -.infinity, count: frames * positions)
    var beta = [Double](repeating: -.infinity, count: frames * positions)
    alpha[0] = logProbabilities[extended[0]]
    if positions > 1 { alpha[1] = logProbabilities[extended[1]] }
    for t in 1..<max(1, frames) {
        for s in 0..<positions {
            var a = alpha[(t - 1) * positions + s]
            if s >= 1 { a = logAdd(a, alpha[(t - 1) * positions + s - 1]) }
            if canSkip(s) { a = logAdd(a, alpha[(t - 1) * positions + s - 2]) }
            alpha[t * positions + s] = a == -.infinity ? a : a + logProbabilities[t * classes + extended[s]]
        }
    }
    let last = (frames - 1) * positions
    beta[last + positions - 1] = logProbabilities[(frames - 1) * classes + extended[positions - 1]]
    if positions > 1 { beta[last + positions - 2] = logProbabilities[(frames - 1) * classes + extended[positions - 2]] }
    for t in stride(from: frames - 2, through: 0, by: -1) {
        for s in 0..<positions {
            var b = beta[(t + 1) * positions + s]
            if s + 1 < positions { b = logAdd(b, beta[(t + 1) * positions + s + 1]) }
            if s + 2 < positions && canSkip(s + 2) { b = logAdd(b, beta[(t + 1) * positions + s + 2]) }
            beta[t * positions + s] = b == -.infinity ? b : b + logProbabilities[t * classes + extended[s]]
        }
    }
    var logLikelihood = alpha[last + positions - 1]
    if positions > 1 { logLikelihood = logAdd(logLikelihood, alpha[last + positions - 2]) }
    guard logLikelihood.isFinite else { return .infinity }

    // dLoss/dLogit[t, k] = softmax[t, k] - (posterior of class k at frame t), where the posterior
    // sums exp(alpha + beta - logProbability - logLikelihood) over the positions holding k.
    var posterior = [Double](repeating: 0, count: classes)
    for t in 0..<frames {
        for c in 0..<classes { posterior[c] = 0 }
        for s in 0..<positions {
            let joint = alpha[t * positions + s] + beta[t * positions + s]
            if joint == -.infinity { continue }
            posterior[extended[s]] += exp(joint - logProbabilities[t * classes + extended[s]] - logLikelihood)
        }
        for c in 0..<classes {
            gradient[t * classes + c] = Float(scale * (exp(logProbabilities[t * classes + c]) - posterior[c]))
        }
    }
    return Float(-logLikelihood)
}

/// Best-path (greedy) decoding of one sequence: the most probable class per frame, repeats merged,
/// blanks dropped.
public struct CTCGreedyCharacter: Sendable, Equatable {
    /// The class (1..<C).
    public var label: Int
    /// Frames first..last (inclusive) where the path holds this character.
    public var firstFrame: Int
    public var lastFrame: Int
    /// The frame of the character's highest probability, and that probability.
    public var peakFrame: Int
    public var probability: Float
}

/// Greedy decoding of (T, C) per-frame probabilities (a softmax output, row-major).
public func ctcGreedyDecode(probabilities: UnsafeBufferPointer<Float>, frames: Int, classes: Int) -> [CTCGreedyCharacter] {
    var result: [CTCGreedyCharacter] = []
    var previous = 0
    for t in 0..<frames {
        var best = 0
        for c in 1..<classes where probabilities[t * classes + c] > probabilities[t * classes + best] { best = c }
        let p = probabilities[t * classes + best]
        if best != 0 {
            if best == previous, var current = result.last {
                current.lastFrame = t
                if p > current.probability { current.probability = p; current.peakFrame = t }
                result[result.count - 1] = current
            } else {
                result.append(CTCGreedyCharacter(label: best, firstFrame: t, lastFrame: t, peakFrame: t, probability: p))
            }
        }
        previous = best
    }
    return result
}
