import NeuralNet

/// Reproducible, stratified splits: every class is divided in the same proportions, so a rare
/// class cannot end up missing from the validation or test part, and the same seed always gives
/// the same split (which is what lets `evaluate` test on images training never saw).
extension DigitDataset {
    /// Splits into parts of the given fractions (normalised to sum 1; the default is 70/20/10
    /// train/validation/test), stratified by class. Within each class, images are shuffled by a
    /// generator seeded with `seed` and dealt out to the parts' rounded shares, so part sizes per
    /// class are exact to one image. Parts keep dataset order.
    public func split(fractions: [Double] = [0.7, 0.2, 0.1], seed: UInt64) -> [DigitDataset] {
        splitIndices(fractions: fractions, seed: seed).map { subset($0) }
    }

    /// Like `split(fractions:seed:)`, but images that share a group id stay in the same part
    /// (near-duplicates, several crops of one handwritten value, one writer's digits...). A group
    /// is filed under the class of its first image; its size counts towards the part it lands in.
    public func split(fractions: [Double] = [0.7, 0.2, 0.1], seed: UInt64, groups: [Int]) -> [DigitDataset] {
        splitIndices(fractions: fractions, seed: seed, groups: groups).map { subset($0) }
    }

    /// The indices of each part of `split(fractions:seed:groups:)`, ascending within each part.
    /// `groups` defaults to every image on its own.
    public func splitIndices(fractions: [Double] = [0.7, 0.2, 0.1], seed: UInt64, groups: [Int]? = nil) -> [[Int]] {
        precondition(!fractions.isEmpty && fractions.allSatisfy { $0 >= 0 && $0.isFinite } && fractions.reduce(0, +) > 0,
                     "split: fractions must be non-negative and not all zero, got \(fractions)")
        precondition(groups == nil || groups!.count == count, "split: \(groups!.count) group ids for \(count) images")
        let total = fractions.reduce(0, +)
        var cumulative: [Double] = [0]
        for fraction in fractions { cumulative.append(cumulative.last! + fraction / total) }

        // Units that must stay together, in first-appearance order, filed under their first image's class.
        var unitOfGroup: [Int: Int] = [:]
        var units: [[Int]] = []
        for index in 0..<count {
            if let groups {
                if let unit = unitOfGroup[groups[index]] {
                    units[unit].append(index)
                    continue
                }
                unitOfGroup[groups[index]] = units.count
            }
            units.append([index])
        }
        var unitsByClass = [[Int]](repeating: [], count: Self.classCount)
        for (unit, members) in units.enumerated() { unitsByClass[labels[members[0]]].append(unit) }

        var rng = RandomGenerator(seed: seed)
        var parts = [[Int]](repeating: [], count: fractions.count)
        for classUnits in unitsByClass {
            let images = classUnits.reduce(0) { $0 + units[$1].count }
            let boundaries = cumulative.map { Int((Double(images) * $0).rounded()) }
            var room = (0..<fractions.count).map { boundaries[$0 + 1] - boundaries[$0] }
            // Shuffled, then (stably) largest groups first, so a big group lands while every part
            // still has room for it; each unit goes to the part with the most room left. With
            // single images this fills every part to exactly its rounded share.
            let shuffled = rng.permutation(classUnits.count).map { classUnits[$0] }
            let sequence = shuffled.enumerated()
                .sorted { (units[$0.element].count, -$0.offset) > (units[$1.element].count, -$1.offset) }
                .map(\.element)
            for unit in sequence {
                var part = 0
                for candidate in 1..<fractions.count where room[candidate] > room[part] { part = candidate }
                parts[part].append(contentsOf: units[unit])
                room[part] -= units[unit].count
            }
        }
        return parts.map { $0.sorted() }
    }
}
