/// The cell colour for a share of a row in 0...1: white (never predicted) to dark blue (always).
/// A single-hue ramp keeps the order of shares obvious even when printed in gray.
public func heatMapColor(fraction: Double) -> RGBColor {
    RGBColor.white.mixed(with: RGBColor(red: 8, green: 48, blue: 107), fraction: fraction)
}

/// Where `renderHeatMap` puts things, computed separately so callers and tests can find a cell
/// without re-deriving the drawing code's arithmetic.
public struct HeatMapLayout: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    /// Side of one cell including its 1-pixel grid line.
    public let cellSize: Int
    public let gridX: Int
    public let gridY: Int
    public let imageWidth: Int
    public let imageHeight: Int

    var margin: Int { Self.margin }
    var titleScale: Int { Self.titleScale }
    var labelScale: Int { Self.labelScale }
    static let margin = 16
    static let titleScale = 2
    static let labelScale = 2
    let countScale: Int
    let rowLabelWidth: Int
    let columnLabelHeight: Int
    let columnLabelsVertical: Bool
    let colorBarX: Int

    public init(matrix: [[Int]], rowLabels: [String], columnLabels: [String], title: String,
                xLabel: String, yLabel: String) {
        let margin = Self.margin, titleScale = Self.titleScale, labelScale = Self.labelScale
        rows = matrix.count
        columns = matrix.map(\.count).max() ?? 0
        let resolvedRowLabels = resolvedLabels(rowLabels, count: rows)
        let resolvedColumnLabels = resolvedLabels(columnLabels, count: columns)
        let largest = matrix.joined().max() ?? 0
        countScale = columns > 25 ? 1 : 2
        let countWidth = BitmapFont.textSize(String(largest), scale: countScale).width
        cellSize = max(countScale == 1 ? 22 : 40, countWidth + 12)

        let labelHeight = BitmapFont.textSize("0", scale: labelScale).height
        rowLabelWidth = resolvedRowLabels.map { BitmapFont.textSize($0, scale: labelScale).width }.max() ?? 0
        let widestColumnLabel = resolvedColumnLabels.map { BitmapFont.textSize($0, scale: labelScale).width }.max() ?? 0
        // Long class names would overlap side by side, so they are turned to read upwards.
        columnLabelsVertical = widestColumnLabel > cellSize - 4
        columnLabelHeight = columnLabelsVertical ? widestColumnLabel : labelHeight

        let yLabelWidth = yLabel.isEmpty ? 0 : labelHeight + 10
        gridX = margin + yLabelWidth + rowLabelWidth + 8
        gridY = margin + BitmapFont.textSize(title, scale: titleScale).height + 14
        let gridWidth = columns * cellSize + 1, gridHeight = rows * cellSize + 1
        colorBarX = gridX + gridWidth + 16
        let colorBarLabelWidth = BitmapFont.textSize("100%", scale: labelScale).width
        let contentWidth = colorBarX + 16 + 6 + colorBarLabelWidth + margin
        let titleWidth = BitmapFont.textSize(title, scale: titleScale).width + 2 * margin
        let xLabelWidth = gridX + BitmapFont.textSize(xLabel, scale: labelScale).width + margin
        imageWidth = max(contentWidth, titleWidth, xLabelWidth)
        let xLabelHeight = xLabel.isEmpty ? 0 : labelHeight + 10
        imageHeight = max(gridY + gridHeight + 8 + columnLabelHeight + xLabelHeight + margin,
                          gridY + BitmapFont.textSize(yLabel, scale: labelScale).width + margin)
    }

    /// The coloured interior of a cell (inside the grid lines), in image coordinates.
    public func cellRect(row: Int, column: Int) -> (x: Int, y: Int, width: Int, height: Int) {
        (gridX + column * cellSize + 1, gridY + row * cellSize + 1, cellSize - 1, cellSize - 1)
    }
}

private func resolvedLabels(_ labels: [String], count: Int) -> [String] {
    (0..<count).map { $0 < labels.count ? labels[$0] : String($0) }
}

