import Foundation
import Imaging
import NeuralNet
import Recognition

// Synthetic pages, part 2: the page before wear. Layout of the printed form, the printed text, the
// values of the month and the handwriting that writes them.

/// Everything `renderPage` knows about a page; `render` returns the image and cells.
struct RenderedSyntheticPage {
    var image: GrayImage
    var cells: [SyntheticCellTruth]
    var skewDegrees: Double
    var rowHeight: Double
    var layout: SyntheticLayout
}

/// The ruled table before skew: rule positions (top/left pixel of each rule) and thicknesses.
struct SyntheticLayout {
    /// rows + 2 horizontal rules, top to bottom (above the header, below the header, below each day).
    var ruleYs: [Int]
    /// columns + 2 vertical rules, left to right.
    var ruleXs: [Int]
    var ruleYThickness: [Int]
    var ruleXThickness: [Int]

    func centreY(_ i: Int) -> Double { Double(ruleYs[i]) + Double(ruleYThickness[i] - 1) / 2 }
    func centreX(_ i: Int) -> Double { Double(ruleXs[i]) + Double(ruleXThickness[i] - 1) / 2 }
}

/// A coverage layer: 0 = nothing, 1 = full ink.
struct InkLayer {
    let width: Int
    let height: Int
    var pixels: [Float]

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
        pixels = [Float](repeating: 0, count: width * height)
    }

    mutating func fillRect(x: Int, y: Int, width w: Int, height h: Int, value: Float = 1) {
        let x0 = max(0, x), y0 = max(0, y), x1 = min(width, x + w), y1 = min(height, y + h)
        guard x1 > x0, y1 > y0 else { return }
        for row in y0..<y1 {
            let base = row * width
            for i in (base + x0)..<(base + x1) where pixels[i] < value { pixels[i] = value }
        }
    }
}

/// One page's hand: which digit images stand for each digit, and how they are written.
struct SyntheticWriter {
    /// Per class, the dataset indices this writer's digits are drawn from.
    var samples: [[Int]]
    /// Digit height as a fraction of the row height.
    var heightFraction: Double
    /// Lean in degrees, positive = top to the right.
    var slant: Double
    var xStretch: Double
    /// Space between digits as a fraction of the digit height.
    var gap: Double
    /// Pen weight: -1 thin ... 1 heavy.
    var weight: Float
    /// Ink darkness 0...1 on white paper.
    var darkness: Float
    /// Where numbers sit across the cell: 0 left, 0.5 centred, 1 right.
    var alignment: Double
    /// Scales every jitter.
    var messiness: Double
    var dotSize: Double
}

extension SyntheticPages {
    /// Renders page `index`: the image (paper polarity, `options.width` x `options.height`) and the
    /// truth of its numeric cells. Pure: the result depends only on the arguments (use
    /// `generator(forPage:seed:)` for the generator `generate` uses). `digits` must hold every class.
    public static func render(page index: Int, options: SyntheticPageOptions, digits: DigitDataset,
                              rng: inout RandomGenerator) -> (image: GrayImage, cells: [SyntheticCellTruth]) {
        let page = renderPage(index: index, options: options, digits: digits, rng: &rng)
        return (page.image, page.cells)
    }

