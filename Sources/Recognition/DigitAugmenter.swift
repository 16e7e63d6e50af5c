import Foundation
import Imaging
import NeuralNet

/// How strongly `DigitAugmenter` roughens clean digits. Each stage fires with its own probability
/// per image and then draws its strength uniformly from its range. Saved with training settings
/// (Codable), so a model card can say exactly what the network saw.
public struct AugmentationSettings: Codable, Equatable, Sendable {
    /// Chance of a random affine warp (rotation, shear, scale, translation) per image.
    public var affineProbability: Float
    /// Rotation range, +- degrees. Logbook hands lean a little, rarely more than this.
    public var maxRotationDegrees: Float
    /// Horizontal shear range, +- (x shifts by shear * y): italic and upright hands.
    public var maxShear: Float
    /// Overall scale range (1 = the normaliser's 48-pixel box).
    public var minScale: Float
    public var maxScale: Float
    /// Extra relative stretch of one axis, +-: narrow and wide writers.
    public var maxAspectChange: Float
    /// Translation range, +- pixels on each axis: imperfect centring of digits cut from cells.
    public var maxTranslation: Float

    /// Chance of thickening or thinning strokes by one pixel (grey dilation or erosion), half each:
    /// different pens and nibs.
    public var strokeProbability: Float
    /// Chance of a ruling-line fragment near an edge, as when a cell crop catches the table rules.
    public var ruleProbability: Float
    /// Chance of ink specks on the paper and small gaps in the strokes (dust, paper grain, dry pen).
    public var speckProbability: Float
    /// Largest number of specks and of gaps per image.
    public var maxSpecks: Int
    /// Chance of a blur (one or two 3x3 binomial passes): out-of-focus photos, ink bleeding.
    public var blurProbability: Float
    /// Chance of fading: ink intensity scaled into `minInk...maxInk`, possibly unevenly across the digit.
    public var fadeProbability: Float
    public var minInk: Float
    public var maxInk: Float
    /// Chance of binarising at a random level like the scan pipeline's thresholding does (then no
    /// grey noise is added: binarised cells have none).
    public var binarizeProbability: Float
    /// Threshold range, as a fraction of the image's brightest ink.
    public var minBinarizeLevel: Float
    public var maxBinarizeLevel: Float
    /// Chance of Gaussian pixel noise, with a standard deviation up to `maxNoise`.
    public var noiseProbability: Float
    public var maxNoise: Float
    /// Chance of an elastic distortion (Simard et al. 2003): every pixel moved along a smooth
    /// random field, so one writer's loops and strokes bend the way another writer's do; affine
    /// warps alone cannot open a 4's top or close a 9's. Optional so that older settings files,
    /// written before it existed, still load (absent: never).
    public var elasticProbability: Float? = nil
    /// Scale of the smoothed random field. Smoothing shrinks its spread to about 0.58 / (2 sigma
    /// sqrt(pi)), so with sigma 9, alpha 120 moves pixels by about 2 pixels (standard deviation).
    public var elasticAlpha: Float? = nil
    /// Smoothing of the random field (Gaussian sigma, pixels): larger bends whole strokes, smaller wiggles them.
    public var elasticSigma: Float? = nil

    public init(affineProbability: Float, maxRotationDegrees: Float, maxShear: Float, minScale: Float,
                maxScale: Float, maxAspectChange: Float, maxTranslation: Float, strokeProbability: Float,
                ruleProbability: Float, speckProbability: Float, maxSpecks: Int, blurProbability: Float,
                fadeProbability: Float, minInk: Float, maxInk: Float, binarizeProbability: Float,
                minBinarizeLevel: Float, maxBinarizeLevel: Float, noiseProbability: Float, maxNoise: Float) {
        self.affineProbability = affineProbability
        self.maxRotationDegrees = maxRotationDegrees
        self.maxShear = maxShear
        self.minScale = minScale
        self.maxScale = maxScale
        self.maxAspectChange = maxAspectChange
        self.maxTranslation = maxTranslation
        self.strokeProbability = strokeProbability
        self.ruleProbability = ruleProbability
        self.speckProbability = speckProbability
        self.maxSpecks = maxSpecks
        self.blurProbability = blurProbability
        self.fadeProbability = fadeProbability
        self.minInk = minInk
        self.maxInk = maxInk
        self.binarizeProbability = binarizeProbability
        self.minBinarizeLevel = minBinarizeLevel
        self.maxBinarizeLevel = maxBinarizeLevel
        self.noiseProbability = noiseProbability
        self.maxNoise = maxNoise
    }

