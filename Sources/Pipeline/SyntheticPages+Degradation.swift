import Foundation
import Imaging
import NeuralNet

// Synthetic pages, part 3: wear and scanning. The print and handwriting layers are laid on aged
// paper (tone, mottling, grain, specks), the ink fades and bleeds, stains and a fold mark the sheet;
// then the "scanner" turns it, lights it unevenly, blurs it slightly and adds sensor noise.
// Every effect is skipped at strength 0, so a clean page is exactly 1 - darkness x ink.

extension SyntheticPages {
    static func composePage(print: InkLayer, hand: InkLayer, writerDarkness: Float, rowHeight: Double,
                            degradation d: SyntheticDegradation,
                            rng: inout RandomGenerator) -> (image: GrayImage, paperTone: Float) {
        let width = print.width, height = print.height, count = width * height
        let scale = Double(max(width, height)) / 2200
        let paperStrength = Float(d.paper), fading = Float(d.fading)

        // Paper: tone, two octaves of mottling, grain.
        let tone: Float = 1 - paperStrength * rng.nextFloat(in: 0.07..<0.15)
        var paper = [Float](repeating: tone, count: count)
        if paperStrength > 0 {
            let coarse = valueNoise(width: width, height: height, cell: 420 * scale, rng: &rng)
            let fine = valueNoise(width: width, height: height, cell: 60 * scale, rng: &rng)
            let mottle = 0.045 * paperStrength, grain = 0.022 * paperStrength
            // Edges browned by handling: darker within a few percent of the border.
            let edge = paperStrength * rng.nextFloat(in: 0.02..<0.07)
            let reach = Float(0.04 * Double(min(width, height)))
            for y in 0..<height {
                let ey = Float(min(y, height - 1 - y))
                for x in 0..<width {
                    let i = y * width + x
                    let near = min(Float(min(x, width - 1 - x)), ey)
                    let browned = near < reach ? edge * (1 - near / reach) * (1 - near / reach) : 0
                    let g = rng.nextFloat() + rng.nextFloat() - 1
                    paper[i] = tone * (1 + mottle * (0.7 * coarse[i] + 0.3 * fine[i]) - browned) + grain * g
                }
            }
        }

        // Ink: darkness per page, fading across the page and along the strokes.
        let printDarkness: Float = 0.9 - fading * rng.nextFloat(in: 0.05..<0.25)
        let handDarkness: Float = writerDarkness * (1 - fading * rng.nextFloat(in: 0..<0.2))
        var handInk = hand.pixels
        if d.inkBleed > 0 {
            let blurred = boxBlur3(handInk, width: width, height: height)
            let gain = 1 + Float(d.inkBleed) * 0.7, soft = min(Float(d.inkBleed) * 0.5, 0.8)
            for i in 0..<count where blurred[i] > 0 {
                let spread = min(1, blurred[i] * gain)
                handInk[i] = max(handInk[i] * (1 - soft) + spread * soft, handInk[i] * 0.9 + spread * 0.1)
            }
        }
        var fadeHand: [Float]? = nil, fadePrint: [Float]? = nil
        if fading > 0 {
            let broad = valueNoise(width: width, height: height, cell: 500 * scale, rng: &rng)
            let local = valueNoise(width: width, height: height, cell: max(6, rowHeight * 0.35), rng: &rng)
            var hf = [Float](repeating: 1, count: count), pf = [Float](repeating: 1, count: count)
            for i in 0..<count {
                let b = 0.5 + 0.5 * broad[i], l = 0.5 + 0.5 * local[i]
                hf[i] = 1 - fading * (0.38 * b + 0.22 * l)
                pf[i] = 1 - fading * (0.22 * b + 0.12 * l)
            }
            fadeHand = hf
            fadePrint = pf
        }
        var pixels = paper
        for i in 0..<count {
            let p = print.pixels[i], h = handInk[i]
            if p == 0 && h == 0 { continue }
            let pd = printDarkness * p * (fadePrint?[i] ?? 1)
            let hd = handDarkness * h * (fadeHand?[i] ?? 1)
            pixels[i] *= (1 - pd) * (1 - hd)
        }
        var image = GrayImage(width: width, height: height, pixels: pixels)
        if paperStrength > 0 { addSpecks(&image, strength: d.paper, scale: scale, rng: &rng) }
        if d.stains > 0 { addStains(&image, strength: d.stains, scale: scale, rng: &rng) }
        if d.fold > 0 { addFold(&image, strength: d.fold, scale: scale, rng: &rng) }
        return (image, tone)
    }