    static func renderPage(index: Int, options: SyntheticPageOptions, digits: DigitDataset,
                           rng: inout RandomGenerator) -> RenderedSyntheticPage {
        precondition(options.problem() == nil, "SyntheticPages.render: \(options.problem() ?? "")")
        var byClass = [[Int]](repeating: [], count: DigitDataset.classCount)
        for (i, label) in digits.labels.enumerated() { byClass[label].append(i) }
        precondition(byClass.allSatisfy { !$0.isEmpty }, "SyntheticPages.render: every digit class 0-9 is needed")

        // Wear gets its own generator so that the content of a page does not depend on the degradation.
        var wearRNG = RandomGenerator(seed: rng.next())
        let width = options.width, height = options.height
        let layout = makeLayout(options: options, rng: &rng)
        let rowHeight = Double(layout.ruleYs[2] - layout.ruleYs[1])

        var print = InkLayer(width: width, height: height)
        drawPrintedForm(layout: layout, options: options, into: &print)

        let writer = makeWriter(byClass: byClass, rng: &rng)
        let values = makeValues(options: options, rng: &rng)
        var hand = InkLayer(width: width, height: height)
        for row in 0..<options.rows {
            for column in 0..<options.columns.count {
                guard let text = values[row][column] else { continue }
                let r = row + 1, c = column + 1
                let box = (x0: layout.centreX(c), y0: layout.centreY(r), x1: layout.centreX(c + 1), y1: layout.centreY(r + 1))
                let inset = Double(max(layout.ruleXThickness[c], layout.ruleXThickness[c + 1],
                                       layout.ruleYThickness[r], layout.ruleYThickness[r + 1])) / 2 + 1.5
                drawNumber(text, in: box, inset: inset, rowHeight: rowHeight, writer: writer, digits: digits,
                           rng: &rng, into: &hand)
            }
        }

        let worn = composePage(print: print, hand: hand, writerDarkness: writer.darkness, rowHeight: rowHeight,
                               degradation: options.degradation, rng: &wearRNG)
        let angle = options.degradation.skewDegrees > 0
            ? Double(wearRNG.nextFloat(in: -1..<1)) * options.degradation.skewDegrees : 0
        let image = scanPage(worn.image, paperTone: worn.paperTone, angle: angle, rowHeight: rowHeight,
                             degradation: options.degradation, rng: &wearRNG)

        // Truth: the cell corners turned with the page.
        let id = options.pageID(index)
        let theta = angle * .pi / 180, cosine = cos(theta), sine = sin(theta)
        let cx = Double(width - 1) / 2, cy = Double(height - 1) / 2
        func turned(_ x: Double, _ y: Double) -> (Double, Double) {
            let px = x - cx, py = y - cy
            return (cosine * px + sine * py + cx, -sine * px + cosine * py + cy)
        }
        var cells: [SyntheticCellTruth] = []
        for row in 0..<options.rows {
            for column in 0..<options.columns.count {
                let r = row + 1, c = column + 1
                let corners = [turned(layout.centreX(c), layout.centreY(r)), turned(layout.centreX(c + 1), layout.centreY(r)),
                               turned(layout.centreX(c), layout.centreY(r + 1)), turned(layout.centreX(c + 1), layout.centreY(r + 1))]
                let x0 = max(0, Int(corners.map(\.0).min()!.rounded(.down)))
                let y0 = max(0, Int(corners.map(\.1).min()!.rounded(.down)))
                let x1 = min(width - 1, Int(corners.map(\.0).max()!.rounded(.up)))
                let y1 = min(height - 1, Int(corners.map(\.1).max()!.rounded(.up)))
                cells.append(SyntheticCellTruth(page: id, row: r, column: c, columnName: options.columns[column].name,
                                                value: values[row][column] ?? "", x: x0, y: y0,
                                                width: max(0, x1 - x0 + 1), height: max(0, y1 - y0 + 1)))
            }
        }
        return RenderedSyntheticPage(image: image, cells: cells, skewDegrees: angle, rowHeight: rowHeight, layout: layout)
    }

    // MARK: Layout and print