    /// The default: makes clean MNIST-style digits look like pen digits cut from photographed,
    /// binarised logbook tables. Each stage is moderate and most images get only a few stages, so
    /// the digit stays recognisable.
    public static let archival = AugmentationSettings(
        affineProbability: 0.9, maxRotationDegrees: 8, maxShear: 0.2, minScale: 0.85, maxScale: 1.1,
        maxAspectChange: 0.1, maxTranslation: 3,
        strokeProbability: 0.4, ruleProbability: 0.25, speckProbability: 0.3, maxSpecks: 5,
        blurProbability: 0.3, fadeProbability: 0.4, minInk: 0.45, maxInk: 1,
        binarizeProbability: 0.3, minBinarizeLevel: 0.25, maxBinarizeLevel: 0.6,
        noiseProbability: 0.4, maxNoise: 0.08)

    /// `archival` plus elastic distortion on half the images: more writers than the corpus has.
    public static let archivalElastic: AugmentationSettings = {
        var settings = archival
        settings.elasticProbability = 0.5
        settings.elasticAlpha = 120
        settings.elasticSigma = 9
        return settings
    }()

    /// No augmentation: images pass through unchanged (validation, evaluation, ablations).
    public static let none = AugmentationSettings(
        affineProbability: 0, maxRotationDegrees: 0, maxShear: 0, minScale: 1, maxScale: 1,
        maxAspectChange: 0, maxTranslation: 0,
        strokeProbability: 0, ruleProbability: 0, speckProbability: 0, maxSpecks: 0,
        blurProbability: 0, fadeProbability: 0, minInk: 1, maxInk: 1,
        binarizeProbability: 0, minBinarizeLevel: 0.5, maxBinarizeLevel: 0.5,
        noiseProbability: 0, maxNoise: 0)

    /// True when no stage can fire, so batches can be copied straight through.
    public var isIdentity: Bool {
        affineProbability <= 0 && strokeProbability <= 0 && ruleProbability <= 0 && speckProbability <= 0
            && blurProbability <= 0 && fadeProbability <= 0 && binarizeProbability <= 0 && noiseProbability <= 0
            && (elasticProbability ?? 0) <= 0
    }
}

/// Roughens clean, normalised digits (64 x 64 ink maps, see `DigitNormalizer`) so that a network
/// trained on MNIST-style digits copes with archival ones: slanted and resized hands, thick and
/// thin pens, faded ink, blur, paper noise, table rules cut into the cell, binarisation.
///
/// Deterministic: the same generator state gives the same image. Batches derive one generator per
/// image from (seed, epoch, index), so the result does not depend on how many threads ran it.
public enum DigitAugmenter {
    static let side = DigitNormalizer.side

    /// One augmented copy of a normalised digit (`side * side` values, ink = 1); values stay in 0...1.
    public static func augment(_ image: [Float], settings: AugmentationSettings = .archival,
                               rng: inout RandomGenerator) -> [Float] {
        precondition(image.count == side * side, "DigitAugmenter: \(image.count) values, expected \(side * side)")
        var result = image
        if !settings.isIdentity { apply(settings, to: &result, rng: &rng) }
        return result
    }