    /// The scanner: skew (the page turned about its centre; corners brought in show plain paper),
    /// uneven light, optical blur and sensor noise, clamped to 0...1.
    static func scanPage(_ page: GrayImage, paperTone: Float, angle: Double, rowHeight: Double,
                         degradation d: SyntheticDegradation, rng: inout RandomGenerator) -> GrayImage {
        var image = page
        if angle != 0 {
            // rotated() fills what enters the frame with 1; shift so that 1 is the paper tone.
            let lift = 1 - paperTone
            var shifted = image
            for i in shifted.pixels.indices { shifted.pixels[i] += lift }
            image = shifted.rotated(degrees: angle)
            for i in image.pixels.indices { image.pixels[i] -= lift }
        }
        let width = image.width, height = image.height
        if d.unevenLight > 0 {
            let strength = Float(d.unevenLight)
            let direction = Double(rng.nextFloat()) * 2 * .pi
            let dx = Float(cos(direction)), dy = Float(sin(direction))
            let ramp = strength * rng.nextFloat(in: 0.03..<0.1)
            let vignette = strength * rng.nextFloat(in: 0.04..<0.12)
            let hx = Float(width) / 2, hy = Float(height) / 2
            let ox = hx * (1 + rng.nextFloat(in: -0.3..<0.3)), oy = hy * (1 + rng.nextFloat(in: -0.3..<0.3))
            // A bound logbook does not lie flat: a shadow along the gutter on some pages.
            var gutter = [Float](repeating: 0, count: width)
            if Double(rng.nextFloat()) < 0.4 * Double(min(strength, 1)) {
                let depth = strength * rng.nextFloat(in: 0.08..<0.25)
                let reach = Float(width) * rng.nextFloat(in: 0.015..<0.04)
                let fromLeft = rng.nextFloat() < 0.5
                for x in 0..<width {
                    let distance = Float(fromLeft ? x : width - 1 - x)
                    gutter[x] = depth * exp(-distance / reach)
                }
            }
            for y in 0..<height {
                let ny = (Float(y) - hy) / hy, vy = (Float(y) - oy) / hy
                for x in 0..<width {
                    let nx = (Float(x) - hx) / hx, vx = (Float(x) - ox) / hx
                    let light = 1 - ramp * (0.5 + 0.35 * (nx * dx + ny * dy)) - vignette * 0.5 * (vx * vx + vy * vy) - gutter[x]
                    image.pixels[y * width + x] *= light
                }
            }
        }
        if d.noise > 0 {
            let blurred = boxBlur3(image.pixels, width: width, height: height)
            let mix = min(Float(d.noise) * 0.45, 0.9)
            let sigma = Float(d.noise) * rng.nextFloat(in: 0.008..<0.018)
            for i in image.pixels.indices {
                let g = rng.nextFloat() + rng.nextFloat() + rng.nextFloat() - 1.5
                image.pixels[i] = image.pixels[i] * (1 - mix) + blurred[i] * mix + sigma * 2 * g
            }
        }
        for i in image.pixels.indices { image.pixels[i] = min(max(image.pixels[i], 0), 1) }
        return image
    }

    // MARK: Effects

