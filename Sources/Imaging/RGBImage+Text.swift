extension RGBImage {
    /// Draws `text` with the built-in `BitmapFont`, its top-left corner at (x, y), each font pixel
    /// becoming a `scale` x `scale` block. "\n" starts a new line; characters without a glyph are
    /// drawn as "?" so missing coverage is visible rather than silently dropped.
    /// - Returns: the width in pixels of the widest line drawn.
    @discardableResult
    public mutating func drawText(_ text: String, x: Int, y: Int, scale: Int = 1, color: RGBColor = .black) -> Int {
        Self.forEachInkPixel(of: text, scale: scale) { textX, textY in
            fillRect(x: x + textX, y: y + textY, width: max(scale, 1), height: max(scale, 1), color: color)
        }
    }

    /// Draws `text` rotated a quarter turn counter-clockwise (reading bottom to top, like a y-axis
    /// title). (x, y) is the top-left corner of the rotated text's bounding box, whose size is
    /// `BitmapFont.textSize` with width and height swapped.
    @discardableResult
    public mutating func drawVerticalText(_ text: String, x: Int, y: Int, scale: Int = 1, color: RGBColor = .black) -> Int {
        let s = max(scale, 1)
        let along = BitmapFont.textSize(text, scale: s).width
        return Self.forEachInkPixel(of: text, scale: s) { textX, textY in
            // Text x runs upwards from the bottom of the box; text y runs rightwards.
            fillRect(x: x + textY, y: y + along - s - textX, width: s, height: s, color: color)
        }
    }

    /// Walks the ink pixels of `text` in unrotated text coordinates (already scaled).
    private static func forEachInkPixel(of text: String, scale: Int, paint: (Int, Int) -> Void) -> Int {
        let s = max(scale, 1)
        var widest = 0
        for (lineIndex, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let top = lineIndex * BitmapFont.lineHeight * s
            for (index, character) in line.enumerated() {
                let left = index * BitmapFont.advance * s
                for (row, bits) in BitmapFont.rows(for: character).enumerated() where bits != 0 {
                    for column in 0..<BitmapFont.glyphWidth where bits & (1 << UInt8(BitmapFont.glyphWidth - 1 - column)) != 0 {
                        paint(left + column * s, top + row * s)
                    }
                }
            }
            widest = max(widest, line.isEmpty ? 0 : (line.count * BitmapFont.advance - 1) * s)
        }
        return widest
    }
}