    /// A training batch shaped (n, 1, side, side): the images at `indices`, each augmented with its
    /// own generator derived from (seed, epoch, dataset index). The same image in the same epoch
    /// always gets the same augmentation, whatever batch or thread it falls in; another epoch
    /// gets another.
    public static func augmentBatch(_ dataset: DigitDataset, indices: [Int], settings: AugmentationSettings = .archival,
                                    seed: UInt64, epoch: Int) -> Tensor {
        augmentBatch(dataset, indices: indices, settings: settings) { _, index in
            imageGenerator(seed: seed, epoch: epoch, index: index)
        }
    }

    /// A training batch shaped (n, 1, side, side), deterministic for a given state of `rng`: one
    /// value is drawn from `rng` (advancing it) and each image's generator is derived from that and
    /// the image's position in the batch.
    public static func augmentBatch(_ dataset: DigitDataset, indices: [Int], settings: AugmentationSettings = .archival,
                                    rng: inout RandomGenerator) -> Tensor {
        let batchSeed = rng.next()
        return augmentBatch(dataset, indices: indices, settings: settings) { position, _ in
            imageGenerator(seed: batchSeed, epoch: 0, index: position)
        }
    }

    /// The generator `augmentBatch(_:indices:settings:seed:epoch:)` uses for dataset image `index`.
    public static func imageGenerator(seed: UInt64, epoch: Int, index: Int) -> RandomGenerator {
        let mixed = mix64(mix64(mix64(seed) ^ UInt64(bitPattern: Int64(epoch))) ^ UInt64(bitPattern: Int64(index)))
        return RandomGenerator(seed: mixed)
    }

    private static func augmentBatch(_ dataset: DigitDataset, indices: [Int], settings: AugmentationSettings,
                                     generator: (_ position: Int, _ index: Int) -> RandomGenerator) -> Tensor {
        var batch = dataset.tensor(for: indices)
        if settings.isIdentity || indices.isEmpty { return batch }
        let size = side * side
        batch.data.withUnsafeMutableBufferPointer { data in
            let base = data.baseAddress!
            Threads.forEachChunk(indices.count, minimumPerChunk: 4) { range in
                var work = [Float](repeating: 0, count: size)
                for position in range {
                    let slot = UnsafeMutableBufferPointer(start: base + position * size, count: size)
                    for i in 0..<size { work[i] = slot[i] }
                    var rng = generator(position, indices[position])
                    apply(settings, to: &work, rng: &rng)
                    for i in 0..<size { slot[i] = work[i] }
                }
            }
        }
        return batch
    }

    /// SplitMix64's finaliser: spreads nearby inputs (consecutive indices) over unrelated seeds.
    static func mix64(_ value: UInt64) -> UInt64 {
        var x = value &+ 0x9E37_79B9_7F4A_7C15
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
        return x ^ (x >> 31)
    }

    // MARK: - Stages

    /// Runs the stages in the order an archival digit acquires them: the hand (geometry, pen
    /// width), the table and paper (rules, specks), the capture (blur, fading), then either the
    /// pipeline's binarisation or sensor noise.
    static func apply(_ settings: AugmentationSettings, to image: inout [Float], rng: inout RandomGenerator) {
        if chance(settings.affineProbability, &rng) { warp(&image, settings, &rng) }
        if let probability = settings.elasticProbability, chance(probability, &rng) {
            elastic(&image, alpha: settings.elasticAlpha ?? 0, sigma: settings.elasticSigma ?? 8, &rng)
        }
        if chance(settings.strokeProbability, &rng) {
            morphology(&image, thicken: rng.nextFloat() < 0.5, square: rng.nextFloat() < 0.5)
        }
        if chance(settings.ruleProbability, &rng) {
            drawRule(&image, &rng)
            if rng.nextFloat() < 0.25 { drawRule(&image, &rng) }
        }
        if chance(settings.speckProbability, &rng) { addSpecks(&image, maxCount: settings.maxSpecks, &rng) }
        if chance(settings.blurProbability, &rng) {
            blur(&image)
            if rng.nextFloat() < 0.3 { blur(&image) }
        }
        if chance(settings.fadeProbability, &rng) { fade(&image, settings, &rng) }
        if chance(settings.binarizeProbability, &rng) {
            binarize(&image, level: uniform(settings.minBinarizeLevel, settings.maxBinarizeLevel, &rng))
        } else if chance(settings.noiseProbability, &rng) {
            addNoise(&image, deviation: uniform(0, settings.maxNoise, &rng), &rng)
        }
        for i in 0..<image.count { image[i] = min(max(image[i], 0), 1) }
    }

