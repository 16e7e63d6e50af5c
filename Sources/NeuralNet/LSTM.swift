import Foundation

/// One-layer LSTM over batch-first sequences, as PyTorch's nn.LSTM(batch_first=True) with gate
/// order i, f, g, o. Input (N, T, inputSize) -> output (N, T, hiddenSize), every step's h.
public final class LSTM: Layer {
    public let inputSize: Int
    public let hiddenSize: Int
    // weightIH: (4H, I); weightHH: (4H, H); biasIH, biasHH: (4H)
    public let weightIH: Parameter
    public let weightHH: Parameter
    public let biasIH: Parameter
    public let biasHH: Parameter

    // Kept from forward: input (N, T, I); gates (T, N, 4H) after their nonlinearities;
    // cells and hiddens (T+1, N, H) with the zero initial state at index 0.
    private var input = Tensor(zeros: [0])
    private var gates: [Float] = []
    private var cells: [Float] = []
    private var hiddens: [Float] = []

    /// The final cell state of the last forward, (N, H).
    public private(set) var lastCell = Tensor(zeros: [0])

    public init(inputSize: Int, hiddenSize: Int, rng: inout RandomGenerator) {
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        let bound = 1 / Float(hiddenSize).squareRoot()
        weightIH = Parameter(Tensor(randomUniform: [4 * hiddenSize, inputSize], bound: bound, using: &rng))
        weightHH = Parameter(Tensor(randomUniform: [4 * hiddenSize, hiddenSize], bound: bound, using: &rng))
        biasIH = Parameter(Tensor(randomUniform: [4 * hiddenSize], bound: bound, using: &rng))
        biasHH = Parameter(Tensor(randomUniform: [4 * hiddenSize], bound: bound, using: &rng))
    }

    public func namedState() -> [(String, Parameter)] {
        [("weight_ih_l0", weightIH), ("weight_hh_l0", weightHH), ("bias_ih_l0", biasIH), ("bias_hh_l0", biasHH)]
    }

