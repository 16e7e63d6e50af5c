/// One connected blob of a binary mask, as found by `connectedComponents(of:width:height:connectivity:)`.
public struct Component: Sendable, Equatable {
    /// The value this component's pixels carry in the label map (1...n; 0 is background).
    public var label: Int32
    /// Number of pixels.
    public var pixelCount: Int
    /// Bounding box, inclusive on all sides.
    public var minX: Int
    public var minY: Int
    public var maxX: Int
    public var maxY: Int
    /// Mean position of the pixels (pixel-centre coordinates: the pixel (x, y) is at (x, y)).
    public var centroid: (x: Double, y: Double)

    public init(label: Int32, pixelCount: Int, minX: Int, minY: Int, maxX: Int, maxY: Int,
                centroid: (x: Double, y: Double)) {
        self.label = label
        self.pixelCount = pixelCount
        self.minX = minX
        self.minY = minY
        self.maxX = maxX
        self.maxY = maxY
        self.centroid = centroid
    }

    /// Bounding-box width and height.
    public var width: Int { maxX - minX + 1 }
    public var height: Int { maxY - minY + 1 }

    public static func == (lhs: Component, rhs: Component) -> Bool {
        lhs.label == rhs.label && lhs.pixelCount == rhs.pixelCount && lhs.minX == rhs.minX && lhs.minY == rhs.minY
            && lhs.maxX == rhs.maxX && lhs.maxY == rhs.maxY
            && lhs.centroid.x == rhs.centroid.x && lhs.centroid.y == rhs.centroid.y
    }
}

/// Labels the connected components of `mask` (row-major, `width` x `height`, true = foreground).
///
/// Two-pass union-find: the first pass gives each pixel a provisional label from its already
/// visited neighbours (left, and the row above: up-left, up, up-right with 8-connectivity) and
/// records equivalences; the second pass resolves them. Components are numbered 1...n in the
/// order of their first pixel in raster order (top to bottom, left to right); `labels` holds
/// that number per pixel (0 for background) and `components[k]` describes label `k + 1`.
///
/// `connectivity` is 8 (diagonal neighbours touch) or 4.
public func connectedComponents(of mask: [Bool], width: Int, height: Int,
                                connectivity: Int = 8) -> (labels: [Int32], components: [Component]) {
    precondition(width >= 0 && height >= 0 && mask.count == width * height,
                 "connectedComponents: \(mask.count) mask values for \(width)x\(height)")
    precondition(connectivity == 8 || connectivity == 4, "connectedComponents: connectivity must be 4 or 8")
    var labels = [Int32](repeating: 0, count: width * height)
    guard width > 0, height > 0 else { return (labels, []) }
    let diagonal = connectivity == 8

    // parent[k] for provisional label k (index 0 unused).
    var parent: [Int32] = [0]
    func find(_ label: Int32) -> Int32 {
        var root = label
        while parent[Int(root)] != root { root = parent[Int(root)] }
        var node = label
        while parent[Int(node)] != root {
            let next = parent[Int(node)]
            parent[Int(node)] = root
            node = next
        }
        return root
    }
    func union(_ a: Int32, _ b: Int32) -> Int32 {
        let rootA = find(a), rootB = find(b)
        if rootA == rootB { return rootA }
        // Keep the smaller root so that final numbering follows raster order.
        if rootA < rootB { parent[Int(rootB)] = rootA; return rootA }
        parent[Int(rootA)] = rootB
        return rootB
    }

    mask.withUnsafeBufferPointer { m in
        labels.withUnsafeMutableBufferPointer { l in
            for y in 0..<height {
                let row = y * width, above = row - width
                for x in 0..<width where m[row + x] {
                    var label: Int32 = 0
                    @inline(__always) func consider(_ neighbour: Int32) {
                        if neighbour == 0 { return }
                        label = label == 0 ? neighbour : union(label, neighbour)
                    }
                    if x > 0 { consider(l[row + x - 1]) }
                    if y > 0 {
                        consider(l[above + x])
                        if diagonal {
                            if x > 0 { consider(l[above + x - 1]) }
                            if x + 1 < width { consider(l[above + x + 1]) }
                        }
                    }
                    if label == 0 {
                        label = Int32(parent.count)
                        parent.append(label)
                    }
                    l[row + x] = label
                }
            }
        }
    }

    // Resolve to consecutive final labels in order of first appearance.
    var final = [Int32](repeating: 0, count: parent.count)
    var next: Int32 = 0
    for provisional in 1..<parent.count {
        let root = find(Int32(provisional))
        if root == Int32(provisional) {
            next += 1
            final[provisional] = next
        } else {
            final[provisional] = final[Int(root)]
        }
    }

    var counts = [Int](repeating: 0, count: Int(next))
    var minX = [Int](repeating: Int.max, count: Int(next)), minY = minX
    var maxX = [Int](repeating: -1, count: Int(next)), maxY = maxX
    var sumX = [Double](repeating: 0, count: Int(next)), sumY = sumX
    labels.withUnsafeMutableBufferPointer { l in
        for y in 0..<height {
            let row = y * width
            for x in 0..<width where l[row + x] != 0 {
                let label = final[Int(l[row + x])]
                l[row + x] = label
                let k = Int(label) - 1
                counts[k] += 1
                if x < minX[k] { minX[k] = x }
                if x > maxX[k] { maxX[k] = x }
                if y < minY[k] { minY[k] = y }
                maxY[k] = y
                sumX[k] += Double(x)
                sumY[k] += Double(y)
            }
        }
    }
    var components: [Component] = []
    components.reserveCapacity(Int(next))
    for k in 0..<Int(next) {
        let count = Double(counts[k])
        let centroid: (x: Double, y: Double) = (sumX[k] / count, sumY[k] / count)
        components.append(Component(label: Int32(k + 1), pixelCount: counts[k], minX: minX[k], minY: minY[k],
                                    maxX: maxX[k], maxY: maxY[k], centroid: centroid))
    }
    return (labels, components)
}

extension GrayImage {
    /// The ink pixels (row-major, true = ink): pixels darker than `threshold` (paper polarity,
    /// 0 = black ink, 1 = white paper).
    public func inkMask(threshold: Float = 0.5) -> [Bool] {
        pixels.map { $0 < threshold }
    }
}
