import Foundation

/// One line of a plot, e.g. the validation loss per epoch.
public struct PlotSeries: Sendable {
    public var name: String
    /// (x, y) pairs in drawing order; non-finite values are skipped (a diverged epoch's NaN loss
    /// must not wreck the whole chart).
    public var points: [(Double, Double)]
    public var color: RGBColor

    public init(name: String, points: [(Double, Double)], color: RGBColor) {
        self.name = name
        self.points = points
        self.color = color
    }

    /// A series over x = 1, 2, 3… (epochs, iterations).
    public init(name: String, values: [Double], color: RGBColor) {
        self.init(name: name, points: values.enumerated().map { (Double($0.offset + 1), $0.element) }, color: color)
    }
}

/// Evenly spaced "round" tick positions (steps of 1, 2 or 5 times a power of ten) covering
/// `low...high`, and the axis range snapped outwards to them.
struct AxisTicks: Equatable {
    var low: Double
    var high: Double
    var step: Double
    var values: [Double]

    init(covering dataLow: Double, _ dataHigh: Double, targetCount: Int = 6) {
        var lowValue = dataLow, highValue = dataHigh
        if !(lowValue.isFinite && highValue.isFinite) || lowValue > highValue { lowValue = 0; highValue = 1 }
        if highValue - lowValue <= max(abs(highValue), abs(lowValue)) * 1e-12 {
            // A flat series still needs a visible range around it.
            let pad = lowValue == 0 ? 1 : abs(lowValue) * 0.1
            lowValue -= pad
            highValue += pad
        }
        var rough = (highValue - lowValue) / Double(max(targetCount, 2))
        if !rough.isFinite || rough <= 0 {
            // Data spanning most of Double's range (overflowing the difference): show 0...1 rather
            // than trap; such a chart is meaningless anyway.
            (lowValue, highValue, rough) = (0, 1, 1 / Double(max(targetCount, 2)))
        }
        let magnitude = pow(10, log10(rough).rounded(.down))
        let multiplier = [1.0, 2.0, 5.0, 10.0].first { $0 * magnitude >= rough * (1 - 1e-9) } ?? 10
        let step = multiplier * magnitude
        let low = (lowValue / step).rounded(.down) * step
        let high = (highValue / step).rounded(.up) * step
        let count = max(1, Int(((high - low) / step).rounded()))
        self.step = step
        self.low = low
        self.high = high
        values = (0...count).map { low + Double($0) * step }
    }

    /// Labels with just enough decimals for the step ("0.25", "10", "1e-05"), so ticks differ.
    func label(_ value: Double) -> String {
        let magnitude = max(abs(low), abs(high))
        if magnitude >= 1e6 || step < 1e-4 { return String(format: "%.3g", value) }
        var decimals = 0
        while decimals < 6 {
            let scaled = step * pow(10, Double(decimals))
            if abs(scaled - scaled.rounded()) < 1e-6 { break }
            decimals += 1
        }
        let text = String(format: "%.\(decimals)f", value)
        // Rounding can produce "-0.0" for a tick at zero.
        return text.hasPrefix("-") && Double(text) == 0 ? String(text.dropFirst()) : text
    }
}