    @inline(__always) static func chance(_ probability: Float, _ rng: inout RandomGenerator) -> Bool {
        probability > 0 && rng.nextFloat() < probability
    }

    @inline(__always) static func uniform(_ low: Float, _ high: Float, _ rng: inout RandomGenerator) -> Float {
        high > low ? low + rng.nextFloat() * (high - low) : low
    }

    /// Rotation, shear, (anisotropic) scale and translation about the field's centre, resampled
    /// bilinearly with background (0) coming in from outside.
    static func warp(_ image: inout [Float], _ settings: AugmentationSettings, _ rng: inout RandomGenerator) {
        let angle = Double(uniform(-settings.maxRotationDegrees, settings.maxRotationDegrees, &rng)) * .pi / 180
        let shear = Double(uniform(-settings.maxShear, settings.maxShear, &rng))
        let scale = Double(uniform(settings.minScale, settings.maxScale, &rng))
        let aspect = Double(uniform(-settings.maxAspectChange, settings.maxAspectChange, &rng))
        let shiftX = Double(uniform(-settings.maxTranslation, settings.maxTranslation, &rng))
        let shiftY = Double(uniform(-settings.maxTranslation, settings.maxTranslation, &rng))
        // Forward map: p' = R * H * S * (p - c) + c + t.
        let sx = scale * (1 + aspect), sy = scale * (1 - aspect)
        let cosA = cos(angle), sinA = sin(angle)
        // H * S = [[sx, shear * sy], [0, sy]]
        let hs = (sx, shear * sy, 0.0, sy)
        let a = cosA * hs.0 - sinA * hs.2, b = cosA * hs.1 - sinA * hs.3
        let d = sinA * hs.0 + cosA * hs.2, e = sinA * hs.1 + cosA * hs.3
        let centre = Double(side - 1) / 2
        let c = centre + shiftX - (a * centre + b * centre)
        let f = centre + shiftY - (d * centre + e * centre)
        guard let inverse = invertedAffine((a, b, c, d, e, f)) else { return }
        image = GrayImage(width: side, height: side, pixels: image)
            .warpedAffine(inverse, width: side, height: side, fill: 0).pixels
    }

