/// An 8-bit sRGB colour for drawings.
public struct RGBColor: Sendable, Equatable, Hashable {
    public var red: UInt8
    public var green: UInt8
    public var blue: UInt8

    public init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    public static let black = RGBColor(red: 0, green: 0, blue: 0)
    public static let white = RGBColor(red: 255, green: 255, blue: 255)
    public static let gray = RGBColor(red: 128, green: 128, blue: 128)
    public static let lightGray = RGBColor(red: 220, green: 220, blue: 220)
    public static let red = RGBColor(red: 214, green: 39, blue: 40)
    public static let green = RGBColor(red: 44, green: 160, blue: 44)
    public static let blue = RGBColor(red: 31, green: 119, blue: 180)
    public static let orange = RGBColor(red: 255, green: 127, blue: 14)
    public static let purple = RGBColor(red: 148, green: 103, blue: 189)

    /// Distinguishable line colours (the matplotlib "tab10" order) for plots with several series.
    public static let seriesPalette: [RGBColor] = [
        .blue, .orange, .green, .red, .purple,
        RGBColor(red: 140, green: 86, blue: 75), RGBColor(red: 227, green: 119, blue: 194),
        RGBColor(red: 127, green: 127, blue: 127), RGBColor(red: 188, green: 189, blue: 34),
        RGBColor(red: 23, green: 190, blue: 207),
    ]

    /// Linear blend: `fraction` 0 gives self, 1 gives `other`.
    public func mixed(with other: RGBColor, fraction: Double) -> RGBColor {
        let t = min(max(fraction.isFinite ? fraction : 0, 0), 1)
        func mix(_ a: UInt8, _ b: UInt8) -> UInt8 { UInt8((Double(a) + (Double(b) - Double(a)) * t).rounded()) }
        return RGBColor(red: mix(red, other.red), green: mix(green, other.green), blue: mix(blue, other.blue))
    }
}

extension RGBImage {
    /// A gray image shown as RGB, so debug overlays (boxes, labels) can be drawn on a scan.
    public init(gray: GrayImage) {
        self.init(width: gray.width, height: gray.height)
        for i in 0..<(gray.width * gray.height) {
            let value = byteFromUnit(gray.pixels[i])
            pixels[3 * i] = value
            pixels[3 * i + 1] = value
            pixels[3 * i + 2] = value
        }
    }

    public init(width: Int, height: Int, color: RGBColor) {
        self.init(width: width, height: height, fill: (color.red, color.green, color.blue))
    }

    /// The colour at (x, y); reads outside the image are a programming error.
    public subscript(x: Int, y: Int) -> RGBColor {
        get {
            let i = 3 * (y * width + x)
            return RGBColor(red: pixels[i], green: pixels[i + 1], blue: pixels[i + 2])
        }
        set {
            let i = 3 * (y * width + x)
            pixels[i] = newValue.red
            pixels[i + 1] = newValue.green
            pixels[i + 2] = newValue.blue
        }
    }

    /// Sets a pixel if it is inside the image. All drawing clips through here, so shapes may
    /// extend past the edges without checks at every call site.
    @inline(__always)
    public mutating func plot(x: Int, y: Int, color: RGBColor) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        self[x, y] = color
    }

    /// Fills the rectangle (clipped to the image).
    public mutating func fillRect(x: Int, y: Int, width rectWidth: Int, height rectHeight: Int, color: RGBColor) {
        let left = max(x, 0), top = max(y, 0)
        let right = min(saturatingSum(x, rectWidth), width), bottom = min(saturatingSum(y, rectHeight), height)
        guard right > left, bottom > top else { return }
        for row in top..<bottom {
            for column in left..<right { self[column, row] = color }
        }
    }

    /// Draws the outline of a rectangle whose outer edge is the given box; the border grows inwards
    /// so that a box drawn around a detected region never covers pixels outside it.
    public mutating func drawRectangle(x: Int, y: Int, width rectWidth: Int, height rectHeight: Int,
                                       thickness: Int = 1, color: RGBColor) {
        guard rectWidth > 0, rectHeight > 0 else { return }
        let t = max(1, min(thickness, (min(rectWidth, rectHeight) + 1) / 2))
        fillRect(x: x, y: y, width: rectWidth, height: t, color: color)
        fillRect(x: x, y: saturatingSum(y, rectHeight - t), width: rectWidth, height: t, color: color)
        fillRect(x: x, y: y, width: t, height: rectHeight, color: color)
        fillRect(x: saturatingSum(x, rectWidth - t), y: y, width: t, height: rectHeight, color: color)
    }

    /// Draws a straight line of the given thickness between two points (pixel centres), with round
    /// ends. Fractional coordinates are allowed so plots can place points exactly. Pixels whose
    /// centre lies within thickness/2 of the segment are painted; the half-pixel minimum keeps
    /// thin lines unbroken at any angle.
    public mutating func drawLine(from start: (x: Double, y: Double), to end: (x: Double, y: Double),
                                  thickness: Double = 1, color: RGBColor) {
        guard start.x.isFinite, start.y.isFinite, end.x.isFinite, end.y.isFinite else { return }
        let radius = max(thickness / 2, 0.5)
        let left = max(Int((min(start.x, end.x) - radius).rounded(.down)), 0)
        let right = min(Int((max(start.x, end.x) + radius).rounded(.up)), width - 1)
        let top = max(Int((min(start.y, end.y) - radius).rounded(.down)), 0)
        let bottom = min(Int((max(start.y, end.y) + radius).rounded(.up)), height - 1)
        guard left <= right, top <= bottom else { return }
        let dx = end.x - start.x, dy = end.y - start.y
        let lengthSquared = dx * dx + dy * dy
        let radiusSquared = radius * radius + 1e-9
        for y in top...bottom {
            for x in left...right {
                let px = Double(x) - start.x, py = Double(y) - start.y
                let t = lengthSquared > 0 ? min(max((px * dx + py * dy) / lengthSquared, 0), 1) : 0
                let ex = px - t * dx, ey = py - t * dy
                if ex * ex + ey * ey <= radiusSquared { self[x, y] = color }
            }
        }
    }

    /// Integer-coordinate convenience for `drawLine(from:to:thickness:color:)`.
    public mutating func drawLine(x0: Int, y0: Int, x1: Int, y1: Int, thickness: Int = 1, color: RGBColor) {
        drawLine(from: (Double(x0), Double(y0)), to: (Double(x1), Double(y1)), thickness: Double(thickness), color: color)
    }
}
