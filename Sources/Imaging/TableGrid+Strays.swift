import Foundation

// Long straight lines that are not the table's rules, taken out before the cells are built so
// that rows and columns keep the numbers the form gives them:
// - the page's own edge (the shadow of a sheet's edge on the scanner, a dark border left by
//   cropping): an outermost line with no ink between it and the next rule, hugging the image
//   border or at its own angle to the rules (a skewed sheet's edge turned by the deskew); it
//   would add an empty first or last column and shift every column's number;
// - a fold's crease across a row: a line splitting one row in two, one part or both thin, and not
//   parallel to the rules around it (printed rules are; a crease runs across them at its own
//   angle); it would drop the row's cells as a spacer and shift the number of every row below.

/// `rules` (sorted by position, one orientation) without an outermost line that is the page's
/// edge: the rules across (`others`, sorted) mostly stop `margin` px short of it, it lies within
/// `margin` px of the image border or drifts against the next rule by `minimumDrift` px, and the
/// strip between the two holds almost no ink between the rules across (their outermost left
/// out: they may be edges too, and the page beyond the table holds titles and stains).
func droppingPageEdges(_ rules: [TableRule], others: [TableRule], size: Int, binary: GrayImage,
                       margin: Double, minimumDrift: Double) -> [TableRule] {
    guard rules.count >= 3, others.count >= 2 else { return rules }
    let starts = others.map(\.start).sorted(), ends = others.map(\.end).sorted()
    let typicalStart = starts[starts.count / 2], typicalEnd = ends[ends.count / 2]
    let inner = others.count >= 4 ? Array(others.dropFirst().dropLast()) : others
    let span = inner[0].middlePosition...inner[inner.count - 1].middlePosition
    /// Almost no ink between lines `a` and `b` (a before b), clear of their strokes, where both run
    /// within `span`.
    func emptyStrip(_ a: TableRule, _ b: TableRule) -> Bool {
        let first = max(span.lowerBound, a.start, b.start), last = min(span.upperBound, a.end, b.end)
        guard last - first >= 2 * margin else { return false }
        // Where the strip is too narrow to look into (a narrow column, not the margin beyond a
        // page's edge), nothing is counted, and no strip at all is no edge.
        var ink = 0, total = 0
        for along in stride(from: Int(first.rounded()), to: Int(last.rounded()), by: 2) {
            let low = Int((a.position(at: Double(along)) + margin).rounded())
            let high = Int((b.position(at: Double(along)) - margin).rounded())
            guard high > low else { continue }
            for across in low..<high {
                let (x, y) = a.orientation == .vertical ? (across, along) : (along, across)
                guard x >= 0, y >= 0, x < binary.width, y < binary.height else { continue }
                total += 1
                if binary.pixels[y * binary.width + x] < 0.5 { ink += 1 }
            }
        }
        return total > 0 && ink * 1000 <= total
    }
    var kept = rules
    if let outer = kept.first, typicalStart > outer.middlePosition + margin,
       outer.middlePosition < margin || drift(outer, kept[1]) >= minimumDrift,
       emptyStrip(outer, kept[1]) {
        kept.removeFirst()
    }
    if let outer = kept.last, typicalEnd < outer.middlePosition - margin,
       outer.middlePosition > Double(size - 1) - margin || drift(outer, kept[kept.count - 2]) >= minimumDrift,
       emptyStrip(kept[kept.count - 2], outer) {
        kept.removeLast()
    }
    return kept
}

/// Horizontal `rules` (sorted top to bottom) without fold creases: an inner line with a gap to a
/// neighbour under 75% of the typical row, both gaps together 80-120% of it, and which drifts
/// against its upper neighbour by at least `minimumDrift` px (or a tenth of the row) over their
/// common extent.
func droppingCreases(_ rules: [TableRule], minimumDrift: Double) -> [TableRule] {
    guard rules.count >= 4 else { return rules }
    let gaps = zip(rules, rules.dropFirst()).map { $1.middlePosition - $0.middlePosition }.sorted()
    let typical = gaps[gaps.count / 2]
    guard typical > 0 else { return rules }
    var kept = [rules[0]]
    for index in 1..<(rules.count - 1) {
        let above = kept[kept.count - 1], rule = rules[index], below = rules[index + 1]
        let up = rule.middlePosition - above.middlePosition, down = below.middlePosition - rule.middlePosition
        let splitsARow = min(up, down) < 0.75 * typical && up + down >= 0.8 * typical && up + down <= 1.2 * typical
        if splitsARow && drift(rule, above) >= max(minimumDrift, 0.1 * typical) { continue }
        kept.append(rule)
    }
    kept.append(rules[rules.count - 1])
    return kept
}

/// How much the distance between two lines of one orientation changes over their common extent
/// (its middle 80%): about 0 for printed rules, which are parallel.
func drift(_ a: TableRule, _ b: TableRule) -> Double {
    let start = max(a.start, b.start), end = min(a.end, b.end)
    guard end > start else { return 0 }
    let reach = 0.1 * (end - start)
    return abs((a.position(at: end - reach) - b.position(at: end - reach))
               - (a.position(at: start + reach) - b.position(at: start + reach)))
}
