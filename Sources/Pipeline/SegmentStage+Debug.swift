import Foundation
import Imaging

// `logbook stage segment --debug`: the straightened page with Imaging's grid overlay (rules,
// cells, row and column numbers), and on top what segment decided: header rows shaded, each
// column's kind written under the table, the digit boxes of the numeric cells in red and their
// decimal separators in blue.

func drawSegmentDebug(grid: TableGrid, layout: TableLayout, page: GrayImage, segmented: SegmentedPage) -> RGBImage {
    let scale = min(1, 1800 / Double(max(page.width, page.height, 1)))
    var image = drawDebug(grid: grid, on: page, scale: scale)
    func mapped(_ x: Double, _ y: Double) -> (x: Double, y: Double) { ((x + 0.5) * scale - 0.5, (y + 0.5) * scale - 0.5) }

    // Header rows: a yellow band along their cells' top and bottom.
    let headerColor = RGBColor(red: 230, green: 180, blue: 0)
    for cell in grid.cells where cell.row < layout.headerRows {
        let a = mapped(cell.topLeft.x, cell.topLeft.y), b = mapped(cell.bottomRight.x, cell.bottomRight.y)
        image.drawLine(from: (a.x, a.y), to: (b.x, b.y), thickness: 1, color: headerColor)
        let c = mapped(cell.topRight.x, cell.topRight.y), d = mapped(cell.bottomLeft.x, cell.bottomLeft.y)
        image.drawLine(from: (c.x, c.y), to: (d.x, d.y), thickness: 1, color: headerColor)
    }

    // Digits: cell-image coordinates to the page through the cell's corners (bilinear; the
    // cell image is the rectified cell minus the inset, close enough for a picture).
    let digitColor = RGBColor.red, separatorColor = RGBColor.blue
    for cell in segmented.cells where cell.corners.count == 8 && cell.size.count == 2 {
        let c = cell.corners
        let fullWidth = (((c[2] - c[0]) + (c[4] - c[6])) / 2).rounded()
        let inset = max(0, (fullWidth - Double(cell.size[0])) / 2)
        let fullHeight = Double(cell.size[1]) + 2 * inset
        func onPage(_ x: Double, _ y: Double) -> (x: Double, y: Double) {
            let u = (x + inset + 0.5) / fullWidth, v = (y + inset + 0.5) / fullHeight
            let topX = c[0] + u * (c[2] - c[0]), topY = c[1] + u * (c[3] - c[1])
            let bottomX = c[6] + u * (c[4] - c[6]), bottomY = c[7] + u * (c[5] - c[7])
            return mapped(topX + v * (bottomX - topX), topY + v * (bottomY - topY))
        }
        func outline(_ b: [Int], _ color: RGBColor) {
            guard b.count == 4 else { return }
            let corners = [onPage(Double(b[0]) - 0.5, Double(b[1]) - 0.5), onPage(Double(b[2]) + 0.5, Double(b[1]) - 0.5),
                           onPage(Double(b[2]) + 0.5, Double(b[3]) + 0.5), onPage(Double(b[0]) - 0.5, Double(b[3]) + 0.5)]
            for i in 0..<4 { image.drawLine(from: corners[i], to: corners[(i + 1) % 4], thickness: 1, color: color) }
        }
        for digit in cell.digits { outline(digit.box, digitColor) }
        if let separator = cell.separatorBox { outline(separator, separatorColor) }
        if let minus = cell.minusBox { outline(minus, separatorColor) }
    }

    // Column kinds under the table.
    let textScale = max(1, Int((Double(min(image.width, image.height)) / 900).rounded()))
    if let bottom = grid.horizontalRules.last, grid.verticalRules.count >= 2 {
        for column in 0..<(grid.verticalRules.count - 1) where column < layout.columnKinds.count {
            let x0 = grid.verticalRules[column].position(at: bottom.middlePosition)
            let x1 = grid.verticalRules[column + 1].position(at: bottom.middlePosition)
            let xMid = (x0 + x1) / 2
            let at = mapped(xMid, bottom.position(at: xMid))
            let label: String
            switch layout.columnKinds[column] {
            case .numeric: label = "NUM"
            case .printed: label = "PRN"
            case .text: label = "TXT"
            case .empty: label = "---"
            }
            let size = BitmapFont.textSize(label, scale: textScale)
            let x = Int(at.x) - size.width / 2, y = min(image.height - size.height - 1, Int(at.y) + 3 * textScale)
            image.fillRect(x: x - 1, y: y - 1, width: size.width + 2, height: size.height + 2, color: .white)
            _ = image.drawText(label, x: x, y: y, scale: textScale,
                               color: layout.columnKinds[column] == .numeric ? RGBColor(red: 0, green: 130, blue: 0) : .red)
        }
    }
    return image
}
