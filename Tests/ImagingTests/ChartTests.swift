import Foundation
import XCTest
@testable import Imaging

final class ChartTests: ImagingTestCase {
    /// Set IMAGING_PREVIEW_DIR to keep the rendered charts for a look by eye.
    private func keep(_ image: RGBImage, as name: String) throws {
        try writePNG(image, to: path(name))
        if let preview = ProcessInfo.processInfo.environment["IMAGING_PREVIEW_DIR"] {
            try writePNG(image, to: preview + "/" + name)
        }
    }

    func testHeatMapColoursCellsByShareOfTheirRow() throws {
        let matrix = [[8, 2, 0], [0, 5, 0], [1, 1, 2]]
        let labels = ["0", "1", "2"]
        let image = renderHeatMap(matrix: matrix, rowLabels: labels, columnLabels: labels,
                                  title: "Digits", xLabel: "Predicted", yLabel: "True")
        let layout = HeatMapLayout(matrix: matrix, rowLabels: labels, columnLabels: labels,
                                   title: "Digits", xLabel: "Predicted", yLabel: "True")
        XCTAssertEqual(image.width, layout.imageWidth)
        XCTAssertEqual(image.height, layout.imageHeight)
        let expected: [(Int, Int, Double)] = [(0, 0, 0.8), (0, 1, 0.2), (0, 2, 0), (1, 1, 1), (1, 0, 0), (2, 2, 0.5)]
        for (row, column, share) in expected {
            let cell = layout.cellRect(row: row, column: column)
            // Corners are clear of the centred count.
            XCTAssertEqual(image[cell.x + 1, cell.y + 1], heatMapColor(fraction: share), "cell \(row),\(column)")
            XCTAssertEqual(image[cell.x + cell.width - 2, cell.y + cell.height - 2], heatMapColor(fraction: share))
        }
        // The count is written inside the cell: white on the dark full cell, black on the empty one.
        func colours(in cell: (x: Int, y: Int, width: Int, height: Int)) -> Set<RGBColor> {
            var set = Set<RGBColor>()
            for y in cell.y..<(cell.y + cell.height) { for x in cell.x..<(cell.x + cell.width) { set.insert(image[x, y]) } }
            return set
        }
        XCTAssertTrue(colours(in: layout.cellRect(row: 1, column: 1)).contains(.white))
        XCTAssertTrue(colours(in: layout.cellRect(row: 1, column: 0)).contains(.black))
        XCTAssertEqual(heatMapColor(fraction: 0), .white)
        try keep(image, as: "heatmap-small.png")
    }

    func testHeatMapWithLongLabelsAndBigCounts() throws {
        let labels = ["blank", "illegible", "digit", "minus", "decimal point", "other", "0", "1", "2", "3"]
        let matrix = (0..<10).map { row in (0..<10).map { column in row == column ? 1_200 + row * 31 : (row * 7 + column * 3) % 40 } }
        let image = renderHeatMap(matrix: matrix, rowLabels: labels, columnLabels: labels,
                                  title: "Validation confusion matrix (epoch 12)", xLabel: "Predicted class", yLabel: "True class")
        let layout = HeatMapLayout(matrix: matrix, rowLabels: labels, columnLabels: labels,
                                   title: "Validation confusion matrix (epoch 12)", xLabel: "Predicted class", yLabel: "True class")
        XCTAssertEqual(image.width, layout.imageWidth)
        XCTAssertGreaterThanOrEqual(layout.cellSize, BitmapFont.textSize("1479", scale: 2).width + 2)
        try keep(image, as: "heatmap-large.png")
    }

    func testHeatMapSurvivesEmptyAndRaggedInput() {
        let empty = renderHeatMap(matrix: [], rowLabels: [], columnLabels: [], title: "", xLabel: "", yLabel: "")
        XCTAssertGreaterThan(empty.width, 0)
        let ragged = renderHeatMap(matrix: [[1, 2, 3], [4]], rowLabels: ["a"], columnLabels: [], title: "t", xLabel: "x", yLabel: "y")
        XCTAssertGreaterThan(ragged.width, 0)
    }

