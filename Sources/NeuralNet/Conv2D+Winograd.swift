import Foundation

/// Winograd F(2x2, 3x3) for 3x3 convolutions with stride 1 and padding 1 (87% of ResNet18's
/// arithmetic): each 2x2 block of outputs comes from 16 multiplies per channel pair instead of 36.
/// The 16 element-wise products over channels become 16 GEMMs, (outC, inC) x (inC, tiles).
///
/// Transforms (Lavin & Gray, 2015): U = G g G^T, V = B^T d B, Y = A^T (sum over inC of U * V) A with
/// G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1], B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],
/// A^T = [1 1 1 0; 0 1 -1 -1].
enum Winograd {
    /// Weights (outC, inC, 3, 3) -> U: (16, outC, inC).
    ///
    /// Eight input channels at a time in SIMD lanes, so each of the 16 planes is written in runs of
    /// eight: one float at a time into 16 planes megabytes apart made this write-bound.
    static func transformWeights(_ g: UnsafePointer<Float>, outChannels: Int, inChannels: Int) -> [Float] {
        let plane = outChannels * inChannels
        return [Float](unsafeUninitializedCapacity: 16 * plane) { ub, initialized in
            let up = ub.baseAddress!
            parallelFor(outChannels, minimumPerThread: 16) { o in
                var i = 0
                while i < inChannels {
                    let count = min(8, inChannels - i)
                    // k[3 * row + column]: that kernel tap of input channels i..<i+count
                    var k = InlineArray<9, SIMD8<Float>>(repeating: SIMD8<Float>())
                    for lane in 0..<count {
                        let source = g + (o * inChannels + i + lane) * 9
                        for tap in 0..<9 { k[tap][lane] = source[tap] }
                    }
                    // G k (4 rows of 3), then (G k) G^T (4 x 4)
                    func gk(_ column: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
                        let (k0, k1, k2) = (k[column], k[3 + column], k[6 + column])
                        return (k0, 0.5 * (k0 + k1 + k2), 0.5 * (k0 - k1 + k2), k2)
                    }
                    let c0 = gk(0), c1 = gk(1), c2 = gk(2)
                    let destination = up + o * inChannels + i
                    @inline(__always) func put(_ k: Int, _ value: SIMD8<Float>) {
                        let dst = destination + k * plane
                        storeLanes(value, count, to: dst)
                    }
                    @inline(__always) func store(_ row: Int, _ t0: SIMD8<Float>, _ t1: SIMD8<Float>, _ t2: SIMD8<Float>) {
                        put(row * 4, t0)
                        put(row * 4 + 1, 0.5 * (t0 + t1 + t2))
                        put(row * 4 + 2, 0.5 * (t0 - t1 + t2))
                        put(row * 4 + 3, t2)
                    }
                    store(0, c0.0, c1.0, c2.0); store(1, c0.1, c1.1, c2.1)
                    store(2, c0.2, c1.2, c2.2); store(3, c0.3, c1.3, c2.3)
                    i += 8
                }
            }
            initialized = 16 * plane
        }
    }

    /// The flipped-and-transposed kernels of the input-gradient convolution have the transformed
    /// weights U'_(r,c) = U_(p(r),p(c))^T with p = (3, 1, 2, 0): G applied to a reversed kernel row is
    /// G applied to the row with its first and last outputs swapped. So backward reuses forward's U.
    static let flippedIndex: [Int] = {
        let p = [3, 1, 2, 0]
        return (0..<16).map { k in p[k / 4] * 4 + p[k % 4] }
    }()

