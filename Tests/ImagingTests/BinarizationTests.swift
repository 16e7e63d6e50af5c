import XCTest
@testable import Imaging

/// Deterministic noise for the synthetic pages (SplitMix64).
private struct PageNoise {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in -amplitude...amplitude.
    mutating func uniform(_ amplitude: Float) -> Float {
        (Float(next() >> 40) / Float(1 << 24) * 2 - 1) * amplitude
    }
}

/// Ink mask of "digits": hollow rectangles with 3-pixel strokes, 14x20, on a regular grid.
private func digitInkMask(width: Int, height: Int, margin: Int = 12) -> [Bool] {
    var mask = [Bool](repeating: false, count: width * height)
    for top in stride(from: margin, to: height - margin - 20, by: 34) {
        for left in stride(from: margin, to: width - margin - 14, by: 26) {
            for y in top..<(top + 20) {
                for x in left..<(left + 14) where x - left < 3 || x - left >= 11 || y - top < 3 || y - top >= 17 {
                    mask[y * width + x] = true
                }
            }
        }
    }
    return mask
}

private func mean(_ values: [Float]) -> Float { values.reduce(0, +) / Float(max(values.count, 1)) }
private func standardDeviation(_ values: [Float]) -> Float {
    let m = mean(values)
    return (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Float(max(values.count, 1))).squareRoot()
}

final class BinarizationTests: XCTestCase {
    // MARK: Otsu

    func testOtsuSplitsBimodalImageBetweenTheModes() {
        // 15% ink around 0.2, 85% paper around 0.75, each spread by ±0.06.
        var noise = PageNoise(state: 1)
        var pixels = [Float]()
        var isInk = [Bool]()
        for i in 0..<(200 * 200) {
            let ink = i % 20 < 3
            isInk.append(ink)
            pixels.append((ink ? 0.2 : 0.75) + noise.uniform(0.06))
        }
        let image = GrayImage(width: 200, height: 200, pixels: pixels)
        let threshold = image.otsuThreshold()
        XCTAssertGreaterThan(threshold, 0.26)
        XCTAssertLessThan(threshold, 0.69)
        let binary = image.binarizedOtsu()
        XCTAssertEqual(Set(binary.pixels), [0, 1])
        for (value, ink) in zip(binary.pixels, isInk) where (value == 0) != ink {
            return XCTFail("Otsu misclassified a pixel (threshold \(threshold))")
        }
    }

    func testOtsuOnTwoCleanLevelsCutsHalfwayBetweenThem() {
        // Two exact levels leave a wide run of equally good cuts; the middle of it is returned.
        let image = GrayImage(width: 10, height: 1, pixels: [0.1, 0.1, 0.1, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9])
        XCTAssertEqual(image.otsuThreshold(), 0.5, accuracy: 0.01)
    }

    func testOtsuOnBlankPageKeepsItWhite() {
        let blank = GrayImage(width: 30, height: 20, fill: 1)
        XCTAssertEqual(blank.otsuThreshold(), 0.5)
        XCTAssertEqual(blank.binarizedOtsu().pixels, blank.pixels)
        let empty = GrayImage(width: 0, height: 0, pixels: [])
        XCTAssertEqual(empty.binarizedOtsu().pixels, [])
        XCTAssertEqual(empty.binarizedSauvola(window: 15, k: 0.3).pixels, [])
        XCTAssertEqual(empty.flattenedBackground(radius: 10).pixels, [])
    }

    // MARK: Sauvola