    func testLinePlotDrawsSeriesAxesAndLegend() throws {
        let training = PlotSeries(name: "train loss", values: (0..<20).map { 2.3 * exp(-Double($0) / 5) + 0.05 }, color: .blue)
        let validation = PlotSeries(name: "val loss", values: (0..<20).map { 2.3 * exp(-Double($0) / 6) + 0.15 }, color: .orange)
        let image = renderLinePlot(series: [training, validation], title: "Loss per epoch", xLabel: "Epoch", yLabel: "Loss")
        XCTAssertEqual(image.width, 800)
        XCTAssertEqual(image.height, 500)
        let colours = Set((0..<(image.width * image.height)).map { image[$0 % image.width, $0 / image.width] })
        XCTAssertTrue(colours.contains(.blue))
        XCTAssertTrue(colours.contains(.orange))
        XCTAssertTrue(colours.contains(.black))
        // Both curves start high on the left and end low on the right.
        func highestInk(of colour: RGBColor, inColumns columns: Range<Int>) -> Int? {
            (0..<image.height).first { y in columns.contains { image[$0, y] == colour } }
        }
        let leftTop = try XCTUnwrap(highestInk(of: .blue, inColumns: 100..<200))
        let rightTop = try XCTUnwrap(highestInk(of: .blue, inColumns: 650..<700))
        XCTAssertLessThan(leftTop, rightTop)
        try keep(image, as: "lineplot.png")
    }

    func testLinePlotToleratesEmptyFlatAndNonFiniteData() throws {
        let empty = renderLinePlot(series: [], title: "Nothing yet", xLabel: "x", yLabel: "y", width: 300, height: 200)
        XCTAssertEqual(empty.width, 300)
        let flat = renderLinePlot(series: [PlotSeries(name: "acc", points: [(1, 0.5), (2, 0.5), (3, .nan), (4, .infinity)],
                                                      color: .green)],
                                  title: "Flat", xLabel: "x", yLabel: "y")
        XCTAssertTrue(flat.pixels.contains(RGBColor.green.green))
        try keep(flat, as: "lineplot-flat.png")
    }

    func testChartsSurviveExtremeValues() {
        let extreme = PlotSeries(name: "wild", points: [(-1e308, 1e308), (1e308, -1e308), (0, 0)], color: .red)
        XCTAssertEqual(renderLinePlot(series: [extreme], title: "", xLabel: "", yLabel: "").width, 800)
        let heat = renderHeatMap(matrix: [[Int.max, Int.max], [-5, Int.min]], rowLabels: ["a", "b"], columnLabels: ["c", "d"],
                                 title: "", xLabel: "", yLabel: "")
        XCTAssertGreaterThan(heat.width, 0)
        var image = RGBImage(width: 10, height: 10)
        image.fillRect(x: 5, y: 5, width: Int.max, height: Int.max, color: .black)
        image.drawRectangle(x: Int.min, y: 2, width: Int.max, height: 3, color: .black)
        XCTAssertEqual(image[9, 9], .black)
        XCTAssertEqual(GrayImage(width: 4, height: 4).cropped(x: 2, y: 2, width: Int.max, height: Int.max).width, 2)
    }

    func testAxisTicksAreRoundAndCoverTheData() {
        let ticks = AxisTicks(covering: 0.13, 0.87)
        XCTAssertEqual(ticks.step, 0.2, accuracy: 1e-12)
        XCTAssertEqual(ticks.low, 0, accuracy: 1e-12)
        XCTAssertEqual(ticks.high, 1, accuracy: 1e-12)
        XCTAssertEqual(ticks.values.map(ticks.label), ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        let epochs = AxisTicks(covering: 1, 20)
        XCTAssertEqual(epochs.values.map(epochs.label), ["0", "5", "10", "15", "20"])
        let tiny = AxisTicks(covering: 0.00001, 0.00005)
        XCTAssertTrue(tiny.values.map(tiny.label).allSatisfy { $0.contains("e-05") || $0 == "0" }, "\(tiny.values.map(tiny.label))")
        let negative = AxisTicks(covering: -0.3, 0.2)
        XCTAssertTrue(negative.values.map(negative.label).contains("0.0"))
    }
}
