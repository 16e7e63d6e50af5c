import Dispatch
import NeuralNet

/// Digits ready for the network, stored compactly: one flat pixel array rather than an array of
/// per-sample structs, so that 20,000 images are one allocation and batches copy out with a
/// single contiguous memcpy per image.
///
/// Every image is the output of `DigitNormalizer`: `side` x `side` (64 x 64), row-major, with
/// INK = 1 and background = 0 (the network's polarity, the opposite of `GrayImage`'s paper
/// polarity). Whatever source a digit came from, it looks the same to the network.
public struct DigitDataset: Sendable {
    /// Width and height of every image.
    public static let side = DigitNormalizer.side
    /// Values per image (`side * side`).
    public static let pixelsPerImage = side * side
    /// Number of classes; labels are 0...9.
    public static let classCount = 10

    /// `count` images of `pixelsPerImage` values each, back to back.
    public internal(set) var images: [Float]
    /// The digit each image shows, 0...9.
    public internal(set) var labels: [Int]
    /// Where each image came from, e.g. "mnist-test:123", "opencv:4021",
    /// "folder:/data/3/x.png", so a misread in an evaluation can be traced to its file.
    public internal(set) var origins: [String]

    /// An empty dataset.
    public init() {
        images = []
        labels = []
        origins = []
    }

    /// Wraps already normalised images; the three arrays must describe the same number of digits.
    public init(images: [Float], labels: [Int], origins: [String]) {
        precondition(images.count == labels.count * Self.pixelsPerImage,
                     "DigitDataset: \(images.count) pixels for \(labels.count) images of \(Self.pixelsPerImage)")
        precondition(origins.count == labels.count, "DigitDataset: \(origins.count) origins for \(labels.count) labels")
        precondition(labels.allSatisfy { (0..<Self.classCount).contains($0) }, "DigitDataset: label outside 0...9")
        self.images = images
        self.labels = labels
        self.origins = origins
    }

    public var count: Int { labels.count }
    public var isEmpty: Bool { labels.isEmpty }

    /// The pixels of image `index` (a copy, `pixelsPerImage` values).
    public func image(at index: Int) -> [Float] {
        precondition(index >= 0 && index < count, "DigitDataset.image(at:): index \(index) outside 0..<\(count)")
        let start = index * Self.pixelsPerImage
        return Array(images[start..<(start + Self.pixelsPerImage)])
    }

    /// The images at `indices`, in that order (indices may repeat, e.g. for oversampling).
    public func subset(_ indices: [Int]) -> DigitDataset {
        var result = DigitDataset()
        result.images = gatherImages(indices)
        result.labels = indices.map { labels[$0] }
        result.origins = indices.map { origins[$0] }
        return result
    }

    /// Both datasets, `lhs` first; indices of `rhs` shift by `lhs.count`.
    public static func + (lhs: DigitDataset, rhs: DigitDataset) -> DigitDataset {
        var result = lhs
        result.append(contentsOf: rhs)
        return result
    }

    /// Appends another dataset's images.
    public mutating func append(contentsOf other: DigitDataset) {
        images.append(contentsOf: other.images)
        labels.append(contentsOf: other.labels)
        origins.append(contentsOf: other.origins)
    }

    /// A network input batch of the images at `indices`, shaped (n, 1, side, side).
    public func tensor(for indices: [Int]) -> Tensor {
        Tensor(shape: [indices.count, 1, Self.side, Self.side], data: gatherImages(indices))
    }

    /// The labels at `indices`, e.g. the targets that go with `tensor(for:)`.
    public func labels(for indices: [Int]) -> [Int] { indices.map { labels[$0] } }

    /// How many images each class has (index = digit), for checking balance and for model cards.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: Self.classCount)
        for label in labels { counts[label] += 1 }
        return counts
    }

    /// Indices of the images of each class (index = digit), in dataset order.
    public var indicesByClass: [[Int]] {
        var result = [[Int]](repeating: [], count: Self.classCount)
        for (index, label) in labels.enumerated() { result[label].append(index) }
        return result
    }

    /// Copies the pixels of `indices` into one contiguous buffer.
    func gatherImages(_ indices: [Int]) -> [Float] {
        let size = Self.pixelsPerImage
        for index in indices {
            precondition(index >= 0 && index < count, "DigitDataset: index \(index) outside 0..<\(count)")
        }
        return [Float](unsafeUninitializedCapacity: indices.count * size) { buffer, initialized in
            images.withUnsafeBufferPointer { source in
                for (position, index) in indices.enumerated() {
                    let target = buffer.baseAddress! + position * size
                    target.initialize(from: source.baseAddress! + index * size, count: size)
                }
            }
            initialized = indices.count * size
        }
    }
}
