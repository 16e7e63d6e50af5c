import Foundation

extension TableChecks {
    /// Cells of a broken constraint searched jointly, all their candidates against each other,
    /// when the constraint ties at most this many (a row's max, min and mean); a total's column
    /// of 31 days is searched one cell at a time.
    public static let maximumJointCells = 3
    /// Moves the search makes at most (each lowers the cost, so it stops long before).
    static let maximumMoves = 200
    /// How much cheaper, in nats, a correction must be than blaming another cell of the check
    /// before that cell is trusted (`CorrectionSearch.doubtedChecks`): odds of e^5, about 150 to 1.
    public static let blameMargin = 5.0

    /// The cells that break a check as read with one digit fewer than their column usually has
    /// (`digitCounts[i] + 1 == usualCounts[i]`): their ink may hold a piece both readers saw as one
    /// digit (a hooked 1 written against a 3), to be offered cut in two (`CellReader.recutOpinions`).
    public static func shortCellsBreakingChecks(readings: [CellReading], positions: [TablePosition?], layout: TableLayout,
                                                reviewThreshold: Float, digitCounts: [Int], usualCounts: [Int?]) -> [Int] {
        let short = readings.indices.filter { digitCounts[$0] > 0 && usualCounts[$0] == digitCounts[$0] + 1 }
        // Most pages have none: then the checks need not run twice.
        guard !short.isEmpty else { return [] }
        let asRead = apply(readings: readings, positions: positions, layout: layout, reviewThreshold: reviewThreshold,
                           correct: false).readings
        return short.filter { !asRead[$0].checksBroken.isEmpty }
    }

    /// Corrections of one digit into another on a sheet before its other cells showing that
    /// digit are doubted (`doubtWriterConfusions`).
    public static let minimumWriterConfusions = 3

    /// The checks' record of a sheet's writer: when they corrected the same digit into the same
    /// other digit `minimumWriterConfusions` times on a sheet (a writer whose 4s the network
    /// reads, surely, as 9), the sheet's other cells read with that digit, the other as its
    /// runner-up, and not verified by a check of their own are flagged: most of them have no
    /// check to catch them (pressures, humidities, rain). Their `checksDoubted` says `confusion`.
    static func doubtWriterConfusions(_ readings: inout [CellReading], positions: [TablePosition?], reviewThreshold: Float) {
        var counts: [String: [Int: Int]] = [:]   // sheet -> read digit * 10 + corrected digit -> count
        for (index, reading) in readings.enumerated() {
            // A derived value is no misread digit of the writer's.
            guard let sheet = positions[index]?.sheet, let before = reading.uncheckedValue,
                  before.count == reading.value.count, !reading.checksDoubted.contains(CellReading.derivedDoubt) else { continue }
            for (a, b) in zip(before, reading.value) where a != b {
                if let a = a.wholeNumberValue, let b = b.wholeNumberValue { counts[sheet, default: [:]][a * 10 + b, default: 0] += 1 }
            }
        }
        let confused = counts.mapValues { tally in Set(tally.filter { $0.value >= minimumWriterConfusions }.keys) }
        guard confused.values.contains(where: { !$0.isEmpty }) else { return }
        for index in readings.indices {
            guard let sheet = positions[index]?.sheet, let pairs = confused[sheet], !pairs.isEmpty else { continue }
            var reading = readings[index]
            guard reading.uncheckedValue == nil, !reading.verified, reading.flag == .ok else { continue }
            let suspect = reading.digits.contains { digit in
                digit.alternatives.dropFirst().contains { pairs.contains(digit.digit * 10 + $0.digit) }
            }
            guard suspect else { continue }
            reading.checksDoubted.append("confusion")
            reading.flag = reading.flag(atThreshold: reviewThreshold)
            readings[index] = reading
        }
    }
}

/// The search for the cheapest corrections of a table: each cell's candidate readings, the
/// constraints among the cells, and the candidate each cell takes (`choice`, 0: as read). The cost
/// of a set of cells is their candidates' -log probabilities plus `TableChecks.brokenConstraintCost`
/// per broken constraint any of them is in.
struct CorrectionSearch {
    typealias Candidate = TableChecks.Candidate
    let candidates: [[Candidate]]
    /// `candidates` parsed once: the search evaluates constraints hundreds of thousands of times.
    let numbers: [[TableNumber?]]
    let constraints: [TableConstraint]
    /// Per cell, the indices of the constraints it is in.
    let byCell: [[Int]]
    let layout: TableLayout
    var choice: [Int]
    /// Whether moves may also change together the cells of a small check that holds, where one
    /// of them is in a broken one (`brokenBlocks`).
    var joiningHeldChecks = false

    func value(_ cell: Int) -> TableNumber? { candidates[cell].isEmpty ? nil : numbers[cell][choice[cell]] }

    func isBroken(_ index: Int) -> Bool { constraints[index].holds({ value($0) }, layout: layout) == false }

    /// The constraints any cell of `block` is in.
    func touching(_ block: [Int]) -> [Int] { Array(Set(block.flatMap { byCell[$0] })).sorted() }

    /// The cost of `block`'s current choices, with the broken constraints among `touching`.
    func cost(_ block: [Int], touching: [Int]) -> Double {
        var total = 0.0
        for cell in block { total -= candidates[cell][choice[cell]].logProbability }
        for index in touching where isBroken(index) { total += TableChecks.brokenConstraintCost }
        return total
    }

