import Imaging

/// Contact sheets: many digits on one page, for looking at what the network is fed (are MNIST and
/// OpenCV digits alike after normalisation? do augmentations still look like digits?).
extension DigitDataset {
    /// The images at `indices` tiled row by row, `columns` per row, in paper polarity (black ink on
    /// white, like a scan) with a grey gap between cells. Save with `writePNG`.
    public func contactSheet(indices: [Int], columns: Int = 20, gap: Int = 2) -> GrayImage {
        Self.contactSheet(images: indices.map { image(at: $0) }, columns: columns, gap: gap)
    }

    /// Tiles ink maps (each `side` x `side`, ink = 1), e.g. augmented copies, into one sheet.
    public static func contactSheet(images: [[Float]], columns: Int = 20, gap: Int = 2) -> GrayImage {
        let columns = max(1, min(columns, max(images.count, 1)))
        let rows = (images.count + columns - 1) / columns
        let cell = side + gap
        var sheet = GrayImage(width: columns * cell + gap, height: rows * cell + gap, fill: 0.6)
        for (position, image) in images.enumerated() {
            precondition(image.count == pixelsPerImage, "contactSheet: image \(position) has \(image.count) values")
            let left = gap + (position % columns) * cell, top = gap + (position / columns) * cell
            for y in 0..<side {
                for x in 0..<side { sheet[left + x, top + y] = 1 - min(max(image[y * side + x], 0), 1) }
            }
        }
        return sheet
    }
}
