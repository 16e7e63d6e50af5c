import XCTest
import NeuralNet
@testable import Recognition

/// `CorrectionSearch.descend` keeps each block's moves until a move changes a cell of a
/// constraint the block touches. These tests hold it to the search without that memory, as it was
/// until 0.6.12: every block of every broken constraint worked out afresh at each move.
final class CorrectionSearchTests: XCTestCase {
    /// Random badly read tables (rows of max, min and their midrange; a total under each column;
    /// a dozen candidates a cell, the right one rarely first) are corrected as the search corrects
    /// them when it works every block out afresh at each move.
    func testRememberedMovesCorrectAsASearchWithoutMemoryDoes() {
        var generator = RandomGenerator(seed: 20261205)
        let layout = TableLayout(relations: [], learnRelations: false)
        var changedCells = 0
        for _ in 0..<12 {
            let search = randomTable(rows: 6, using: &generator, layout: layout)
            var remembered = search, afresh = search
            remembered.descend()
            afresh.descendWorkingEveryBlockOutEachMove()
            XCTAssertEqual(remembered.choice, afresh.choice)
            changedCells += zip(search.choice, remembered.choice).filter { $0 != $1 }.count
        }
        // Not a vacuous comparison: the tables are read badly enough that the search corrects many cells.
        XCTAssertGreaterThan(changedCells, 50)
    }

    /// A table of `rows` rows of max, min and midrange and a row of totals, each cell offered its
    /// written value and eleven one-digit misreadings in random order with random probabilities.
    private func randomTable(rows: Int, using generator: inout RandomGenerator, layout: TableLayout) -> CorrectionSearch {
        var written: [[Double]] = (0..<rows).map { _ in
            let max = Double(Int.random(in: 250...350, using: &generator)) / 10
            let min = Double(Int.random(in: 150...220, using: &generator)) / 10
            return [max, min, ((max + min) / 2 * 10).rounded() / 10]
        }
        written.append((0..<3).map { column in written.reduce(0) { $0 + $1[column] } })
        var candidates: [[TableChecks.Candidate]] = []
        for row in written {
            for value in row {
                let text = String(format: "%.1f", value)
                var texts = [text]
                while texts.count < TableChecks.candidatesPerCell {
                    var characters = Array(text)
                    let digits = characters.indices.filter { characters[$0].isNumber }
                    let position = digits.randomElement(using: &generator)!
                    characters[position] = Character(String(Int.random(in: 0...9, using: &generator)))
                    if !texts.contains(String(characters)) { texts.append(String(characters)) }
                }
                texts.shuffle(using: &generator)
                let logits = texts.map { _ in Double.random(in: -6...0, using: &generator) }.sorted(by: >)
                candidates.append(zip(texts, logits).map { TableChecks.Candidate(value: $0, logProbability: $1, source: 0) })
            }
        }
        func cell(_ row: Int, _ column: Int) -> Int { row * 3 + column }
        var constraints = (0..<rows).map { row in
            TableConstraint(kind: .midrange, cells: [cell(row, 0), cell(row, 1), cell(row, 2)], count: 0)
        }
        for column in 0..<3 {
            constraints.append(TableConstraint(kind: .total, cells: (0...rows).map { cell($0, column) }, count: rows))
        }
        var byCell = [[Int]](repeating: [], count: candidates.count)
        for (index, constraint) in constraints.enumerated() {
            for cell in constraint.cells { byCell[cell].append(index) }
        }
        return CorrectionSearch(candidates: candidates, numbers: candidates.map { $0.map { TableNumber(text: $0.value) } },
                                constraints: constraints, byCell: byCell, layout: layout,
                                choice: [Int](repeating: 0, count: candidates.count))
    }
}

extension CorrectionSearch {
    /// The search without its memory: each move, every block's moves worked out afresh.
    mutating func descendWorkingEveryBlockOutEachMove() {
        for _ in 0..<TableChecks.maximumMoves {
            var best: (gain: Double, cells: [Int], choices: [Int])? = nil
            for block in brokenBlocks() {
                for move in loweringMoves(block, touching: touching(block)) where move.gain > (best?.gain ?? 0) + 1e-9 {
                    best = (move.gain, block, move.choices)
                }
            }
            guard let move = best else { return }
            for (k, cell) in move.cells.enumerated() { choice[cell] = move.choices[k] }
        }
    }
}