    /// Lowers the cost move by move. Each move is the best one found among: any one cell of a
    /// broken constraint taking any candidate, and the cells of a small broken constraint taking
    /// any candidates together. Taking the best move of all, not the first that helps, matters:
    /// when a row's mean breaks (max + min) / 2 because the min was misread, changing the max by a
    /// digit read at 0.999 also meets it, and a search visiting cells in order would take that
    /// first. The joint moves mend rows where two cells were misread, which no one-cell change can.
    mutating func descend() {
        // A block's moves depend only on the choices of the cells of the constraints it touches,
        // so they are worked out again only after a move changes one of those cells: on a badly
        // read page most of a hundred broken constraints' blocks stay as they were move after move.
        var known: [[Int]: (touching: [Int], moves: [(gain: Double, choices: [Int])])] = [:]
        for _ in 0..<TableChecks.maximumMoves {
            var best: (gain: Double, cells: [Int], choices: [Int])? = nil
            for block in brokenBlocks() {
                if known[block] == nil {
                    let touching = touching(block)
                    known[block] = (touching, loweringMoves(block, touching: touching))
                }
                for move in known[block]!.moves where move.gain > (best?.gain ?? 0) + 1e-9 { best = (move.gain, block, move.choices) }
            }
            guard let move = best else { return }
            for (k, cell) in move.cells.enumerated() { choice[cell] = move.choices[k] }
            let changed = Set(move.cells.flatMap { byCell[$0] })
            known = known.filter { $0.value.touching.allSatisfy { !changed.contains($0) } }
        }
    }

    /// The cells a move may change: each cell of a broken constraint alone, and the cells of a
    /// broken constraint of at most `TableChecks.maximumJointCells` together, each block once.
    func brokenBlocks() -> [[Int]] {
        var blocks: [[Int]] = []
        var seen = Set<[Int]>()
        for index in constraints.indices where isBroken(index) {
            let cells = constraints[index].cells.filter { !candidates[$0].isEmpty }
            var options = cells.map { [$0] }
            if cells.count > 1 && cells.count <= TableChecks.maximumJointCells { options.append(cells.sorted()) }
            for block in options where seen.insert(block).inserted { blocks.append(block) }
        }
        guard joiningHeldChecks else { return blocks }
        // A total read 13.7 for 137.9 and its mean read 2.3 for 23.0 hold together: no move of
        // either alone mends the total or the mean's row.
        let inBroken = Set(blocks.flatMap { $0 })
        for constraint in constraints where constraint.verifies && constraint.cells.count <= TableChecks.maximumJointCells {
            let cells = constraint.cells.filter { !candidates[$0].isEmpty }.sorted()
            guard cells.count > 1, cells.contains(where: inBroken.contains), seen.insert(cells).inserted else { continue }
            blocks.append(cells)
        }
        return blocks
    }

    /// Every assignment of `block`'s candidates that lowers the cost, in the order the search
    /// tries them (an odometer, the first cell turning fastest), with how much it lowers it.
    /// Those that do not can never be a move, so they are not kept.
    mutating func loweringMoves(_ block: [Int], touching: [Int]) -> [(gain: Double, choices: [Int])] {
        var moves: [(gain: Double, choices: [Int])] = []
        let original = block.map { choice[$0] }
        let start = cost(block, touching: touching)
        var counters = [Int](repeating: 0, count: block.count)
        while true {
            for (k, cell) in block.enumerated() { choice[cell] = counters[k] }
            let gain = start - cost(block, touching: touching)
            if gain > 1e-9 { moves.append((gain, counters)) }
            var k = 0
            while k < block.count {
                counters[k] += 1
                if counters[k] < candidates[block[k]].count { break }
                counters[k] = 0
                k += 1
            }
            if k == block.count { break }
        }
        for (k, cell) in block.enumerated() { choice[cell] = original[k] }
        return moves
    }

    /// Per cell, the checks that hold only thanks to a correction of another of their cells, when
    /// blaming this cell instead would cost at most `TableChecks.blameMargin` more. A row's mean
    /// breaks (max + min) / 2; correcting its mean by one digit or its min by one digit both mend
    /// it, and the search takes the cheaper. When the two cost about the same, the min the search
    /// kept is as doubtful as the mean it changed: both go to review.
    func doubtedChecks() -> [[Int]] {
        var trial = self
        var result = [[Int]](repeating: [], count: choice.count)
        for (index, constraint) in constraints.enumerated() where constraint.verifies && constraint.holds({ value($0) }, layout: layout) == true {
            let corrected = constraint.cells.filter { !candidates[$0].isEmpty && choice[$0] != 0 }
            guard !corrected.isEmpty else { continue }
            let block = constraint.cells.filter { !candidates[$0].isEmpty }
            let touching = touching(block)
            let chosen = cost(block, touching: touching)
            for cell in block where choice[cell] == 0 {
                // This cell misread instead: it takes another candidate, and each corrected cell
                // keeps its correction or goes back to its reading.
                var cheapest = Double.infinity
                // A derived value is what a broken check asks, not another reading of the cell.
                for option in candidates[cell].indices where option != choice[cell] && candidates[cell][option].source != TableChecks.derivedSource {
                    trial.choice[cell] = option
                    for mask in 0..<(1 << corrected.count) {
                        for (bit, other) in corrected.enumerated() { trial.choice[other] = mask & (1 << bit) != 0 ? 0 : choice[other] }
                        cheapest = min(cheapest, trial.cost(block, touching: touching))
                    }
                }
                trial.choice = choice
                if cheapest - chosen < TableChecks.blameMargin { result[cell].append(index) }
            }
        }
        return result
    }
}