    static func makeLayout(options: SyntheticPageOptions, rng: inout RandomGenerator) -> SyntheticLayout {
        let width = Double(options.width), height = Double(options.height)
        // Print registration differs a little from sheet to sheet.
        let left = width * (0.075 + 0.012 * Double(rng.nextFloat(in: -1..<1)))
        let right = width * (0.95 + 0.01 * Double(rng.nextFloat(in: -1..<1)))
        let top = height * (0.105 + 0.008 * Double(rng.nextFloat(in: -1..<1)))
        let bottom = height * (0.955 + 0.006 * Double(rng.nextFloat(in: -1..<1)))
        let headerRows = 1.9
        let rowHeight = (bottom - top) / (Double(options.rows) + headerRows)
        var ys = [Int(top.rounded()), Int((top + headerRows * rowHeight).rounded())]
        for row in 1...options.rows { ys.append(Int((top + (headerRows + Double(row)) * rowHeight).rounded())) }
        let weights = [0.6] + options.columns.map(\.widthWeight)
        let total = weights.reduce(0, +)
        var xs = [Int(left.rounded())]
        var running = 0.0
        for weight in weights {
            running += weight
            xs.append(Int((left + (right - left) * running / total).rounded()))
        }
        let thin = max(1, Int((height / 1100).rounded()))
        var yThickness = [Int](repeating: thin, count: ys.count)
        var xThickness = [Int](repeating: thin, count: xs.count)
        yThickness[0] = thin + 1; yThickness[1] = thin + 1; yThickness[ys.count - 1] = thin + 1
        xThickness[0] = thin + 1; xThickness[1] = thin + 1; xThickness[xs.count - 1] = thin + 1
        // Rules are centred on their nominal position.
        ys = zip(ys, yThickness).map { $0 - $1 / 2 }
        xs = zip(xs, xThickness).map { $0 - $1 / 2 }
        return SyntheticLayout(ruleYs: ys, ruleXs: xs, ruleYThickness: yThickness, ruleXThickness: xThickness)
    }

    static func drawPrintedForm(layout: SyntheticLayout, options: SyntheticPageOptions, into print: inout InkLayer) {
        let top = layout.ruleYs.first!, bottom = layout.ruleYs.last! + layout.ruleYThickness.last!
        let left = layout.ruleXs.first!, right = layout.ruleXs.last! + layout.ruleXThickness.last!
        for (y, t) in zip(layout.ruleYs, layout.ruleYThickness) { print.fillRect(x: left, y: y, width: right - left, height: t) }
        for (x, t) in zip(layout.ruleXs, layout.ruleXThickness) { print.fillRect(x: x, y: top, width: t, height: bottom - top) }

        let rowHeight = Double(layout.ruleYs[2] - layout.ruleYs[1])
        let headerHeight = Double(layout.ruleYs[1] - layout.ruleYs[0])
        // Title block above the table (dotted leaders, no long lines that could pass for rules).
        let tableWidth = right - left
        var titleScale = max(1, Int((Double(options.height) * 0.0024).rounded()))
        let title = "DAILY METEOROLOGICAL RECORD"
        while titleScale > 1 && BitmapFont.textSize(title, scale: titleScale).width > tableWidth * 7 / 10 { titleScale -= 1 }
        let titleSize = BitmapFont.textSize(title, scale: titleScale)
        let titleY = max(1, top - Int(Double(options.height) * 0.075))
        stampText(title, x: left + (tableWidth - titleSize.width) / 2, y: titleY, scale: titleScale, into: &print)
        let subScale = max(1, titleScale * 3 / 5)
        let subtitle = "Station .............   Month .........   Year 19..."
        let subWidth = BitmapFont.textSize(subtitle, scale: subScale).width
        if subWidth <= tableWidth {
            let y = titleY + titleSize.height + Int(Double(options.height) * 0.012)
            if y + BitmapFont.textSize(subtitle, scale: subScale).height < top - 2 {
                stampText(subtitle, x: left + (tableWidth - subWidth) / 2, y: y, scale: subScale, into: &print)
            }
        }

        // Header: column names, units below in parentheses.
        let names = ["Day"] + options.columns.map(\.name)
        let units = [""] + options.columns.map { $0.unit.isEmpty ? "" : "(" + $0.unit + ")" }
        let baseScale = max(1, Int((headerHeight * 0.24 / 7).rounded()))
        for column in 0..<names.count {
            let x0 = layout.ruleXs[column] + layout.ruleXThickness[column], x1 = layout.ruleXs[column + 1]
            let cellWidth = x1 - x0
            var scale = baseScale
            while scale > 1 && BitmapFont.textSize(names[column], scale: scale).width > cellWidth * 9 / 10 { scale -= 1 }
            var unitScale = max(1, scale * 2 / 3)
            while unitScale > 1 && BitmapFont.textSize(units[column], scale: unitScale).width > cellWidth * 9 / 10 { unitScale -= 1 }
            let nameSize = BitmapFont.textSize(names[column], scale: scale)
            let unitHeight = units[column].isEmpty ? 0 : 7 * unitScale + 3 * scale
            let blockHeight = 7 * scale + unitHeight
            let y0 = layout.ruleYs[0] + layout.ruleYThickness[0]
            let innerHeight = layout.ruleYs[1] - y0
            var y = y0 + (innerHeight - blockHeight) / 2
            stampText(names[column], x: x0 + (cellWidth - nameSize.width) / 2, y: y, scale: scale, into: &print)
            if !units[column].isEmpty {
                y += 7 * scale + 3 * scale
                let unitWidth = BitmapFont.textSize(units[column], scale: unitScale).width
                stampText(units[column], x: x0 + (cellWidth - unitWidth) / 2, y: y, scale: unitScale, into: &print)
            }
        }
        // Printed day numbers, right-aligned in the label column.
        let dayScale = max(1, Int((rowHeight * 0.36 / 7).rounded()))
        for day in 1...options.rows {
            let text = String(day)
            let size = BitmapFont.textSize(text, scale: dayScale)
            let x1 = layout.ruleXs[1] - Int(rowHeight * 0.3)
            let y0 = layout.ruleYs[day] + layout.ruleYThickness[day], y1 = layout.ruleYs[day + 1]
            stampText(text, x: x1 - size.width, y: y0 + (y1 - y0 - 7 * dayScale) / 2, scale: dayScale, into: &print)
        }
    }