    /// Dark digits on paper lit from 100% on the left down to 25% on the right.
    private func unevenlyLitPage(width: Int = 420, height: Int = 300) -> (image: GrayImage, ink: [Bool]) {
        let ink = digitInkMask(width: width, height: height)
        var noise = PageNoise(state: 7)
        var pixels = [Float](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                let light = 1 - 0.75 * Float(x) / Float(width - 1)
                let reflectance: Float = ink[y * width + x] ? 0.25 : 0.95
                pixels[y * width + x] = min(max(reflectance * light + noise.uniform(0.02), 0), 1)
            }
        }
        return (GrayImage(width: width, height: height, pixels: pixels), ink)
    }

    func testSauvolaKeepsTextOnIlluminationGradientWhereOtsuFails() {
        let (page, ink) = unevenlyLitPage()
        func rates(_ binary: GrayImage) -> (recall: Double, paperAsInk: Double) {
            var hit = 0, inkCount = 0, falseInk = 0, paperCount = 0
            for (value, isInk) in zip(binary.pixels, ink) {
                if isInk { inkCount += 1; if value == 0 { hit += 1 } } else { paperCount += 1; if value == 0 { falseInk += 1 } }
            }
            return (Double(hit) / Double(inkCount), Double(falseInk) / Double(paperCount))
        }
        // The construction defeats a global threshold: the dim right side's paper (0.24) is darker
        // than the bright left side's ink (0.25), so no single cut can separate them.
        let otsu = rates(page.binarizedOtsu())
        XCTAssertTrue(otsu.recall < 0.9 || otsu.paperAsInk > 0.1, "Otsu should fail here: \(otsu)")

        let sauvola = page.binarizedSauvola(window: 25, k: 0.3)
        XCTAssertEqual(Set(sauvola.pixels), [0, 1])
        let result = rates(sauvola)
        XCTAssertGreaterThan(result.recall, 0.95, "text lost: \(result)")
        XCTAssertLessThan(result.paperAsInk, 0.005, "paper not clean: \(result)")
    }

    func testSauvolaMatchesBruteForceAcrossBandBoundaries() {
        // Taller than one 128-row band, so the per-band tables and their margins are exercised.
        let width = 37, height = 300, window = 21, k: Float = 0.25, r: Float = 0.5
        var noise = PageNoise(state: 3)
        let pixels = (0..<(width * height)).map { i -> Float in
            let base: Float = (i / width) % 9 < 2 ? 0.2 : 0.8
            return min(max(base + noise.uniform(0.15), 0), 1)
        }
        let image = GrayImage(width: width, height: height, pixels: pixels)
        let fast = image.binarizedSauvola(window: window, k: k, r: r)
        let half = window / 2
        var disagreements = 0
        for y in 0..<height {
            for x in 0..<width {
                var sum = 0.0, squares = 0.0, count = 0.0
                for yy in max(0, y - half)...min(height - 1, y + half) {
                    for xx in max(0, x - half)...min(width - 1, x + half) {
                        let v = Double(pixels[yy * width + xx])
                        sum += v; squares += v * v; count += 1
                    }
                }
                let m = sum / count, s = max(squares / count - m * m, 0).squareRoot()
                let threshold = m * (1 + Double(k) * (s / Double(r) - 1))
                let expected: Float = Double(pixels[y * width + x]) < threshold ? 0 : 1
                if fast[x, y] != expected && abs(Double(pixels[y * width + x]) - threshold) > 1e-9 { disagreements += 1 }
            }
        }
        XCTAssertEqual(disagreements, 0)
    }

    func testSauvolaLeavesFlatPaperWhite() {
        var noise = PageNoise(state: 11)
        let image = GrayImage(width: 64, height: 48, pixels: (0..<(64 * 48)).map { _ in 0.85 + noise.uniform(0.03) })
        XCTAssertEqual(image.binarizedSauvola(window: 15, k: 0.3).pixels.filter { $0 == 0 }.count, 0)
    }

    // MARK: Hysteresis (faint pencil strokes)

    func testGrowingKeepsFaintInkTouchingSureInkAndDropsLoneSpecks() {
        // Sure ink: one pixel at (1, 1). Faint ink: a chain from it to (4, 1) then diagonally to
        // (5, 2), and a lone speck at (8, 4) that touches nothing sure.
        let width = 10, height = 6
        func image(_ inked: [(Int, Int)]) -> GrayImage {
            var pixels = [Float](repeating: 1, count: width * height)
            for (x, y) in inked { pixels[y * width + x] = 0 }
            return GrayImage(width: width, height: height, pixels: pixels)
        }
        let sure = image([(1, 1)])
        let faint = image([(1, 1), (2, 1), (3, 1), (4, 1), (5, 2), (8, 4)])
        let grown = sure.grown(within: faint)
        let inked = Set(grown.pixels.indices.filter { grown.pixels[$0] == 0 }.map { [$0 % width, $0 / width] })
        XCTAssertEqual(inked, [[1, 1], [2, 1], [3, 1], [4, 1], [5, 2]])
        // Sure ink the faint image lacks stays ink; nothing grows from paper.
        XCTAssertEqual(image([(7, 0)]).grown(within: faint).pixels.filter { $0 == 0 }.count, 1)
        // Sure ink beside the lone speck takes it in.
        XCTAssertEqual(image([(7, 3)]).grown(within: faint).pixels.filter { $0 == 0 }.count, 2)
        XCTAssertEqual(image([]).grown(within: faint).pixels.filter { $0 == 0 }.count, 0)
    }

    func testHysteresisKeepsAFadingStrokeWholeWithoutThePapersSpecks() {
        // Flattened paper (1.0 +- 0.02) with a stroke whose darkness fades from 0.55 to 0.93 along
        // its length (a pencil 2's hook), and scattered single pixels at 0.93 (paper texture).
        let width = 120, height = 60
        var noise = PageNoise(state: 17)
        var pixels = (0..<(width * height)).map { _ in 1 + noise.uniform(0.02) }
        var stroke: [Int] = []
        for x in 20..<100 {
            let level = 0.55 + 0.38 * Float(x - 20) / 79
            for y in 28..<31 { pixels[y * width + x] = level; stroke.append(y * width + x) }
        }
        var specks: [Int] = []
        for i in stride(from: 5 * width + 7, to: 20 * width, by: 97) { pixels[i] = 0.93; specks.append(i) }
        let page = GrayImage(width: width, height: height, pixels: pixels)
        let window = 31
        let strict = page.binarizedSauvola(window: window, k: 0.12)
        let lax = page.binarizedSauvola(window: window, k: 0.01)
        let grown = strict.grown(within: lax)
        func inked(_ image: GrayImage, _ indices: [Int]) -> Int { indices.filter { image.pixels[$0] == 0 }.count }
        // The strict threshold loses the stroke's faint end, the lax one keeps it and the specks.
        XCTAssertLessThan(inked(strict, stroke), stroke.count * 9 / 10)
        XCTAssertEqual(inked(lax, stroke), stroke.count)
        XCTAssertGreaterThan(inked(lax, specks), specks.count / 2)
        // Grown from the strict ink: the whole stroke, none of the specks.
        XCTAssertEqual(inked(grown, stroke), stroke.count)
        XCTAssertEqual(inked(grown, specks), 0)
    }

    // MARK: Background flattening

    /// A photographed page: paper 0.9 and ink 0.1 (reflectances) under light that falls off from
    /// left to right and towards the bottom, with a wide shadowed fold across the middle.
    private func shadowedPage(width: Int = 480, height: Int = 480) -> (image: GrayImage, ink: [Bool]) {
        let ink = digitInkMask(width: width, height: height)
        var noise = PageNoise(state: 5)
        var pixels = [Float](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                let fold = 1 - 0.45 * exp(-pow(Float(y - height / 2) / 40, 2))
                let light = (1 - 0.55 * Float(x) / Float(width)) * (1 - 0.2 * Float(y) / Float(height)) * fold
                let reflectance: Float = ink[y * width + x] ? 0.1 : 0.9
                pixels[y * width + x] = min(max(reflectance * light + noise.uniform(0.01), 0), 1)
            }
        }
        return (GrayImage(width: width, height: height, pixels: pixels), ink)
    }

    func testFlatteningMakesShadowedPaperUniformAndKeepsInkDark() {
        let (page, ink) = shadowedPage()
        let flat = page.flattenedBackground(radius: 15)
        XCTAssertEqual(flat.width, page.width)
        XCTAssertEqual(flat.height, page.height)
        XCTAssertTrue(flat.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
        let paperBefore = zip(page.pixels, ink).filter { !$0.1 }.map { $0.0 }
        let paperAfter = zip(flat.pixels, ink).filter { !$0.1 }.map { $0.0 }
        let inkAfter = zip(flat.pixels, ink).filter { $0.1 }.map { $0.0 }
        let before = standardDeviation(paperBefore), after = standardDeviation(paperAfter)
        XCTAssertGreaterThan(before, 0.12, "the test page should be strongly shaded")
        XCTAssertLessThan(after, before / 5, "paper std \(before) -> \(after)")
        XCTAssertGreaterThan(mean(paperAfter), 0.95)
        XCTAssertLessThan(mean(inkAfter), 0.25)
        XCTAssertLessThan(inkAfter.max()!, 0.5)
        // And so a single global threshold now works on the whole page.
        let binary = flat.binarizedOtsu()
        let recall = Double(zip(binary.pixels, ink).filter { $0.1 && $0.0 == 0 }.count) / Double(ink.filter { $0 }.count)
        let falseInk = Double(zip(binary.pixels, ink).filter { !$0.1 && $0.0 == 0 }.count) / Double(paperAfter.count)
        XCTAssertGreaterThan(recall, 0.98)
        XCTAssertLessThan(falseInk, 0.002)
    }

    func testPaperBackgroundFollowsTheShadingNotTheInk() {
        let (page, ink) = shadowedPage()
        let background = page.paperBackground(radius: 15)
        // Under ink the estimate should be the surrounding paper (0.9 x light), not the ink (0.1 x light).
        var worst: Float = 0
        for y in stride(from: 20, to: 460, by: 7) {
            for x in stride(from: 20, to: 460, by: 7) {
                let fold = 1 - 0.45 * exp(-pow(Float(y - 240) / 40, 2))
                let light = (1 - 0.55 * Float(x) / 480) * (1 - 0.2 * Float(y) / 480) * fold
                worst = max(worst, abs(background[x, y] - 0.9 * light) / (0.9 * light))
            }
        }
        // Ink taken for background would be ~90% off. What remains is the closing's upper-envelope
        // bias: ~3% from the noise, up to ~12% at the bottom of the fold valley, which is not much
        // wider than the closing's reach.
        XCTAssertLessThan(worst, 0.15, "relative error of the paper estimate")
        XCTAssertTrue(ink.contains(true))
    }

    func testFlatteningTinyAndBlankImages() {
        let one = GrayImage(width: 1, height: 1, pixels: [0.4])
        XCTAssertEqual(one.flattenedBackground(radius: 30).width, 1)
        let blank = GrayImage(width: 50, height: 40, fill: 0.7)
        XCTAssertTrue(blank.flattenedBackground(radius: 10).pixels.allSatisfy { $0 > 0.99 })
        XCTAssertEqual(GrayImage(width: 3, height: 2, fill: 1).binarizedSauvola(window: 41, k: 0.3).pixels, [1, 1, 1, 1, 1, 1])
        // A window larger than the image is clipped to it: the whole image is one window.
        var dot = GrayImage(width: 30, height: 20, fill: 0.9)
        dot[10, 5] = 0.1
        let binary = dot.binarizedSauvola(window: 1001, k: 0.2)
        XCTAssertEqual(binary[10, 5], 0)
        XCTAssertEqual(binary.pixels.filter { $0 == 0 }.count, 1)
    }
}

