import Imaging

// Cuts stored by the scan pipeline's segment stage (digit boxes and ink) are turned back into
// `CutCell`s for `CellReader.reading(cut:digits:blank:column:)`.

extension CutCell {
    public init(restoringDigits digits: [Digit], separatorIndex: Int?, separatorBox: Box?, droppedComponents: Int, minusBox: Box? = nil) {
        self.init(digits: digits, separatorIndex: separatorIndex, separatorBox: separatorBox, droppedComponents: droppedComponents,
                  minusBox: minusBox)
    }
}

extension CutCell.Digit {
    public init(restoringBox box: CutCell.Box, image: GrayImage) {
        self.init(box: box, image: image)
    }
}