    /// Draws bitmap-font text into a coverage layer.
    static func stampText(_ text: String, x: Int, y: Int, scale: Int, into layer: inout InkLayer) {
        let size = BitmapFont.textSize(text, scale: scale)
        guard size.width > 0, size.height > 0 else { return }
        var canvas = RGBImage(width: size.width, height: size.height)
        canvas.drawText(text, x: 0, y: 0, scale: scale, color: .black)
        for row in 0..<size.height {
            let ly = y + row
            guard ly >= 0 && ly < layer.height else { continue }
            for column in 0..<size.width where canvas.pixels[3 * (row * size.width + column)] < 128 {
                let lx = x + column
                if lx >= 0 && lx < layer.width { layer.pixels[ly * layer.width + lx] = 1 }
            }
        }
    }

    // MARK: Values

    /// values[row][column]: the text written, nil for a blank cell.
    static func makeValues(options: SyntheticPageOptions, rng: inout RandomGenerator) -> [[String?]] {
        let rows = options.rows, columns = options.columns
        var numbers = [[Double]](repeating: [Double](repeating: 0, count: columns.count), count: rows)
        for (c, spec) in columns.enumerated() {
            let range = spec.maximum - spec.minimum
            switch spec.model {
            case .walk(let step):
                var value = spec.minimum + range * Double(rng.nextFloat(in: 0.25..<0.75))
                for r in 0..<rows {
                    value += Double(rng.nextNormal()) * step * range
                    // Reflect at the ends so the walk stays inside without sticking to them.
                    if value > spec.maximum { value = 2 * spec.maximum - value }
                    if value < spec.minimum { value = 2 * spec.minimum - value }
                    value = min(max(value, spec.minimum), spec.maximum)
                    numbers[r][c] = value
                }
            case .showers(let dry, let mean):
                for r in 0..<rows {
                    if Double(rng.nextFloat()) < dry {
                        numbers[r][c] = 0
                    } else {
                        let u = Double(rng.nextFloat())
                        numbers[r][c] = -log(max(1 - u, 1e-9)) * mean + 0.1
                    }
                }
            case .below(let other, let spread):
                for r in 0..<rows {
                    let gap = spread.lowerBound + (spread.upperBound - spread.lowerBound) * Double(rng.nextFloat())
                    numbers[r][c] = rounded(numbers[r][other], decimals: columns[other].decimals) - gap
                }
            case .average(let a, let b):
                for r in 0..<rows {
                    numbers[r][c] = (rounded(numbers[r][a], decimals: columns[a].decimals)
                                     + rounded(numbers[r][b], decimals: columns[b].decimals)) / 2
                }
            }
            for r in 0..<rows { numbers[r][c] = min(max(numbers[r][c], spec.minimum), spec.maximum) }
        }
        var texts = [[String?]](repeating: [String?](repeating: nil, count: columns.count), count: rows)
        for r in 0..<rows {
            let missingDay = Double(rng.nextFloat()) < options.emptyRowProbability
            for (c, spec) in columns.enumerated() {
                let blank = Double(rng.nextFloat()) < spec.emptyProbability
                guard !missingDay && !blank else { continue }
                texts[r][c] = format(numbers[r][c], decimals: spec.decimals, minimum: spec.minimum, maximum: spec.maximum)
            }
        }
        return texts
    }

