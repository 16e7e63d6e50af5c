/// A single-channel image, row-major, values in 0...1 with 0 = black ink and 1 = white paper
/// (the way a scan looks). Digit tensors for the network use the opposite polarity; see
/// `Recognition.DigitNormalizer`.
public struct GrayImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    // pixels: (height, width), row-major
    public var pixels: [Float]

    public init(width: Int, height: Int, pixels: [Float]) {
        precondition(width >= 0 && height >= 0 && pixels.count == width * height,
                     "GrayImage: \(pixels.count) pixels for \(width)x\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    public init(width: Int, height: Int, fill: Float = 1) {
        self.init(width: width, height: height, pixels: [Float](repeating: fill, count: width * height))
    }

    @inlinable public subscript(x: Int, y: Int) -> Float {
        get { pixels[y * width + x] }
        set { pixels[y * width + x] = newValue }
    }
}

/// An 8-bit RGB image, row-major, interleaved: used for drawings (heat maps, plots, debug overlays).
public struct RGBImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    // pixels: (height, width, 3), row-major
    public var pixels: [UInt8]

    public init(width: Int, height: Int, fill: (UInt8, UInt8, UInt8) = (255, 255, 255)) {
        self.width = width
        self.height = height
        var p = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) { p[3 * i] = fill.0; p[3 * i + 1] = fill.1; p[3 * i + 2] = fill.2 }
        self.pixels = p
    }
}