    /// Smooth noise in about -1...1 varying over `cell` pixels: random values on a grid, blended
    /// with a smoothstep.
    static func valueNoise(width: Int, height: Int, cell: Double, rng: inout RandomGenerator) -> [Float] {
        let cell = max(cell, 2)
        let gw = Int(Double(width) / cell) + 2, gh = Int(Double(height) / cell) + 2
        var grid = [Float](repeating: 0, count: gw * gh)
        for i in grid.indices { grid[i] = rng.nextFloat() * 2 - 1 }
        var xi = [Int](repeating: 0, count: width), xf = [Float](repeating: 0, count: width)
        for x in 0..<width {
            let g = Double(x) / cell
            let i = Int(g)
            let f = Float(g - Double(i))
            xi[x] = i
            xf[x] = f * f * (3 - 2 * f)
        }
        var out = [Float](repeating: 0, count: width * height)
        for y in 0..<height {
            let g = Double(y) / cell
            let j = Int(g)
            var fy = Float(g - Double(j))
            fy = fy * fy * (3 - 2 * fy)
            let row0 = j * gw, row1 = (j + 1) * gw
            for x in 0..<width {
                let i = xi[x], fx = xf[x]
                let top = grid[row0 + i] + (grid[row0 + i + 1] - grid[row0 + i]) * fx
                let bottom = grid[row1 + i] + (grid[row1 + i + 1] - grid[row1 + i]) * fx
                out[y * width + x] = top + (bottom - top) * fy
            }
        }
        return out
    }

    /// 3x3 box blur, edges clamped.
    static func boxBlur3(_ pixels: [Float], width: Int, height: Int) -> [Float] {
        var horizontal = [Float](repeating: 0, count: pixels.count)
        for y in 0..<height {
            let base = y * width
            for x in 0..<width {
                let l = pixels[base + max(x - 1, 0)], c = pixels[base + x], r = pixels[base + min(x + 1, width - 1)]
                horizontal[base + x] = (l + c + r) * (1 / 3)
            }
        }
        var out = [Float](repeating: 0, count: pixels.count)
        for y in 0..<height {
            let up = max(y - 1, 0) * width, mid = y * width, down = min(y + 1, height - 1) * width
            for x in 0..<width { out[mid + x] = (horizontal[up + x] + horizontal[mid + x] + horizontal[down + x]) * (1 / 3) }
        }
        return out
    }

    /// Dust and foxing: small dark dots, a few of them larger and faint.
    static func addSpecks(_ image: inout GrayImage, strength: Double, scale: Double, rng: inout RandomGenerator) {
        let count = Int(Double(image.width * image.height) / 40_000 * strength)
        for _ in 0..<count {
            let x = Double(rng.nextInt(image.width)), y = Double(rng.nextInt(image.height))
            let foxing = rng.nextFloat() < 0.15
            let radius = foxing ? Double(rng.nextFloat(in: 2..<6)) * scale : Double(rng.nextFloat(in: 0.4..<1.3)) * scale
            let depth = foxing ? rng.nextFloat(in: 0.05..<0.15) : rng.nextFloat(in: 0.15..<0.6)
            let x0 = max(0, Int(x - radius - 1)), x1 = min(image.width - 1, Int(x + radius + 1))
            let y0 = max(0, Int(y - radius - 1)), y1 = min(image.height - 1, Int(y + radius + 1))
            guard x1 >= x0, y1 >= y0 else { continue }
            for py in y0...y1 {
                for px in x0...x1 {
                    let dx = Double(px) - x, dy = Double(py) - y
                    let coverage = Float(min(max(radius + 0.5 - (dx * dx + dy * dy).squareRoot(), 0), 1))
                    image.pixels[py * image.width + px] *= 1 - depth * coverage * Float(min(strength, 1.5))
                }
            }
        }
    }