    static func rounded(_ value: Double, decimals: Int) -> Double {
        let scale = pow(10, Double(decimals))
        return (value * scale).rounded() / scale
    }

    /// The value as written with `decimals` digits after the point, kept inside the range after
    /// rounding, never "-0.0".
    static func format(_ value: Double, decimals: Int, minimum: Double, maximum: Double) -> String {
        let scale = pow(10, Double(decimals))
        var units = (value * scale).rounded()
        units = min(max(units, (minimum * scale).rounded(.up)), (maximum * scale).rounded(.down))
        let negative = units < 0
        let magnitude = Int(abs(units))
        var text = String(magnitude)
        if decimals > 0 {
            let divisor = Int(scale)
            let fraction = String(magnitude % divisor)
            text = String(magnitude / divisor) + "." + String(repeating: "0", count: decimals - fraction.count) + fraction
        }
        return negative && magnitude != 0 ? "-" + text : text
    }

    // MARK: Handwriting

    static func makeWriter(byClass: [[Int]], rng: inout RandomGenerator) -> SyntheticWriter {
        var samples: [[Int]] = []
        for indices in byClass {
            let count = min(indices.count, 3 + rng.nextInt(3))
            var chosen: [Int] = []
            for _ in 0..<count { chosen.append(indices[rng.nextInt(indices.count)]) }
            samples.append(chosen)
        }
        let alignments = [0.5, 0.5, 0.85, 0.25]
        return SyntheticWriter(
            samples: samples,
            heightFraction: Double(rng.nextFloat(in: 0.44..<0.58)),
            slant: Double(max(-14, min(14, rng.nextNormal() * 6 + 3))),
            xStretch: Double(rng.nextFloat(in: 0.85..<1.15)),
            gap: Double(rng.nextFloat(in: 0.06..<0.22)),
            weight: rng.nextFloat(in: -0.6..<0.9),
            darkness: rng.nextFloat(in: 0.72..<0.96),
            alignment: alignments[rng.nextInt(alignments.count)],
            messiness: Double(rng.nextFloat(in: 0.5..<1.4)),
            dotSize: Double(rng.nextFloat(in: 0.8..<1.4)))
    }

    /// One character of a written number.
    private enum Mark {
        case digit(index: Int, x0: Int, y0: Int, x1: Int, y1: Int) // dataset index and ink bounding box
        case dot
        case minus
    }

