/// Debug overlay for a detected table grid: the page (lightened), cell outlines in green,
/// horizontal rules alternating red/orange, vertical rules alternating blue/purple, row numbers
/// left of the table, column numbers above it, and a summary line at the top left.
///
/// `scale` < 1 draws on a shrunken copy of the page (the geometry is scaled to match), so a
/// 3000-px scan gives a viewable overlay without a full-size RGB image in between.
public func drawDebug(grid: TableGrid, on page: GrayImage, scale: Double = 1) -> RGBImage {
    let k = scale > 0 && scale.isFinite ? scale : 1
    let outWidth = max(1, Int((Double(page.width) * k).rounded()))
    let outHeight = max(1, Int((Double(page.height) * k).rounded()))
    let shown = (outWidth == page.width && outHeight == page.height) ? page : page.resized(width: outWidth, height: outHeight)
    var image = RGBImage(width: outWidth, height: outHeight)
    for i in 0..<(outWidth * outHeight) {
        // Lightened so the overlay stands out; ink stays clearly visible.
        let v = UInt8(max(0, min(255, (90 + 165 * Double(shown.pixels[i])).rounded())))
        image.pixels[3 * i] = v
        image.pixels[3 * i + 1] = v
        image.pixels[3 * i + 2] = v
    }
    func mapped(_ p: GridPoint) -> (x: Double, y: Double) {
        // Pixel centres: x_out + 0.5 = (x_in + 0.5) * k
        ((p.x + 0.5) * k - 0.5, (p.y + 0.5) * k - 0.5)
    }
    let cellColor = RGBColor(red: 20, green: 170, blue: 60)
    for cell in grid.cells {
        let corners = [cell.topLeft, cell.topRight, cell.bottomRight, cell.bottomLeft].map(mapped)
        for i in 0..<4 {
            image.drawLine(from: corners[i], to: corners[(i + 1) % 4], thickness: 1, color: cellColor)
        }
    }
    let ruleThickness = max(1.5, 3 * k * Double(max(page.width, page.height)) / 1000 / 2)
    let horizontalColors: [RGBColor] = [.red, .orange]
    let verticalColors: [RGBColor] = [.blue, .purple]
    for (index, rule) in (grid.horizontalRules + grid.verticalRules).enumerated() {
        let isHorizontal = rule.orientation == .horizontal
        let color = isHorizontal ? horizontalColors[index % 2]
                                 : verticalColors[(index - grid.horizontalRules.count) % 2]
        let step = max(2.0, 6 / k)
        var t = rule.start
        var previous = mapped(rule.point(at: t))
        while t < rule.end - 1 {
            t = min(t + step, rule.end - 1)
            let next = mapped(rule.point(at: t))
            image.drawLine(from: previous, to: next, thickness: ruleThickness, color: color)
            previous = next
        }
    }
    // Labels.
    let textScale = max(1, Int((Double(min(outWidth, outHeight)) / 700).rounded()))
    let glyph = BitmapFont.lineHeight * textScale
    let labelColor = RGBColor(red: 200, green: 0, blue: 120)
    if grid.horizontalRules.count >= 2, grid.verticalRules.count >= 2 {
        let firstVertical = grid.verticalRules[0], firstHorizontal = grid.horizontalRules[0]
        for row in 0..<(grid.horizontalRules.count - 1) {
            let y0 = grid.horizontalRules[row].position(at: firstVertical.middlePosition)
            let y1 = grid.horizontalRules[row + 1].position(at: firstVertical.middlePosition)
            let yMid = (y0 + y1) / 2
            let x = firstVertical.position(at: yMid)
            let label = "\(row)"
            let size = BitmapFont.textSize(label, scale: textScale)
            let at = mapped(GridPoint(x: x, y: yMid))
            let left = max(0, Int(at.x) - size.width - 3 * textScale)
            image.fillRect(x: left - 1, y: Int(at.y) - size.height / 2 - 1, width: size.width + 2, height: size.height + 2, color: .white)
            image.drawText(label, x: left, y: Int(at.y) - size.height / 2, scale: textScale, color: labelColor)
        }
        for column in 0..<(grid.verticalRules.count - 1) {
            let x0 = grid.verticalRules[column].position(at: firstHorizontal.middlePosition)
            let x1 = grid.verticalRules[column + 1].position(at: firstHorizontal.middlePosition)
            let xMid = (x0 + x1) / 2
            let y = firstHorizontal.position(at: xMid)
            let label = "\(column)"
            let size = BitmapFont.textSize(label, scale: textScale)
            let at = mapped(GridPoint(x: xMid, y: y))
            let top = max(0, Int(at.y) - size.height - 3 * textScale)
            image.fillRect(x: Int(at.x) - size.width / 2 - 1, y: top - 1, width: size.width + 2, height: size.height + 2, color: .white)
            image.drawText(label, x: Int(at.x) - size.width / 2, y: top, scale: textScale, color: labelColor)
        }
    }
    let summary = "rules H \(grid.horizontalRules.count) V \(grid.verticalRules.count)  grid \(grid.rowCount)x\(grid.columnCount)  cells \(grid.cells.count)"
    let size = BitmapFont.textSize(summary, scale: textScale)
    image.fillRect(x: 0, y: 0, width: size.width + 4 * textScale, height: glyph + 2 * textScale, color: .white)
    image.drawText(summary, x: 2 * textScale, y: textScale, scale: textScale, color: .black)
    return image
}