    /// Elastic distortion: a random displacement per pixel (uniform in -1...1 on each axis),
    /// smoothed by a Gaussian of `sigma` and scaled by `alpha`, then bilinear resampling.
    static func elastic(_ image: inout [Float], alpha: Float, sigma: Float, _ rng: inout RandomGenerator) {
        guard alpha > 0, sigma > 0 else { return }
        let n = side, count = n * n
        // kernel: (2 * reach + 1), normalised
        let reach = max(1, Int((3 * sigma).rounded(.up)))
        var kernel = (-reach...reach).map { exp(-Float($0 * $0) / (2 * sigma * sigma)) }
        let total = kernel.reduce(0, +)
        for i in kernel.indices { kernel[i] /= total }
        func smoothed(_ field: [Float]) -> [Float] {
            // Separable, edges clamped; rows then columns.
            var rows = [Float](repeating: 0, count: count), result = rows
            for y in 0..<n {
                for x in 0..<n {
                    var sum: Float = 0
                    for k in -reach...reach { sum += kernel[k + reach] * field[y * n + min(max(x + k, 0), n - 1)] }
                    rows[y * n + x] = sum
                }
            }
            for y in 0..<n {
                for x in 0..<n {
                    var sum: Float = 0
                    for k in -reach...reach { sum += kernel[k + reach] * rows[min(max(y + k, 0), n - 1) * n + x] }
                    result[y * n + x] = sum
                }
            }
            return result
        }
        let dx = smoothed((0..<count).map { _ in uniform(-1, 1, &rng) })
        let dy = smoothed((0..<count).map { _ in uniform(-1, 1, &rng) })
        // Smoothing shrinks the field's spread by about 1 / (2 sigma sqrt(pi)): alpha must be large.
        let source = GrayImage(width: n, height: n, pixels: image)
        for y in 0..<n {
            for x in 0..<n {
                image[y * n + x] = source.bilinearSample(x: Double(Float(x) + alpha * dx[y * n + x]),
                                                         y: Double(Float(y) + alpha * dy[y * n + x]), fill: 0)
            }
        }
    }

    /// Grey dilation (thicker strokes) or erosion (thinner) by one pixel, with a 3x3 square or a
    /// plus-shaped neighbourhood (the plus changes width less on diagonals).
    static func morphology(_ image: inout [Float], thicken: Bool, square: Bool) {
        let n = side
        var result = image
        image.withUnsafeBufferPointer { source in
            for y in 0..<n {
                for x in 0..<n {
                    var value = source[y * n + x]
                    for dy in -1...1 {
                        let yy = y + dy
                        if yy < 0 || yy >= n { continue }
                        for dx in -1...1 {
                            if !square && dx != 0 && dy != 0 { continue }
                            let xx = x + dx
                            if xx < 0 || xx >= n { continue }
                            let neighbour = source[yy * n + xx]
                            value = thicken ? max(value, neighbour) : min(value, neighbour)
                        }
                    }
                    result[y * n + x] = value
                }
            }
        }
        image = result
    }

    /// A straight ink line near one edge of the field, partly or wholly across it, slightly
    /// slanted, 1-3 pixels thick: what a cell crop catches of the table's printed or ruled lines.
    static func drawRule(_ image: inout [Float], _ rng: inout RandomGenerator) {
        let n = Float(side)
        let horizontal = rng.nextFloat() < 0.5
        let nearStart = rng.nextFloat() < 0.5
        let distance = uniform(0, 7, &rng)
        let position = nearStart ? distance : n - 1 - distance
        let thickness = uniform(0.8, 3, &rng)
        let slant = uniform(-1.5, 1.5, &rng) / n
        let from = rng.nextFloat() < 0.5 ? 0 : uniform(0, 0.5, &rng) * n
        let to = from + uniform(0.3, 1, &rng) * (n - from)
        let intensity = uniform(0.6, 1, &rng)
        for along in 0..<side {
            let t = Float(along)
            if t < from || t > to { continue }
            let centre = position + slant * (t - n / 2)
            let low = Int((centre - thickness / 2 - 1).rounded(.down)), high = Int((centre + thickness / 2 + 1).rounded(.up))
            for across in max(0, low)...min(side - 1, max(0, high)) {
                // Anti-aliased edge: full ink inside, linear fall-off over one pixel.
                let coverage = min(max(thickness / 2 + 0.5 - abs(Float(across) - centre), 0), 1)
                if coverage <= 0 { continue }
                let index = horizontal ? across * side + along : along * side + across
                image[index] = max(image[index], coverage * intensity)
            }
        }
    }