    /// Writes `text` (digits, ".", "-") into the cell `box` (rule centres), inside `inset`.
    static func drawNumber(_ text: String, in box: (x0: Double, y0: Double, x1: Double, y1: Double), inset: Double,
                           rowHeight: Double, writer: SyntheticWriter, digits: DigitDataset,
                           rng: inout RandomGenerator, into layer: inout InkLayer) {
        let mess = writer.messiness
        var h = writer.heightFraction * rowHeight * (1 + 0.05 * Double(rng.nextNormal()) * mess)
        var marks: [Mark] = []
        var widths: [Double] = []
        let side = DigitDataset.side
        for character in text {
            if let digit = character.wholeNumberValue {
                let choices = writer.samples[digit]
                let index = choices[rng.nextInt(choices.count)]
                let box = inkBox(digits.images, offset: index * DigitDataset.pixelsPerImage, side: side)
                marks.append(.digit(index: index, x0: box.0, y0: box.1, x1: box.2, y1: box.3))
                let aspect = Double(box.2 - box.0 + 1) / Double(box.3 - box.1 + 1)
                widths.append(max(aspect, 0.18) * writer.xStretch)
            } else if character == "." {
                marks.append(.dot)
                widths.append(0.16 * writer.dotSize)
            } else if character == "-" {
                marks.append(.minus)
                widths.append(0.42)
            }
        }
        guard !marks.isEmpty else { return }
        // Gaps (in digit heights) after each mark.
        var gaps: [Double] = []
        for i in 0..<marks.count {
            var gap = writer.gap * (1 + 0.35 * Double(rng.nextNormal()) * mess)
            if case .dot = marks[i] { gap = 0.05 + 0.04 * Double(rng.nextFloat()) }
            if i + 1 < marks.count, case .dot = marks[i + 1] { gap = 0.04 + 0.05 * Double(rng.nextFloat()) }
            gaps.append(i + 1 < marks.count ? max(gap, 0.02) : 0)
        }
        let cellWidth = box.x1 - box.x0, cellHeight = box.y1 - box.y0
        let margin = max(inset + 1, 0.05 * cellWidth)
        let available = cellWidth - 2 * margin
        let slantSpill = abs(tan(writer.slant * .pi / 180)) * 0.5 + 0.08
        var total = (widths.reduce(0, +) + gaps.reduce(0, +) + slantSpill) * h
        if total > available { h *= available / total; total = available }
        let maxHeight = cellHeight - 2 * (inset + 1) - 0.1 * cellHeight
        if h > maxHeight { total *= maxHeight / h; h = maxHeight }
        guard h >= 3 else { return }

        let along = min(max(writer.alignment + 0.06 * Double(rng.nextNormal()) * mess, 0), 1)
        var cursor = box.x0 + margin + (available - total) * along + slantSpill * h / 2
        let centredBaseline = box.y0 + (cellHeight + h) / 2
        let lowest = box.y1 - inset - 1 - 0.04 * h, highest = box.y0 + inset + 1 + h * 1.06
        let baseline = min(max(centredBaseline + 0.06 * rowHeight * Double(rng.nextNormal()) * mess, highest), lowest)
        let clip = (x0: box.x0 + inset, y0: box.y0 + inset, x1: box.x1 - inset, y1: box.y1 - inset)
        let strokeWidth = 0.12 * h * Double(1 + 0.35 * writer.weight)

        for (i, mark) in marks.enumerated() {
            let width = widths[i] * h
            switch mark {
            case let .digit(index, x0, y0, x1, y1):
                let size = 1 + 0.05 * Double(rng.nextNormal()) * mess
                let digitHeight = h * size
                let scaleY = digitHeight / Double(y1 - y0 + 1)
                let scaleX = scaleY * writer.xStretch
                let drop = 0.035 * h * Double(rng.nextNormal()) * mess
                let slant = writer.slant + 2.5 * Double(rng.nextNormal()) * mess
                let rotation = 2.5 * Double(rng.nextNormal()) * mess
                let darkness = 1 - 0.12 * rng.nextFloat()
                drawGlyph(digits.images, offset: index * DigitDataset.pixelsPerImage, side: side,
                          box: (x0, y0, x1, y1), anchor: (cursor + width / 2, baseline + drop),
                          scale: (scaleX, scaleY), slant: slant, rotation: rotation, weight: writer.weight,
                          darkness: darkness, clip: clip, into: &layer)
            case .dot:
                let radius = max(0.9, strokeWidth * 0.55 * writer.dotSize * (1 + 0.15 * Double(rng.nextNormal())))
                let cx = cursor + width / 2 + 0.02 * h * Double(rng.nextNormal())
                let cy = baseline - radius * 0.9 + 0.03 * h * Double(rng.nextNormal()) * mess
                drawStroke(from: (cx - radius * 0.3, cy), to: (cx + radius * 0.3, cy + radius * 0.15),
                           radius: radius * 0.85, darkness: 1 - 0.1 * rng.nextFloat(), clip: clip, into: &layer)
            case .minus:
                let y = baseline - 0.5 * h + 0.04 * h * Double(rng.nextNormal())
                let tilt = 0.05 * h * Double(rng.nextNormal())
                drawStroke(from: (cursor + 0.05 * width, y + tilt), to: (cursor + 0.95 * width, y - tilt),
                           radius: strokeWidth / 2, darkness: 1 - 0.1 * rng.nextFloat(), clip: clip, into: &layer)
            }
            cursor += width + gaps[i] * h
        }
    }