    /// Water or tea stains: blotchy ellipses with an irregular edge, a faint body and a darker
    /// tide line.
    static func addStains(_ image: inout GrayImage, strength: Double, scale: Double, rng: inout RandomGenerator) {
        let count = Int((Double(rng.nextFloat()) * 3.5 * strength).rounded())
        let width = image.width, height = image.height
        for _ in 0..<count {
            let cx = Double(rng.nextFloat()) * Double(width), cy = Double(rng.nextFloat()) * Double(height)
            let rx = Double(rng.nextFloat(in: 0.025..<0.11)) * Double(width)
            let ry = rx * Double(rng.nextFloat(in: 0.5..<1.3))
            let angle = Double(rng.nextFloat()) * .pi
            let depth = Float(strength) * rng.nextFloat(in: 0.03..<0.1)
            let ring = Float(strength) * rng.nextFloat(in: 0.02..<0.08)
            // Edge wobble: three harmonics of the angle around the centre.
            var harmonics: [(Double, Double, Double)] = []
            for k in 2...4 {
                harmonics.append((Double(k) + Double(rng.nextFloat(in: 0..<3)), Double(rng.nextFloat()) * 2 * .pi,
                                  Double(rng.nextFloat(in: 0.03..<0.09))))
            }
            let c = cos(angle), s = sin(angle)
            let reach = max(rx, ry) * 1.35
            let x0 = max(0, Int(cx - reach)), x1 = min(width - 1, Int(cx + reach))
            let y0 = max(0, Int(cy - reach)), y1 = min(height - 1, Int(cy + reach))
            guard x1 > x0, y1 > y0 else { continue }
            let edgeWidth = 0.05 + 0.03 * Double(rng.nextFloat())
            // Blotchy body: the water carried the dirt unevenly.
            let boxWidth = x1 - x0 + 1
            let blotch = valueNoise(width: boxWidth, height: y1 - y0 + 1, cell: max(rx, ry) * 0.3, rng: &rng)
            for py in y0...y1 {
                for px in x0...x1 {
                    let dx = Double(px) - cx, dy = Double(py) - cy
                    let u = (c * dx + s * dy) / rx, v = (-s * dx + c * dy) / ry
                    let r = (u * u + v * v).squareRoot()
                    guard r < 1.3 else { continue }
                    let theta = atan2(v, u)
                    var edge = 1.0
                    for (k, phase, amplitude) in harmonics { edge += amplitude * sin(k * theta + phase) }
                    let t = r / edge
                    guard t < 1.05 else { continue }
                    let inside = Float(min(max((1.0 - t) / 0.04, 0), 1))
                    let tide = Float(exp(-pow((t - 0.97) / edgeWidth, 2)))
                    let body = 0.55 + 0.3 * Float(t) + 0.35 * blotch[(py - y0) * boxWidth + px - x0]
                    let darkening = depth * inside * max(body, 0) + ring * tide
                    image.pixels[py * width + px] *= 1 - darkening
                }
            }
        }
    }

    /// A fold: a shaded crease with a highlight beside it, and one half slightly darker (it did
    /// not lie flat on the glass).
    static func addFold(_ image: inout GrayImage, strength: Double, scale: Double, rng: inout RandomGenerator) {
        guard Double(rng.nextFloat()) < min(0.75 * strength, 1) else { return }
        let vertical = rng.nextFloat() < 0.4
        let width = image.width, height = image.height
        let length = vertical ? height : width, across = vertical ? width : height
        let position = Double(across) * Double(rng.nextFloat(in: 0.38..<0.62))
        let tilt = Double(rng.nextFloat(in: -0.01..<0.01))
        let crease = Float(strength) * rng.nextFloat(in: 0.06..<0.16)
        let highlight = Float(strength) * rng.nextFloat(in: 0.01..<0.04)
        let step = Float(strength) * rng.nextFloat(in: 0.015..<0.05)
        let sigma = Double(rng.nextFloat(in: 2..<5)) * scale
        let darkSide: Double = rng.nextFloat() < 0.5 ? -1 : 1
        for a in 0..<length {
            let centre = position + tilt * Double(a - length / 2)
            for b in 0..<across {
                let distance = Double(b) - centre
                var factor: Float = 1
                // The darker half fades in over a few crease widths.
                let side = 1 / (1 + exp(-darkSide * distance / (sigma * 3)))
                factor -= step * Float(side)
                let z = distance / sigma
                if abs(z) < 8 {
                    factor -= crease * Float(exp(-z * z))
                    factor += highlight * Float(exp(-pow(z + darkSide * 2.2, 2)))
                }
                let i = vertical ? a * width + b : b * width + a
                image.pixels[i] *= factor
            }
        }
    }
}