    /// U (16, outC, inC) -> U' (16, inC, outC), U'_k = U_(flippedIndex[k])^T: the transformed weights
    /// of the input-gradient convolution. Transposed here, in 16x16 blocks, rather than in the GEMM:
    /// OpenBLAS's transposed-A product ran 1.7x slower than the plain one on these shapes.
    static func flippedTransposed(_ u: [Float], outChannels: Int, inChannels: Int) -> [Float] {
        let plane = outChannels * inChannels
        let rowBlocks = (outChannels + 15) / 16
        return [Float](unsafeUninitializedCapacity: 16 * plane) { tb, initialized in
            u.withUnsafeBufferPointer { ub in
                let up = ub.baseAddress!, tp = tb.baseAddress!
                parallelFor(16 * rowBlocks, minimumPerThread: 4) { job in
                    let (k, block) = (job / rowBlocks, job % rowBlocks)
                    // source: (outC, inC) plane flippedIndex[k]; destination: (inC, outC) plane k
                    let source = up + flippedIndex[k] * plane, destination = tp + k * plane
                    let o0 = block * 16, o1 = min(outChannels, o0 + 16)
                    var i0 = 0
                    while i0 < inChannels {
                        let i1 = min(inChannels, i0 + 16)
                        for o in o0..<o1 {
                            for i in i0..<i1 { destination[i * outChannels + o] = source[o * inChannels + i] }
                        }
                        i0 = i1
                    }
                }
            }
            initialized = 16 * plane
        }
    }

    /// y (N, outC, H, W) = 3x3 convolution of x (N, inC, H, W), stride 1, padding 1, with transformed
    /// weights `u` (16, outC, inC) (for an input gradient: `flippedTransposed` of the forward's).
    /// Then y * scale + shift per channel and an optional ReLU. Returns the transformed input V
    /// (16, inC, tiles), which training keeps for the weight gradient.
    @discardableResult
    static func convolve(_ x: UnsafePointer<Float>, n: Int, inChannels: Int, height h: Int, width w: Int,
                         u: [Float], outChannels: Int, output y: UnsafeMutablePointer<Float>,
                         scale: [Float]?, shift: [Float]?, relu: Bool) -> [Float] {
        let tilesH = (h + 1) / 2, tilesW = (w + 1) / 2
        let tilesPerImage = tilesH * tilesW
        let tiles = n * tilesPerImage
        // Tiles go 8 at a time, in SIMD lanes, in the order of V's columns: image, tile row, tile
        // column. Where the tile rows are whole groups of 8 (16x16 maps and up) a group lies in one
        // row and is read with strided loads; on the smaller maps a group spans rows and images and is
        // gathered tile by tile.
        let rowAligned = tilesW % 8 == 0
        // Each channel's planes of all images are copied into zero-padded scratch planes (1 pixel on
        // top and left, up to a whole tile on the right and bottom): no bounds checks below.
        let paddedWidth = 2 * tilesW + 2, paddedHeight = 2 * tilesH + 2
        let paddedPlane = paddedWidth * paddedHeight

        // v: (16, inC, tiles)
        let vPlane = inChannels * tiles
        var v = [Float](unsafeUninitializedCapacity: 16 * vPlane) { _, c in c = 16 * vPlane }
        v.withUnsafeMutableBufferPointer { vb in
            let vp = vb.baseAddress!
            parallelChunks(inChannels) { channels in
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: n * paddedPlane)
                scratch.initialize(repeating: 0, count: n * paddedPlane)
                let staging = UnsafeMutablePointer<Float>.allocate(capacity: 16 * 8)
                staging.initialize(repeating: 0, count: 16 * 8)
                defer { scratch.deallocate(); staging.deallocate() }
                for i in channels {
                    copyPlanes(x, channel: i, channels: inChannels, n: n, height: h, width: w,
                               into: scratch, paddedWidth: paddedWidth, paddedPlane: paddedPlane, offset: 1)
                    var cursor = TileCursor(tilesH: tilesH, tilesW: tilesW)
                    var t = 0
                    while t < tiles {
                        let count = min(8, tiles - t)
                        // d[4 r + c]: row r, column c of the 8 tiles' 4x4 inputs
                        var d = InlineArray<16, SIMD8<Float>>(repeating: SIMD8<Float>())
                        if rowAligned {
                            // columns c = 0...3 of 8 consecutive tiles: stride-2 lanes out of two loads
                            let corner = scratch + cursor.b * paddedPlane + 2 * cursor.ty * paddedWidth + 2 * cursor.tx
                            for r in 0..<4 {
                                let line = UnsafeRawPointer(corner + r * paddedWidth)
                                let a = line.loadUnaligned(as: SIMD16<Float>.self)
                                let c = line.loadUnaligned(fromByteOffset: 8, as: SIMD16<Float>.self)
                                d[4 * r] = a.evenHalf; d[4 * r + 1] = a.oddHalf
                                d[4 * r + 2] = c.evenHalf; d[4 * r + 3] = c.oddHalf
                            }
                            cursor.advance(by: 8)
                        } else {
                            // staging: (16, 8), tile j's 4x4 input in column j
                            for j in 0..<count {
                                let corner = scratch + cursor.b * paddedPlane + 2 * cursor.ty * paddedWidth + 2 * cursor.tx
                                for r in 0..<4 {
                                    for c in 0..<4 { staging[(4 * r + c) * 8 + j] = corner[r * paddedWidth + c] }
                                }
                                cursor.advance(by: 1)
                            }
                            for k in 0..<16 { d[k] = UnsafeRawPointer(staging + 8 * k).loadUnaligned(as: SIMD8<Float>.self) }
                        }
                        // B^T d (rows), then (.) B (columns)
                        var e = InlineArray<16, SIMD8<Float>>(repeating: SIMD8<Float>())
                        for c in 0..<4 {
                            e[c] = d[c] - d[8 + c]
                            e[4 + c] = d[4 + c] + d[8 + c]
                            e[8 + c] = d[8 + c] - d[4 + c]
                            e[12 + c] = d[4 + c] - d[12 + c]
                        }
                        let destination = vp + i * tiles + t
                        @inline(__always) func put(_ k: Int, _ value: SIMD8<Float>) {
                            let dst = destination + k * vPlane
                            storeLanes(value, count, to: dst)
                        }
                        for r in 0..<4 {
                            put(4 * r, e[4 * r] - e[4 * r + 2])
                            put(4 * r + 1, e[4 * r + 1] + e[4 * r + 2])
                            put(4 * r + 2, e[4 * r + 2] - e[4 * r + 1])
                            put(4 * r + 3, e[4 * r + 1] - e[4 * r + 3])
                        }
                        t += 8
                    }
                }
            }
        }