    /// Bounding box (x0, y0, x1, y1, inclusive) of the ink above 0.1 in a digit image.
    static func inkBox(_ images: [Float], offset: Int, side: Int) -> (Int, Int, Int, Int) {
        var x0 = side, y0 = side, x1 = -1, y1 = -1
        for y in 0..<side {
            for x in 0..<side where images[offset + y * side + x] > 0.1 {
                x0 = min(x0, x); x1 = max(x1, x); y0 = min(y0, y); y1 = max(y1, y)
            }
        }
        return x1 < 0 ? (0, 0, side - 1, side - 1) : (x0, y0, x1, y1)
    }

    /// Draws one digit image: its ink box scaled by `scale`, leaned by `slant` and turned by
    /// `rotation` degrees, the bottom centre of the box at `anchor`. Pen weight thickens or thins
    /// strokes; small scales are supersampled so thin strokes do not break up.
    static func drawGlyph(_ images: [Float], offset: Int, side: Int, box: (Int, Int, Int, Int),
                          anchor: (Double, Double), scale: (Double, Double), slant: Double, rotation: Double,
                          weight: Float, darkness: Float, clip: (x0: Double, y0: Double, x1: Double, y1: Double),
                          into layer: inout InkLayer) {
        let k = tan(slant * .pi / 180)
        let r = rotation * .pi / 180, c = cos(r), s = sin(r)
        // A = R · Shear · S: glyph offsets (u, v) from the anchor to page offsets.
        let a00 = c * scale.0, a01 = -c * k * scale.1 - s * scale.1
        let a10 = s * scale.0, a11 = -s * k * scale.1 + c * scale.1
        let det = a00 * a11 - a01 * a10
        guard abs(det) > 1e-9 else { return }
        let i00 = a11 / det, i01 = -a01 / det, i10 = -a10 / det, i11 = a00 / det
        let cu = Double(box.0 + box.2) / 2, cv = Double(box.3) + 0.5
        let corners = [(Double(box.0) - 1, Double(box.1) - 1), (Double(box.2) + 1, Double(box.1) - 1),
                       (Double(box.0) - 1, Double(box.3) + 1), (Double(box.2) + 1, Double(box.3) + 1)]
        var minX = Double.infinity, maxX = -Double.infinity, minY = Double.infinity, maxY = -Double.infinity
        for (u, v) in corners {
            let du = u - cu, dv = v - cv
            let x = anchor.0 + a00 * du + a01 * dv, y = anchor.1 + a10 * du + a11 * dv
            minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
        }
        let px0 = max(Int(max(minX, clip.x0).rounded(.up)), 0)
        let px1 = min(Int(min(maxX, clip.x1).rounded(.down)), layer.width - 1)
        let py0 = max(Int(max(minY, clip.y0).rounded(.up)), 0)
        let py1 = min(Int(min(maxY, clip.y1).rounded(.down)), layer.height - 1)
        guard px1 >= px0, py1 >= py0 else { return }
        let minScale = min(scale.0, scale.1)
        let n = minScale >= 0.75 ? 1 : (minScale >= 0.4 ? 2 : 3)
        let thicken = 1 + 1.6 * max(weight, 0)
        let thin = 0.45 * max(-weight, 0)
        @inline(__always) func ink(_ u: Double, _ v: Double) -> Float {
            guard u > -1, v > -1, u < Double(side), v < Double(side) else { return 0 }
            let x0 = Int(u.rounded(.down)), y0 = Int(v.rounded(.down))
            let fx = Float(u - Double(x0)), fy = Float(v - Double(y0))
            @inline(__always) func at(_ x: Int, _ y: Int) -> Float {
                (x >= 0 && x < side && y >= 0 && y < side) ? images[offset + y * side + x] : 0
            }
            let top = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx
            let bottom = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx
            var value = top * (1 - fy) + bottom * fy
            if thin > 0 { value = max(0, (value - thin) / (1 - thin)) }
            return min(1, value * thicken)
        }
        let step = 1 / Double(n), start = -0.5 + step / 2
        let inverseCount = 1 / Float(n * n)
        for py in py0...py1 {
            for px in px0...px1 {
                var sum: Float = 0
                for sy in 0..<n {
                    let dy = Double(py) + start + Double(sy) * step - anchor.1
                    for sx in 0..<n {
                        let dx = Double(px) + start + Double(sx) * step - anchor.0
                        sum += ink(i00 * dx + i01 * dy + cu, i10 * dx + i11 * dy + cv)
                    }
                }
                let value = sum * inverseCount * darkness
                let i = py * layer.width + px
                if value > layer.pixels[i] { layer.pixels[i] = value }
            }
        }
    }

