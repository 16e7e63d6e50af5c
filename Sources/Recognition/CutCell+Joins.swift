import Imaging

// The cutter splits a piece of ink wider than 1.15 digit heights at its thinnest columns, taking it
// for touching digits; a slanted 2, a 5 with a long flag or a wide 0 is split too, into two digits
// that touch. These helpers name such runs of touching digits and build the joined alternatives,
// so a reader can classify both ways and keep the one the network is surer of
// (`CutCell.bestJoins`), instead of trusting the width alone.

extension CutCell {
    /// Runs of two or more consecutive digits where the ink of each runs on into the next across
    /// adjacent columns: what one piece of ink split at a column looks like.
    public var touchingRuns: [Range<Int>] {
        var runs: [Range<Int>] = []
        var start = 0
        for index in 1...max(1, digits.count) {
            let continues = index < digits.count && CutCell.inkRunsOn(from: digits[index - 1], into: digits[index])
            if !continues {
                if index - start >= 2 { runs.append(start..<index) }
                start = index
            }
        }
        return runs
    }

    /// Whether `b` starts in the column after `a` ends and some ink pixel of `a`'s last column
    /// touches (8-connected) one of `b`'s first column.
    static func inkRunsOn(from a: Digit, into b: Digit) -> Bool {
        guard b.box.minX == a.box.maxX + 1 else { return false }
        let lastX = a.image.width - 1
        for y in 0..<a.image.height where a.image[lastX, y] < 0.5 {
            let pageY = a.box.minY + y
            for dy in -1...1 {
                let by = pageY + dy - b.box.minY
                if by >= 0 && by < b.image.height && b.image[0, by] < 0.5 { return true }
            }
        }
        return false
    }

    /// Every span of 2 or 3 digits inside a touching run that is not too wide for one digit (at
    /// most twice as wide as tall): the candidates for joining.
    public var joinCandidates: [Range<Int>] {
        var spans: [Range<Int>] = []
        for run in touchingRuns {
            for length in 2...min(3, run.count) {
                for start in run.lowerBound...(run.upperBound - length) {
                    let parts = digits[start..<(start + length)]
                    let width = parts.last!.box.maxX - parts.first!.box.minX + 1
                    let height = parts.map(\.box.maxY).max()! - parts.map(\.box.minY).min()! + 1
                    if width <= 2 * height { spans.append(start..<(start + length)) }
                }
            }
        }
        return spans
    }

    /// The fewest digits the cell can be read as (every touching run of up to 3 joined).
    public var fewestDigits: Int {
        digits.count - touchingRuns.reduce(0) { $0 + $1.count - ($1.count + 2) / 3 }
    }

    /// The digits of `span` as one digit: the box around them and their ink together.
    public func joined(_ span: Range<Int>) -> Digit {
        let parts = digits[span]
        let box = Box.enclosing(parts.map(\.box))!
        var image = GrayImage(width: box.width, height: box.height, fill: 1)
        for part in parts {
            for y in 0..<part.image.height {
                for x in 0..<part.image.width where part.image[x, y] < 0.5 {
                    image[part.box.minX - box.minX + x, part.box.minY - box.minY + y] = 0
                }
            }
        }
        return Digit(box: box, image: image)
    }

    /// This cut with each of the disjoint `spans` joined into one digit; the separator is counted
    /// again against the new digits.
    public func joining(_ spans: [Range<Int>]) -> CutCell {
        guard !spans.isEmpty else { return self }
        var result: [Digit] = []
        var index = 0
        while index < digits.count {
            if let span = spans.first(where: { $0.lowerBound == index }) {
                result.append(joined(span))
                index = span.upperBound
            } else {
                result.append(digits[index])
                index += 1
            }
        }
        let separator = separatorBox.map { s in result.filter { $0.box.centerX < s.centerX }.count }
        return CutCell(digits: result, separatorIndex: separator, separatorBox: separatorBox, droppedComponents: droppedComponents,
                       minusBox: minusBox)
    }

    /// Which candidates to join, given a probability for each digit (`digitProbability[i]`) and each
    /// candidate (`joinProbability[k]` for `joinCandidates[k]`): per touching run, the split into
    /// consecutive parts (single digits or candidates) whose least probable part is most probable;
    /// on a tie, fewer parts. (Trusting splits whose halves are both sure does worse: the halves
    /// of a wide 2 are often read as a sure 2 and a sure 1.)
    public func bestJoins(digitProbability: [Float], joinProbability: [Float]) -> [Range<Int>] {
        let candidates = joinCandidates
        precondition(digitProbability.count == digits.count && joinProbability.count == candidates.count,
                     "CutCell.bestJoins: probabilities do not match the digits and candidates")
        var chosen: [Range<Int>] = []
        for run in touchingRuns {
            // best[i]: (score, parts, joins) for run.lowerBound..<i.
            var best: [(score: Float, parts: Int, joins: [Range<Int>])?] = Array(repeating: nil, count: run.upperBound + 1)
            best[run.lowerBound] = (Float.infinity, 0, [])
            for end in (run.lowerBound + 1)...run.upperBound {
                for length in 1...min(3, end - run.lowerBound) {
                    guard let previous = best[end - length] else { continue }
                    let span = (end - length)..<end
                    let probability: Float
                    if length == 1 {
                        probability = digitProbability[span.lowerBound]
                    } else if let k = candidates.firstIndex(of: span) {
                        probability = joinProbability[k]
                    } else {
                        continue
                    }
                    let option = (score: min(previous.score, probability), parts: previous.parts + 1,
                                  joins: length == 1 ? previous.joins : previous.joins + [span])
                    if let current = best[end], current.score > option.score
                        || (current.score == option.score && current.parts <= option.parts) {
                        continue
                    }
                    best[end] = option
                }
            }
            chosen += best[run.upperBound]?.joins ?? []
        }
        return chosen
    }
}