    /// Small ink dots on the paper and small gaps in the strokes.
    static func addSpecks(_ image: inout [Float], maxCount: Int, _ rng: inout RandomGenerator) {
        guard maxCount > 0 else { return }
        let specks = 1 + rng.nextInt(maxCount), gaps = rng.nextInt(maxCount + 1)
        for number in 0..<(specks + gaps) {
            let isSpeck = number < specks
            let cx = uniform(1, Float(side - 2), &rng), cy = uniform(1, Float(side - 2), &rng)
            let radius = uniform(0.5, isSpeck ? 1.6 : 2.2, &rng)
            let value = uniform(0.5, 1, &rng)
            let reach = Int(radius.rounded(.up))
            let x0 = Int(cx), y0 = Int(cy)
            for y in max(0, y0 - reach)...min(side - 1, y0 + reach) {
                for x in max(0, x0 - reach)...min(side - 1, x0 + reach) {
                    let dx = Float(x) - cx, dy = Float(y) - cy
                    let coverage = min(max(radius + 0.5 - (dx * dx + dy * dy).squareRoot(), 0), 1)
                    if coverage <= 0 { continue }
                    let index = y * side + x
                    image[index] = isSpeck ? max(image[index], coverage * value) : image[index] * (1 - coverage)
                }
            }
        }
    }

    /// One pass of the separable [1 2 1] / 4 kernel in each direction (a small Gaussian, sigma about 0.7).
    static func blur(_ image: inout [Float]) {
        let n = side
        var rows = image
        image.withUnsafeBufferPointer { source in
            for y in 0..<n {
                let row = y * n
                for x in 0..<n {
                    let left = source[row + max(x - 1, 0)], right = source[row + min(x + 1, n - 1)]
                    rows[row + x] = 0.25 * left + 0.5 * source[row + x] + 0.25 * right
                }
            }
        }
        for y in 0..<n {
            let up = max(y - 1, 0) * n, down = min(y + 1, n - 1) * n, row = y * n
            for x in 0..<n { image[row + x] = 0.25 * rows[up + x] + 0.5 * rows[row + x] + 0.25 * rows[down + x] } }
    }

    /// Scales ink intensity into minInk...maxInk; half the time the factor varies linearly across
    /// the digit (uneven pressure, a drying pen, light falling across the page).
    static func fade(_ image: inout [Float], _ settings: AugmentationSettings, _ rng: inout RandomGenerator) {
        let first = uniform(settings.minInk, settings.maxInk, &rng)
        let second = rng.nextFloat() < 0.5 ? uniform(settings.minInk, settings.maxInk, &rng) : first
        let angle = rng.nextFloat() * 2 * Float.pi
        let ux = cos(angle) / Float(side), uy = sin(angle) / Float(side)
        let centre = Float(side - 1) / 2
        for y in 0..<side {
            for x in 0..<side {
                // t in about -0.7...0.7 along the gradient's direction.
                let t = (Float(x) - centre) * ux + (Float(y) - centre) * uy + 0.5
                let factor = first + (second - first) * min(max(t, 0), 1)
                image[y * side + x] *= factor
            }
        }
    }

    /// Hard thresholding at `level` times the brightest ink, like the scan pipeline's binarisation.
    static func binarize(_ image: inout [Float], level: Float) {
        let peak = image.max() ?? 0
        guard peak > 0 else { return }
        let threshold = level * peak
        for i in 0..<image.count { image[i] = image[i] > threshold ? 1 : 0 }
    }

    /// Additive noise, approximately Gaussian (a sum of four uniforms: one generator call per pixel
    /// instead of a logarithm and a cosine).
    static func addNoise(_ image: inout [Float], deviation: Float, _ rng: inout RandomGenerator) {
        guard deviation > 0 else { return }
        // Sum of 4 U(0,1) has mean 2 and variance 1/3.
        let scale = deviation * Float(3).squareRoot() / 65536
        for i in 0..<image.count {
            let bits = rng.next()
            let sum = Float(bits & 0xFFFF) + Float((bits >> 16) & 0xFFFF) + Float((bits >> 32) & 0xFFFF) + Float(bits >> 48)
            image[i] += (sum - 2 * 65536) * scale
        }
    }
}