/// Draws a confusion matrix: rows are true classes, columns predicted ones. Each cell is shaded
/// by its share of the row, not by its raw count, so that rare classes' mistakes are as visible
/// as common ones'; the count itself is written in the cell. Missing labels default to the index.
public func renderHeatMap(matrix: [[Int]], rowLabels: [String], columnLabels: [String], title: String,
                          xLabel: String, yLabel: String) -> RGBImage {
    let layout = HeatMapLayout(matrix: matrix, rowLabels: rowLabels, columnLabels: columnLabels, title: title,
                               xLabel: xLabel, yLabel: yLabel)
    var image = RGBImage(width: layout.imageWidth, height: layout.imageHeight, color: .white)
    let gridWidth = layout.columns * layout.cellSize + 1, gridHeight = layout.rows * layout.cellSize + 1

    let titleWidth = BitmapFont.textSize(title, scale: layout.titleScale).width
    let titleX = max(layout.margin, min(layout.gridX + (gridWidth - titleWidth) / 2, layout.imageWidth - layout.margin - titleWidth))
    image.drawText(title, x: titleX, y: layout.margin, scale: layout.titleScale)

    image.fillRect(x: layout.gridX, y: layout.gridY, width: gridWidth, height: gridHeight, color: .lightGray)
    for row in 0..<layout.rows {
        let counts = matrix[row]
        let rowTotal = counts.reduce(0.0) { $0 + Double(max($1, 0)) }  // Double: no overflow trap
        for column in 0..<layout.columns {
            let count = column < counts.count ? counts[column] : 0
            let fraction = rowTotal > 0 ? Double(max(count, 0)) / rowTotal : 0
            let cell = layout.cellRect(row: row, column: column)
            image.fillRect(x: cell.x, y: cell.y, width: cell.width, height: cell.height, color: heatMapColor(fraction: fraction))
            let text = String(count)
            let size = BitmapFont.textSize(text, scale: layout.countScale)
            // Digits stay readable on both ends of the ramp by switching to white on dark cells.
            image.drawText(text, x: cell.x + (cell.width - size.width) / 2, y: cell.y + (cell.height - size.height) / 2 + layout.countScale,
                           scale: layout.countScale, color: fraction > 0.5 ? .white : .black)
        }
    }

    for (row, label) in resolvedLabels(rowLabels, count: layout.rows).enumerated() {
        let size = BitmapFont.textSize(label, scale: layout.labelScale)
        image.drawText(label, x: layout.gridX - 8 - size.width,
                       y: layout.gridY + row * layout.cellSize + (layout.cellSize - size.height) / 2 + layout.labelScale,
                       scale: layout.labelScale)
    }
    let columnLabelTop = layout.gridY + gridHeight + 8
    for (column, label) in resolvedLabels(columnLabels, count: layout.columns).enumerated() {
        let size = BitmapFont.textSize(label, scale: layout.labelScale)
        let cellLeft = layout.gridX + column * layout.cellSize
        if layout.columnLabelsVertical {
            // Reading upwards with the end against the grid, as in most plotting libraries.
            image.drawVerticalText(label, x: cellLeft + (layout.cellSize - size.height) / 2 + layout.labelScale,
                                   y: columnLabelTop, scale: layout.labelScale)
        } else {
            image.drawText(label, x: cellLeft + (layout.cellSize - size.width) / 2, y: columnLabelTop, scale: layout.labelScale)
        }
    }

    let xLabelSize = BitmapFont.textSize(xLabel, scale: layout.labelScale)
    image.drawText(xLabel, x: max(layout.margin, layout.gridX + (gridWidth - xLabelSize.width) / 2),
                   y: columnLabelTop + layout.columnLabelHeight + 10, scale: layout.labelScale)
    let yLabelSize = BitmapFont.textSize(yLabel, scale: layout.labelScale)
    image.drawVerticalText(yLabel, x: layout.margin, y: max(layout.gridY, layout.gridY + (gridHeight - yLabelSize.width) / 2),
                           scale: layout.labelScale)

    // Colour bar: the key from shade to share of the row.
    let barTop = layout.gridY, barHeight = max(gridHeight, 2)
    for y in 0..<barHeight {
        let fraction = 1 - Double(y) / Double(barHeight - 1)
        image.fillRect(x: layout.colorBarX, y: barTop + y, width: 16, height: 1, color: heatMapColor(fraction: fraction))
    }
    image.drawRectangle(x: layout.colorBarX, y: barTop, width: 16, height: barHeight, color: .gray)
    image.drawText("100%", x: layout.colorBarX + 22, y: barTop, scale: layout.labelScale)
    image.drawText("0%", x: layout.colorBarX + 22, y: barTop + barHeight - 7 * layout.labelScale, scale: layout.labelScale)
    return image
}