final class CellCropTests: XCTestCase {
    /// A 40 x 20 crop: paper `paper`, a 6 x 12 block of ink `ink`, with a one-pixel edge of their mean.
    private func crop(paper: Float, ink: Float, edge: Bool = true) -> GrayImage {
        var image = GrayImage(width: 40, height: 20, fill: paper)
        if edge { for y in 3..<17 { for x in 10..<18 { image[x, y] = (paper + ink) / 2 } } }
        for y in 4..<16 { for x in 11..<17 { image[x, y] = ink } }
        return image
    }

    func testBinaryCropIsLeftAsItIs() {
        let binary = crop(paper: 1, ink: 0, edge: false)
        XCTAssertTrue(binary.isNearlyBinary())
        XCTAssertEqual(binary.cellCropWithPaperWhite().pixels, binary.pixels)
    }

    func testFadedCropGetsWhitePaperBlackInkAndKeepsItsEdgeShade() {
        let faded = crop(paper: 0.8, ink: 0.4)
        XCTAssertFalse(faded.isNearlyBinary())
        let restored = faded.cellCropWithPaperWhite()
        XCTAssertEqual(restored[0, 0], 1, accuracy: 1e-6)
        XCTAssertEqual(restored[13, 10], 0, accuracy: 1e-6)
        XCTAssertEqual(restored[10, 10], 0.5, accuracy: 1e-5)   // the edge: halfway, as before
        // Before, the paper (0.8, ink 0.2) was above the normaliser's 0.1: the whole box was digit.
        XCTAssertEqual(restored.inkMask().filter { $0 }.count, 6 * 12)
    }

    func testDarkPaperIsNoLongerInk() {
        let dark = crop(paper: 0.45, ink: 0.05)
        XCTAssertEqual(dark.inkMask().filter { $0 }.count, 40 * 20)   // as it was: all ink
        XCTAssertEqual(dark.cellCropWithPaperWhite().inkMask().filter { $0 }.count, 6 * 12)
    }

    func testLowContrastGrainIsBlankPaper() {
        var grain = GrayImage(width: 30, height: 20, fill: 0.7)
        for i in grain.pixels.indices where i % 7 == 0 { grain.pixels[i] = 0.62 }
        let restored = grain.cellCropWithPaperWhite()
        XCTAssertTrue(restored.pixels.allSatisfy { $0 == 1 })
    }
}
