// Robust statistics of read numbers: the table checks' column ranges and the segment stage's
// layout decisions both use them.

extension Array where Element == Double {
    /// The middle value (the mean of the two middle ones for an even count); 0 when empty.
    public var median: Double {
        guard !isEmpty else { return 0 }
        let sorted = self.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// The median of the distances from the median (MAD); 1.4826 x MAD estimates a normal
    /// spread's standard deviation, unmoved by a few wild values.
    public var medianAbsoluteDeviation: Double {
        let centre = median
        return map { abs($0 - centre) }.median
    }
}