    @inline(__always) private func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank == 3 && input.shape[2] == inputSize,
                     "LSTM(\(inputSize)->\(hiddenSize)): input \(input.shape) is not (N, T, \(inputSize))")
        let (n, steps, h) = (input.shape[0], input.shape[1], hiddenSize)
        let g4 = 4 * h

        // Input projections for all steps at once: (N*T, 4H), row n*T + t.
        var projected = [Float](repeating: 0, count: n * steps * g4)
        for r in 0..<(n * steps) {
            for j in 0..<g4 { projected[r * g4 + j] = biasIH.value.data[j] + biasHH.value.data[j] }
        }
        input.data.withUnsafeBufferPointer { x in
            weightIH.value.data.withUnsafeBufferPointer { w in
                projected.withUnsafeMutableBufferPointer { p in
                    gemm(transposeA: false, transposeB: true, m: n * steps, n: g4, k: inputSize,
                         a: x.baseAddress!, b: w.baseAddress!, beta: 1, c: p.baseAddress!)
                }
            }
        }

        var gateValues = [Float](repeating: 0, count: steps * n * g4)
        var c = [Float](repeating: 0, count: (steps + 1) * n * h)
        var hs = [Float](repeating: 0, count: (steps + 1) * n * h)
        var output = [Float](repeating: 0, count: n * steps * h)
        var stepGates = [Float](repeating: 0, count: n * g4)
        for t in 0..<steps {
            for b in 0..<n {
                for j in 0..<g4 { stepGates[b * g4 + j] = projected[(b * steps + t) * g4 + j] }
            }
            hs.withUnsafeBufferPointer { hp in
                weightHH.value.data.withUnsafeBufferPointer { w in
                    stepGates.withUnsafeMutableBufferPointer { sg in
                        gemm(transposeA: false, transposeB: true, m: n, n: g4, k: h,
                             a: hp.baseAddress! + t * n * h, b: w.baseAddress!, beta: 1, c: sg.baseAddress!)
                    }
                }
            }
            for b in 0..<n {
                let row = b * g4
                let gateBase = (t * n + b) * g4
                for j in 0..<h {
                    let i = sigmoid(stepGates[row + j])
                    let f = sigmoid(stepGates[row + h + j])
                    let g = tanh(stepGates[row + 2 * h + j])
                    let o = sigmoid(stepGates[row + 3 * h + j])
                    gateValues[gateBase + j] = i
                    gateValues[gateBase + h + j] = f
                    gateValues[gateBase + 2 * h + j] = g
                    gateValues[gateBase + 3 * h + j] = o
                    let cell = f * c[(t * n + b) * h + j] + i * g
                    let hidden = o * tanh(cell)
                    c[((t + 1) * n + b) * h + j] = cell
                    hs[((t + 1) * n + b) * h + j] = hidden
                    output[(b * steps + t) * h + j] = hidden
                }
            }
        }
        lastCell = Tensor(shape: [n, h], data: Array(c[(steps * n * h)...]))
        if training {
            self.input = input
            gates = gateValues
            cells = c
            hiddens = hs
        }
        return Tensor(shape: [n, steps, h], data: output)
    }

    /// Backpropagation through time; gradOutput is dLoss/d(every step's h), (N, T, H).
    public func backward(_ gradOutput: Tensor) -> Tensor {
        let (n, steps, h) = (input.shape[0], input.shape[1], hiddenSize)
        let g4 = 4 * h
        var dProjected = [Float](repeating: 0, count: n * steps * g4)  // (N*T, 4H)
        var dHiddenNext = [Float](repeating: 0, count: n * h)
        var dCellNext = [Float](repeating: 0, count: n * h)
        var dStep = [Float](repeating: 0, count: n * g4)
        for t in stride(from: steps - 1, through: 0, by: -1) {
            for b in 0..<n {
                let gateBase = (t * n + b) * g4
                for j in 0..<h {
                    let i = gates[gateBase + j], f = gates[gateBase + h + j]
                    let g = gates[gateBase + 2 * h + j], o = gates[gateBase + 3 * h + j]
                    let cell = cells[((t + 1) * n + b) * h + j]
                    let previousCell = cells[(t * n + b) * h + j]
                    let dh = gradOutput.data[(b * steps + t) * h + j] + dHiddenNext[b * h + j]
                    let tc = tanh(cell)
                    let dc = dh * o * (1 - tc * tc) + dCellNext[b * h + j]
                    dCellNext[b * h + j] = dc * f
                    dStep[b * g4 + j] = dc * g * i * (1 - i)
                    dStep[b * g4 + h + j] = dc * previousCell * f * (1 - f)
                    dStep[b * g4 + 2 * h + j] = dc * i * (1 - g * g)
                    dStep[b * g4 + 3 * h + j] = dh * tc * o * (1 - o)
                }
                for j in 0..<g4 { dProjected[(b * steps + t) * g4 + j] = dStep[b * g4 + j] }
            }
            dStep.withUnsafeBufferPointer { ds in
                hiddens.withUnsafeBufferPointer { hp in
                    weightHH.grad.data.withUnsafeMutableBufferPointer { dw in
                        // dW_hh (4H, H) += dStep^T (4H, N) x h_{t-1} (N, H)
                        gemm(transposeA: true, transposeB: false, m: g4, n: h, k: n,
                             a: ds.baseAddress!, b: hp.baseAddress! + t * n * h, beta: 1, c: dw.baseAddress!)
                    }
                }
                weightHH.value.data.withUnsafeBufferPointer { w in
                    dHiddenNext.withUnsafeMutableBufferPointer { dh in
                        // dh_{t-1} (N, H) = dStep (N, 4H) x W_hh (4H, H)
                        gemm(transposeA: false, transposeB: false, m: n, n: h, k: g4,
                             a: ds.baseAddress!, b: w.baseAddress!, c: dh.baseAddress!)
                    }
                }
            }
        }
        for r in 0..<(n * steps) {
            for j in 0..<g4 {
                biasIH.grad.data[j] += dProjected[r * g4 + j]
                biasHH.grad.data[j] += dProjected[r * g4 + j]
            }
        }
        var dx = [Float](repeating: 0, count: n * steps * inputSize)
        dProjected.withUnsafeBufferPointer { dp in
            input.data.withUnsafeBufferPointer { x in
                weightIH.grad.data.withUnsafeMutableBufferPointer { dw in
                    gemm(transposeA: true, transposeB: false, m: g4, n: inputSize, k: n * steps,
                         a: dp.baseAddress!, b: x.baseAddress!, beta: 1, c: dw.baseAddress!)
                }
            }
            weightIH.value.data.withUnsafeBufferPointer { w in
                dx.withUnsafeMutableBufferPointer { d in
                    gemm(transposeA: false, transposeB: false, m: n * steps, n: inputSize, k: g4,
                         a: dp.baseAddress!, b: w.baseAddress!, c: d.baseAddress!)
                }
            }
        }
        let shape = input.shape
        input = Tensor(zeros: [0]); gates = []; cells = []; hiddens = []
        return Tensor(shape: shape, data: dx)
    }
}