        // m: (16, outC, tiles) = U_k (outC, inC) x V_k (inC, tiles). The 16 products are shared among
        // the threads whole (one synchronisation instead of 16, no product split below its best size).
        let mPlane = outChannels * tiles
        var m = [Float](unsafeUninitializedCapacity: 16 * mPlane) { _, c in c = 16 * mPlane }
        u.withUnsafeBufferPointer { ub in
            v.withUnsafeBufferPointer { vb in
                m.withUnsafeMutableBufferPointer { mb in
                    let up = ub.baseAddress!, vp = vb.baseAddress!, mp = mb.baseAddress!
                    parallelFor(16) { k in
                        gemm(transposeA: false, transposeB: false, m: outChannels, n: tiles, k: inChannels,
                             a: up + k * outChannels * inChannels, b: vp + k * vPlane, c: mp + k * mPlane, split: false)
                    }
                }
            }
        }


        // y = A^T m A per tile, 8 tiles at a time (as V's columns), with the epilogue
        m.withUnsafeBufferPointer { mb in
            let mp = mb.baseAddress!
            parallelFor(outChannels, minimumPerThread: 4) { o in
                let a = SIMD8<Float>(repeating: scale?[o] ?? 1), c = SIMD8<Float>(repeating: shift?[o] ?? 0)
                let zero = SIMD8<Float>()
                let source = mp + o * tiles
                var cursor = TileCursor(tilesH: tilesH, tilesW: tilesW)
                var t = 0
                while t < tiles {
                    let count = min(8, tiles - t)
                    @inline(__always) func at(_ k: Int) -> SIMD8<Float> {
                        let src = source + k * mPlane + t
                        if count == 8 { return UnsafeRawPointer(src).loadUnaligned(as: SIMD8<Float>.self) }
                        var value = SIMD8<Float>()
                        for j in 0..<count { value[j] = src[j] }
                        return value
                    }
                    // A^T m: s0 = m_0 + m_1 + m_2, s1 = m_1 - m_2 - m_3 (rows), then the same on columns
                    let m0 = (at(0), at(1), at(2), at(3)), m1 = (at(4), at(5), at(6), at(7))
                    let m2 = (at(8), at(9), at(10), at(11)), m3 = (at(12), at(13), at(14), at(15))
                    let s0 = (m0.0 + m1.0 + m2.0, m0.1 + m1.1 + m2.1, m0.2 + m1.2 + m2.2, m0.3 + m1.3 + m2.3)
                    let s1 = (m1.0 - m2.0 - m3.0, m1.1 - m2.1 - m3.1, m1.2 - m2.2 - m3.2, m1.3 - m2.3 - m3.3)
                    var y00 = (s0.0 + s0.1 + s0.2) * a + c, y01 = (s0.1 - s0.2 - s0.3) * a + c
                    var y10 = (s1.0 + s1.1 + s1.2) * a + c, y11 = (s1.1 - s1.2 - s1.3) * a + c
                    if relu {
                        y00.replace(with: zero, where: y00 .< zero); y01.replace(with: zero, where: y01 .< zero)
                        y10.replace(with: zero, where: y10 .< zero); y11.replace(with: zero, where: y11 .< zero)
                    }
                    if rowAligned && 2 * (cursor.tx + 8) <= w && 2 * cursor.ty + 1 < h {
                        // Interleave the two columns of outputs into full rows of 16.
                        var top = SIMD16<Float>(), bottom = SIMD16<Float>()
                        for j in 0..<8 {
                            top[2 * j] = y00[j]; top[2 * j + 1] = y01[j]
                            bottom[2 * j] = y10[j]; bottom[2 * j + 1] = y11[j]
                        }
                        let row = y + (cursor.b * outChannels + o) * h * w + 2 * cursor.ty * w + 2 * cursor.tx
                        UnsafeMutableRawPointer(row).storeBytes(of: top, as: SIMD16<Float>.self)
                        UnsafeMutableRawPointer(row + w).storeBytes(of: bottom, as: SIMD16<Float>.self)
                        cursor.advance(by: 8)
                    } else {
                        for j in 0..<count {
                            let ox = 2 * cursor.tx, oy = 2 * cursor.ty
                            let top = y + (cursor.b * outChannels + o) * h * w + oy * w + ox
                            top[0] = y00[j]
                            if ox + 1 < w { top[1] = y01[j] }
                            if oy + 1 < h {
                                top[w] = y10[j]
                                if ox + 1 < w { top[w + 1] = y11[j] }
                            }
                            cursor.advance(by: 1)
                        }
                    }
                    t += 8
                }
            }
        }
        return v
    }

    /// dW (outC, inC, 3, 3) += the weight gradient of a Winograd convolution, in the Winograd domain:
    /// with Y = A^T M A and M_k = U_k V_k, dM = A dY A^T per tile, dU_k (outC, inC) = dM_k V_k^T
    /// (one GEMM per tile position, 16/36 of the multiplies of im2col's), and dW = G^T dU G.
    /// dy: (N, outC, H, W); v: the forward's transformed input (16, inC, tiles).
    static func accumulateWeightGradient(_ dy: UnsafePointer<Float>, n: Int, outChannels: Int, inChannels: Int,
                                         height h: Int, width w: Int, v: [Float], into dw: UnsafeMutablePointer<Float>) {
        let tilesH = (h + 1) / 2, tilesW = (w + 1) / 2
        let tilesPerImage = tilesH * tilesW
        let tiles = n * tilesPerImage
        // As in `convolve`: 8 tiles at a time, strided loads where tile rows are whole groups of 8,
        // gathered otherwise. dY planes are copied into zero-padded scratch planes: outputs beyond the
        // edge of an odd map have zero gradient.
        let rowAligned = tilesW % 8 == 0
        let paddedWidth = 2 * tilesW, paddedHeight = 2 * tilesH
        let paddedPlane = paddedWidth * paddedHeight

        // dm: (16, outC, tiles)
        let mPlane = outChannels * tiles
        var dm = [Float](unsafeUninitializedCapacity: 16 * mPlane) { _, c in c = 16 * mPlane }
        dm.withUnsafeMutableBufferPointer { mb in
            let mp = mb.baseAddress!
            parallelChunks(outChannels) { channels in
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: n * paddedPlane)
                scratch.initialize(repeating: 0, count: n * paddedPlane)
                let staging = UnsafeMutablePointer<Float>.allocate(capacity: 4 * 8)
                staging.initialize(repeating: 0, count: 4 * 8)
                defer { scratch.deallocate(); staging.deallocate() }
                for o in channels {
                    copyPlanes(dy, channel: o, channels: outChannels, n: n, height: h, width: w,
                               into: scratch, paddedWidth: paddedWidth, paddedPlane: paddedPlane, offset: 0)
                    var cursor = TileCursor(tilesH: tilesH, tilesW: tilesW)
                    var t = 0
                    while t < tiles {
                        let count = min(8, tiles - t)
                        // the 8 tiles' 2x2 output gradients: row a, column b in y_ab
                        var y00 = SIMD8<Float>(), y01 = SIMD8<Float>(), y10 = SIMD8<Float>(), y11 = SIMD8<Float>()
                        if rowAligned {
                            let corner = scratch + cursor.b * paddedPlane + 2 * cursor.ty * paddedWidth + 2 * cursor.tx
                            let top = UnsafeRawPointer(corner).loadUnaligned(as: SIMD16<Float>.self)
                            let bottom = UnsafeRawPointer(corner + paddedWidth).loadUnaligned(as: SIMD16<Float>.self)
                            (y00, y01, y10, y11) = (top.evenHalf, top.oddHalf, bottom.evenHalf, bottom.oddHalf)
                            cursor.advance(by: 8)
                        } else {
                            for j in 0..<count {
                                let corner = scratch + cursor.b * paddedPlane + 2 * cursor.ty * paddedWidth + 2 * cursor.tx
                                staging[j] = corner[0]; staging[8 + j] = corner[1]
                                staging[16 + j] = corner[paddedWidth]; staging[24 + j] = corner[paddedWidth + 1]
                                cursor.advance(by: 1)
                            }
                            func lanes(_ k: Int) -> SIMD8<Float> { UnsafeRawPointer(staging + 8 * k).loadUnaligned(as: SIMD8<Float>.self) }
                            (y00, y01, y10, y11) = (lanes(0), lanes(1), lanes(2), lanes(3))
                        }
                        // dY A^T (columns): (y0, y0 + y1, y0 - y1, -y1) per row, then A (.) on rows
                        let w0 = (y00, y00 + y01, y00 - y01, -y01)
                        let w1 = (y10, y10 + y11, y10 - y11, -y11)
                        let destination = mp + o * tiles + t
                        @inline(__always) func put(_ k: Int, _ value: SIMD8<Float>) {
                            let dst = destination + k * mPlane
                            storeLanes(value, count, to: dst)
                        }
                        @inline(__always) func putRow(_ r: Int, _ c0: SIMD8<Float>, _ c1: SIMD8<Float>,
                                                      _ c2: SIMD8<Float>, _ c3: SIMD8<Float>) {
                            put(4 * r, c0); put(4 * r + 1, c1); put(4 * r + 2, c2); put(4 * r + 3, c3)
                        }
                        putRow(0, w0.0, w0.1, w0.2, w0.3)
                        putRow(1, w0.0 + w1.0, w0.1 + w1.1, w0.2 + w1.2, w0.3 + w1.3)
                        putRow(2, w0.0 - w1.0, w0.1 - w1.1, w0.2 - w1.2, w0.3 - w1.3)
                        putRow(3, -w1.0, -w1.1, -w1.2, -w1.3)
                        t += 8
                    }
                }
            }
        }
        // du: (16, outC, inC) = dM_k (outC, tiles) x V_k^T (tiles, inC); small products with a long
        // inner dimension, so the 16 are shared among the threads rather than each one split.
        let uPlane = outChannels * inChannels
        var du = [Float](unsafeUninitializedCapacity: 16 * uPlane) { _, c in c = 16 * uPlane }
        dm.withUnsafeBufferPointer { mb in
            v.withUnsafeBufferPointer { vb in
                du.withUnsafeMutableBufferPointer { ub in
                    let mp = mb.baseAddress!, vp = vb.baseAddress!, up = ub.baseAddress!
                    parallelFor(16) { k in
                        gemm(transposeA: false, transposeB: true, m: outChannels, n: inChannels, k: tiles,
                             a: mp + k * mPlane, b: vp + k * inChannels * tiles, c: up + k * uPlane, split: false)
                    }
                }
            }
        }

        // dW += G^T dU G, eight input channels at a time
        du.withUnsafeBufferPointer { ub in
            let up = ub.baseAddress!
            parallelFor(outChannels, minimumPerThread: 16) { o in
                var i = 0
                while i < inChannels {
                    let count = min(8, inChannels - i)
                    let source = up + o * inChannels + i
                    @inline(__always) func at(_ k: Int) -> SIMD8<Float> {
                        if count == 8 { return UnsafeRawPointer(source + k * uPlane).loadUnaligned(as: SIMD8<Float>.self) }
                        var value = SIMD8<Float>()
                        for j in 0..<count { value[j] = source[k * uPlane + j] }
                        return value
                    }
                    // G^T dU: three rows of four (columns c = 0...3)
                    var t = InlineArray<12, SIMD8<Float>>(repeating: SIMD8<Float>())
                    for c in 0..<4 {
                        let (d0, d1, d2, d3) = (at(c), at(4 + c), at(8 + c), at(12 + c))
                        t[c] = d0 + 0.5 * (d1 + d2)
                        t[4 + c] = 0.5 * (d1 - d2)
                        t[8 + c] = 0.5 * (d1 + d2) + d3
                    }
                    // (G^T dU) G: three columns per row; lane j belongs to input channel i + j
                    let destination = dw + (o * inChannels + i) * 9
                    for a in 0..<3 {
                        let (t0, t1, t2, t3) = (t[4 * a], t[4 * a + 1], t[4 * a + 2], t[4 * a + 3])
                        let g0 = t0 + 0.5 * (t1 + t2), g1 = 0.5 * (t1 - t2), g2 = 0.5 * (t1 + t2) + t3
                        for j in 0..<count {
                            destination[j * 9 + 3 * a] += g0[j]
                            destination[j * 9 + 3 * a + 1] += g1[j]
                            destination[j * 9 + 3 * a + 2] += g2[j]
                        }
                    }
                    i += 8
                }
            }
        }
    }
}

