import Imaging

// The cutter splits a piece of ink only when it is wider than 1.15 digit heights. A 1 written
// against its neighbour makes a piece narrower than that, which the digit network reads, surely,
// as the neighbour alone (18.5 as 8.5). When another reader sees one digit more, these helpers
// offer the piece cut in two at each plausible column, so the network can read the halves.

extension CutCell {
    /// Digits wide enough to hold two (at least half as wide as tall).
    public var splittableDigits: [Int] {
        digits.indices.filter { 2 * digits[$0].box.width >= digits[$0].box.height && digits[$0].box.width >= 6 }
    }

    /// Columns of digit `index`'s image to cut it at: from a fifth to four fifths of its width,
    /// at most `count` of them, evenly spaced.
    public func splitColumns(of index: Int, count: Int = 12) -> [Int] {
        let width = digits[index].box.width
        let first = max(2, width / 5), last = min(width - 2, width - width / 5)
        guard last > first else { return [] }
        let step = max(1, (last - first) / max(1, count - 1))
        return Array(stride(from: first, through: last, by: step).prefix(count))
    }

    /// This cut with digit `index` cut in two at column `x` of its image (left of `x`, and from
    /// `x` on), each side narrowed to its ink; nil when a side holds no ink or is less than 3/4
    /// of the digit's height. The separator is
    /// counted again against the new digits.
    public func splitting(_ index: Int, at x: Int) -> CutCell? {
        let digit = digits[index]
        guard x > 0, x < digit.image.width,
              let left = CutCell.inkOnly(digit, columns: 0..<x),
              let right = CutCell.inkOnly(digit, columns: x..<digit.image.width),
              // Two digits side by side are each about as tall as the piece; a short side is a
              // loop or a flag cut off (the top of a 1 from the 1 itself).
              4 * min(left.box.height, right.box.height) >= 3 * digit.box.height else { return nil }
        var result = digits
        result.replaceSubrange(index...index, with: [left, right])
        let separator = separatorBox.map { s in result.filter { $0.box.centerX < s.centerX }.count }
        return CutCell(digits: result, separatorIndex: separator, separatorBox: separatorBox, droppedComponents: droppedComponents,
                       minusBox: minusBox)
    }

    /// The part of `digit` in `columns` of its image, cropped to the box around its ink.
    static func inkOnly(_ digit: Digit, columns: Range<Int>) -> Digit? {
        var minX = Int.max, minY = Int.max, maxX = -1, maxY = -1
        for y in 0..<digit.image.height {
            for x in columns where digit.image[x, y] < 0.5 {
                minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
            }
        }
        guard maxX >= minX else { return nil }
        let image = digit.image.cropped(x: minX, y: minY, width: maxX - minX + 1, height: maxY - minY + 1)
        let box = Box(minX: digit.box.minX + minX, minY: digit.box.minY + minY,
                      maxX: digit.box.minX + maxX, maxY: digit.box.minY + maxY)
        return Digit(box: box, image: image)
    }
}