/// Draws series as lines over numbered axes with a legend, e.g. training and validation loss per
/// epoch. Axes are snapped to round numbers that enclose all finite points; series with few
/// points also get markers so individual epochs can be counted.
public func renderLinePlot(series: [PlotSeries], title: String, xLabel: String, yLabel: String,
                           width: Int = 800, height: Int = 500) -> RGBImage {
    let width = max(width, 200), height = max(height, 150)
    var image = RGBImage(width: width, height: height, color: .white)
    // Scale-1 glyphs are 7 pixels tall: fine for small thumbnails, too small on a full-size chart.
    let textScale = width >= 600 && height >= 400 ? 2 : 1
    let margin = 12
    let textHeight = BitmapFont.glyphHeight * textScale
    let gridColor = RGBColor(red: 235, green: 235, blue: 235)

    let finite = series.flatMap { $0.points.filter { $0.0.isFinite && $0.1.isFinite } }
    let xTicks = AxisTicks(covering: finite.map(\.0).min() ?? 0, finite.map(\.0).max() ?? 1)
    let yTicks = AxisTicks(covering: finite.map(\.1).min() ?? 0, finite.map(\.1).max() ?? 1)

    let yTickLabelWidth = yTicks.values.map { BitmapFont.textSize(yTicks.label($0), scale: textScale).width }.max() ?? 0
    let plotLeft = margin + (yLabel.isEmpty ? 0 : textHeight + 10) + yTickLabelWidth + 10
    let plotTop = margin + (title.isEmpty ? 0 : BitmapFont.glyphHeight * 2 + 12)
    let plotRight = width - margin - BitmapFont.textSize(xTicks.label(xTicks.high), scale: textScale).width / 2
    let plotBottom = height - margin - (xLabel.isEmpty ? 0 : textHeight + 8) - textHeight - 10
    guard plotRight - plotLeft > 20, plotBottom - plotTop > 20 else {
        image.drawText(title, x: margin, y: margin, scale: 1)
        return image
    }
    // Pinned to a generous band around the image so that later Int conversions cannot trap.
    func pixelX(_ x: Double) -> Double {
        let position = Double(plotLeft) + (x - xTicks.low) / (xTicks.high - xTicks.low) * Double(plotRight - plotLeft)
        return min(max(position, -1e6), 1e6)
    }
    func pixelY(_ y: Double) -> Double {
        let position = Double(plotBottom) - (y - yTicks.low) / (yTicks.high - yTicks.low) * Double(plotBottom - plotTop)
        return min(max(position, -1e6), 1e6)
    }

    let titleSize = BitmapFont.textSize(title, scale: 2)
    image.drawText(title, x: max(margin, (plotLeft + plotRight - titleSize.width) / 2), y: margin, scale: 2)

    // Grid and ticks first, so the data lines are drawn on top of them.
    for value in xTicks.values {
        let x = Int(pixelX(value).rounded())
        image.fillRect(x: x, y: plotTop, width: 1, height: plotBottom - plotTop, color: gridColor)
        image.fillRect(x: x, y: plotBottom, width: 1, height: 6, color: .black)
        let label = xTicks.label(value)
        let size = BitmapFont.textSize(label, scale: textScale)
        image.drawText(label, x: x - size.width / 2, y: plotBottom + 10, scale: textScale)
    }
    for value in yTicks.values {
        let y = Int(pixelY(value).rounded())
        image.fillRect(x: plotLeft, y: y, width: plotRight - plotLeft, height: 1, color: gridColor)
        image.fillRect(x: plotLeft - 6, y: y, width: 6, height: 1, color: .black)
        let label = yTicks.label(value)
        let size = BitmapFont.textSize(label, scale: textScale)
        // Centre on the cap height (7 rows), not the descender-inclusive cell.
        image.drawText(label, x: plotLeft - 10 - size.width, y: y - 7 * textScale / 2, scale: textScale)
    }
    image.fillRect(x: plotLeft, y: plotTop, width: 1, height: plotBottom - plotTop + 1, color: .black)
    image.fillRect(x: plotLeft, y: plotBottom, width: plotRight - plotLeft + 1, height: 1, color: .black)

    let xLabelSize = BitmapFont.textSize(xLabel, scale: textScale)
    image.drawText(xLabel, x: (plotLeft + plotRight - xLabelSize.width) / 2, y: height - margin - xLabelSize.height,
                   scale: textScale)
    let yLabelSize = BitmapFont.textSize(yLabel, scale: textScale)
    image.drawVerticalText(yLabel, x: margin, y: max(plotTop, (plotTop + plotBottom - yLabelSize.width) / 2), scale: textScale)

    for entry in series {
        let points = entry.points.filter { $0.0.isFinite && $0.1.isFinite }.map { (x: pixelX($0.0), y: pixelY($0.1)) }
        for (start, end) in zip(points, points.dropFirst()) {
            image.drawLine(from: start, to: end, thickness: 2, color: entry.color)
        }
        if points.count <= 40 {
            for point in points {
                image.fillRect(x: Int(point.x.rounded()) - 2, y: Int(point.y.rounded()) - 2, width: 5, height: 5, color: entry.color)
            }
        }
    }

    drawLegend(series, into: &image, right: plotRight - 8, top: plotTop + 8, scale: textScale)
    return image
}

private func drawLegend(_ series: [PlotSeries], into image: inout RGBImage, right: Int, top: Int, scale: Int) {
    let named = series.filter { !$0.name.isEmpty }
    guard !named.isEmpty else { return }
    let swatch = 24, padding = 8
    let rowHeight = (BitmapFont.glyphHeight + 2) * scale
    let textWidth = named.map { BitmapFont.textSize($0.name, scale: scale).width }.max() ?? 0
    let boxWidth = padding + swatch + 8 + textWidth + padding
    let boxHeight = padding * 2 + rowHeight * named.count - 4 * scale
    let left = right - boxWidth
    image.fillRect(x: left, y: top, width: boxWidth, height: boxHeight, color: .white)
    image.drawRectangle(x: left, y: top, width: boxWidth, height: boxHeight, color: .gray)
    for (index, entry) in named.enumerated() {
        let rowTop = top + padding + index * rowHeight
        let lineY = Double(rowTop + 7 * scale / 2)
        image.drawLine(from: (Double(left + padding), lineY), to: (Double(left + padding + swatch), lineY), thickness: 3,
                       color: entry.color)
        image.drawText(entry.name, x: left + padding + swatch + 8, y: rowTop, scale: scale)
    }
}