/// Where tile t of a batch lies, in V's column order: image `b`, tile row `ty`, tile column `tx`.
extension Winograd {
    /// The first `count` lanes of `value` to `dst` (all 8 in one store when the group is whole).
    @inline(__always)
    static func storeLanes(_ value: SIMD8<Float>, _ count: Int, to dst: UnsafeMutablePointer<Float>) {
        if count == 8 {
            UnsafeMutableRawPointer(dst).storeBytes(of: value, as: SIMD8<Float>.self)
        } else {
            for lane in 0..<count { dst[lane] = value[lane] }
        }
    }

    /// Channel `channel` of every image of `source` (N, channels, H, W) into zero-padded scratch
    /// planes, `offset` pixels in from the top and left.
    @inline(__always)
    static func copyPlanes(_ source: UnsafePointer<Float>, channel: Int, channels: Int, n: Int, height h: Int, width w: Int,
                           into scratch: UnsafeMutablePointer<Float>, paddedWidth: Int, paddedPlane: Int, offset: Int) {
        for b in 0..<n {
            let plane = source + (b * channels + channel) * h * w
            for yy in 0..<h {
                (scratch + b * paddedPlane + (yy + offset) * paddedWidth + offset).update(from: plane + yy * w, count: w)
            }
        }
    }
}

struct TileCursor {
    let tilesH: Int, tilesW: Int
    var b = 0, ty = 0, tx = 0

    init(tilesH: Int, tilesW: Int) {
        self.tilesH = tilesH
        self.tilesW = tilesW
    }

    /// Moves `k` tiles on (a step of 8 stays within a row when the rows are whole groups of 8).
    @inline(__always)
    mutating func advance(by k: Int) {
        tx += k
        while tx >= tilesW {
            tx -= tilesW
            ty += 1
            if ty == tilesH { ty = 0; b += 1 }
        }
    }
}
