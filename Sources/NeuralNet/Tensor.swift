/// A dense float32 tensor. Images travel as NCHW: (batch, channels, height, width).
///
/// A value type over a Swift array, so copies are cheap until written (copy-on-write). Hot loops
/// reach the storage through `withUnsafe...` to keep bounds checks out of them.
public struct Tensor: Sendable, Equatable {
    public var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count,
                     "Tensor: \(data.count) values do not fill shape \(shape)")
        self.shape = shape
        self.data = data
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, data: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    public init(repeating value: Float, shape: [Int]) {
        self.init(shape: shape, data: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    /// Values drawn from N(0, std^2).
    public init(randomNormal shape: [Int], std: Float = 1, using rng: inout RandomGenerator) {
        let n = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: n)
        for i in 0..<n { values[i] = rng.nextNormal() * std }
        self.init(shape: shape, data: values)
    }

    /// Values drawn uniformly from [-bound, bound].
    public init(randomUniform shape: [Int], bound: Float, using rng: inout RandomGenerator) {
        let n = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: n)
        for i in 0..<n { values[i] = (rng.nextFloat() * 2 - 1) * bound }
        self.init(shape: shape, data: values)
    }

    public var count: Int { data.count }
    public var rank: Int { shape.count }

    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, data: data)
    }

    /// Rows `range` of the first axis, e.g. a slice of a batch.
    public func slice(_ range: Range<Int>) -> Tensor {
        let rowSize = shape.dropFirst().reduce(1, *)
        var newShape = shape
        newShape[0] = range.count
        return Tensor(shape: newShape, data: Array(data[(range.lowerBound * rowSize)..<(range.upperBound * rowSize)]))
    }

    public mutating func fill(_ value: Float) {
        data.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] = value }
        }
    }

    /// Element-wise sum; large tensors (residual connections) on the engine's threads.
    public static func += (lhs: inout Tensor, rhs: Tensor) {
        precondition(lhs.shape == rhs.shape, "Tensor +=: shapes \(lhs.shape) and \(rhs.shape)")
        lhs.data.withUnsafeMutableBufferPointer { ab in
            rhs.data.withUnsafeBufferPointer { bb in
                let a = ab.baseAddress!, b = bb.baseAddress!
                parallelChunks(ab.count, minimumPerThread: 1 << 15) { range in
                    for i in range { a[i] += b[i] }
                }
            }
        }
    }

    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
        var result = lhs
        result += rhs
        return result
    }

    /// Largest absolute element-wise difference; shapes must match.
    public func maxAbsDifference(_ other: Tensor) -> Float {
        precondition(shape == other.shape, "maxAbsDifference: shapes \(shape) and \(other.shape)")
        var worst: Float = 0
        for i in 0..<data.count { worst = max(worst, abs(data[i] - other.data[i])) }
        return worst
    }

    public func sum() -> Float { data.reduce(0, +) }

    /// Index of the largest value of each row of a (rows, columns) tensor.
    public func argmaxRows() -> [Int] {
        precondition(rank == 2, "argmaxRows needs a (rows, columns) tensor, got \(shape)")
        let columns = shape[1]
        return (0..<shape[0]).map { r in
            var best = 0
            for c in 1..<columns where data[r * columns + c] > data[r * columns + best] { best = c }
            return best
        }
    }
}