    /// A round-ended pen stroke (a capsule) with soft edges: decimal points and minus signs.
    static func drawStroke(from a: (Double, Double), to b: (Double, Double), radius: Double, darkness: Float,
                           clip: (x0: Double, y0: Double, x1: Double, y1: Double), into layer: inout InkLayer) {
        let x0 = max(Int((min(a.0, b.0) - radius - 1).rounded(.down)), Int(clip.x0.rounded(.up)), 0)
        let x1 = min(Int((max(a.0, b.0) + radius + 1).rounded(.up)), Int(clip.x1.rounded(.down)), layer.width - 1)
        let y0 = max(Int((min(a.1, b.1) - radius - 1).rounded(.down)), Int(clip.y0.rounded(.up)), 0)
        let y1 = min(Int((max(a.1, b.1) + radius + 1).rounded(.up)), Int(clip.y1.rounded(.down)), layer.height - 1)
        guard x1 >= x0, y1 >= y0 else { return }
        let dx = b.0 - a.0, dy = b.1 - a.1
        let length2 = max(dx * dx + dy * dy, 1e-9)
        for y in y0...y1 {
            for x in x0...x1 {
                let t = min(max(((Double(x) - a.0) * dx + (Double(y) - a.1) * dy) / length2, 0), 1)
                let ex = Double(x) - (a.0 + t * dx), ey = Double(y) - (a.1 + t * dy)
                let coverage = Float(min(max(radius + 0.5 - (ex * ex + ey * ey).squareRoot(), 0), 1)) * darkness
                let i = y * layer.width + x
                if coverage > layer.pixels[i] { layer.pixels[i] = coverage }
            }
        }
    }
}
