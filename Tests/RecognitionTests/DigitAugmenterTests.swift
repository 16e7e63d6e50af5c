import Foundation
import NeuralNet
import XCTest
@testable import Recognition

final class DigitAugmenterTests: XCTestCase {
    private let dataset = syntheticDataset(perClass: 4, seed: 9)

    func testSameSeedSameImageOtherSeedOtherImage() {
        let image = dataset.image(at: 5)
        var a = RandomGenerator(seed: 1), b = RandomGenerator(seed: 1), c = RandomGenerator(seed: 2)
        var differing = 0
        for _ in 0..<10 {
            let first = DigitAugmenter.augment(image, rng: &a)
            XCTAssertEqual(first, DigitAugmenter.augment(image, rng: &b))
            if first != DigitAugmenter.augment(image, rng: &c) { differing += 1 }
        }
        XCTAssertGreaterThanOrEqual(differing, 9)
    }

    func testValuesStayInRangeAndDigitStaysRecognisable() {
        var rng = RandomGenerator(seed: 3)
        var total = 0.0, changed = 0, samples = 0
        for index in 0..<dataset.count {
            let image = dataset.image(at: index)
            for _ in 0..<4 {
                let augmented = DigitAugmenter.augment(image, rng: &rng)
                XCTAssertEqual(augmented.count, 64 * 64)
                XCTAssertTrue(augmented.allSatisfy { $0 >= 0 && $0 <= 1 })
                total += correlation(image, augmented)
                if augmented != image { changed += 1 }
                samples += 1
            }
        }
        XCTAssertGreaterThan(total / Double(samples), 0.3, "mean correlation with the original")
        XCTAssertGreaterThan(changed, samples * 9 / 10)
    }

    func testEveryStageChangesTheImageWithinRange() {
        let image = dataset.image(at: 12)
        var stages: [(String, AugmentationSettings)] = []
        func only(_ name: String, _ change: (inout AugmentationSettings) -> Void) {
            var settings = AugmentationSettings.none
            change(&settings)
            stages.append((name, settings))
        }
        only("affine") { $0.affineProbability = 1; $0.maxRotationDegrees = 8; $0.maxTranslation = 3; $0.minScale = 0.85; $0.maxScale = 1.1 }
        only("stroke") { $0.strokeProbability = 1 }
        only("rule") { $0.ruleProbability = 1 }
        only("specks") { $0.speckProbability = 1; $0.maxSpecks = 4 }
        only("blur") { $0.blurProbability = 1 }
        only("fade") { $0.fadeProbability = 1; $0.minInk = 0.45; $0.maxInk = 0.9 }
        only("binarize") { $0.binarizeProbability = 1; $0.minBinarizeLevel = 0.3; $0.maxBinarizeLevel = 0.6 }
        only("noise") { $0.noiseProbability = 1; $0.maxNoise = 0.1 }
        only("elastic") { $0.elasticProbability = 1; $0.elasticAlpha = 120; $0.elasticSigma = 9 }
        for (name, settings) in stages {
            XCTAssertFalse(settings.isIdentity, name)
            var rng = RandomGenerator(seed: 21)
            let augmented = DigitAugmenter.augment(image, settings: settings, rng: &rng)
            XCTAssertNotEqual(augmented, image, name)
            XCTAssertTrue(augmented.allSatisfy { $0 >= 0 && $0 <= 1 }, name)
            XCTAssertGreaterThan(correlation(image, augmented), 0.3, name)
        }
        var rng = RandomGenerator(seed: 21)
        let binary = DigitAugmenter.augment(image, settings: stages[6].1, rng: &rng)
        XCTAssertTrue(binary.allSatisfy { $0 == 0 || $0 == 1 }, "binarised like the pipeline")
    }

    func testNoneIsIdentity() {
        XCTAssertTrue(AugmentationSettings.none.isIdentity)
        XCTAssertFalse(AugmentationSettings.archival.isIdentity)
        var rng = RandomGenerator(seed: 4)
        XCTAssertEqual(DigitAugmenter.augment(dataset.image(at: 3), settings: .none, rng: &rng), dataset.image(at: 3))
        XCTAssertEqual(DigitAugmenter.augmentBatch(dataset, indices: [3, 7], settings: .none, seed: 1, epoch: 1),
                       dataset.tensor(for: [3, 7]))
    }

    func testBatchIsDeterministicPerImageEpochAndThreadCount() {
        let indices = [5, 0, 17, 33, 5, 21, 8, 39]
        let batch = DigitAugmenter.augmentBatch(dataset, indices: indices, seed: 11, epoch: 2)
        XCTAssertEqual(batch.shape, [8, 1, 64, 64])
        XCTAssertTrue(batch.data.allSatisfy { $0 >= 0 && $0 <= 1 })
        XCTAssertEqual(batch, DigitAugmenter.augmentBatch(dataset, indices: indices, seed: 11, epoch: 2))
        // Image 5 gets the same augmentation wherever it appears in a batch...
        XCTAssertEqual(Array(batch.data[0..<4096]), Array(batch.data[(4 * 4096)..<(5 * 4096)]))
        let alone = DigitAugmenter.augmentBatch(dataset, indices: [5], seed: 11, epoch: 2)
        XCTAssertEqual(alone.data, Array(batch.data[0..<4096]))
        // ...and another one in another epoch or run.
        XCTAssertNotEqual(DigitAugmenter.augmentBatch(dataset, indices: [5], seed: 11, epoch: 3).data, alone.data)
        XCTAssertNotEqual(DigitAugmenter.augmentBatch(dataset, indices: [5], seed: 12, epoch: 2).data, alone.data)

        let saved = Threads.count
        defer { Threads.set(saved) }
        Threads.set(1)
        let single = DigitAugmenter.augmentBatch(dataset, indices: indices, seed: 11, epoch: 2)
        Threads.set(2)
        XCTAssertEqual(single, DigitAugmenter.augmentBatch(dataset, indices: indices, seed: 11, epoch: 2))
    }

    func testBatchFromGeneratorState() {
        var a = RandomGenerator(seed: 5), b = RandomGenerator(seed: 5)
        let first = DigitAugmenter.augmentBatch(dataset, indices: [1, 2, 3], rng: &a)
        XCTAssertEqual(first, DigitAugmenter.augmentBatch(dataset, indices: [1, 2, 3], rng: &b))
        XCTAssertEqual(a.stateWords, b.stateWords)
        XCTAssertNotEqual(first, DigitAugmenter.augmentBatch(dataset, indices: [1, 2, 3], rng: &a), "the generator advanced")
    }

    func testSettingsRoundTripThroughJSON() throws {
        var settings = AugmentationSettings.archival
        settings.ruleProbability = 0.5
        let decoded = try JSONDecoder().decode(AugmentationSettings.self, from: JSONEncoder().encode(settings))
        XCTAssertEqual(decoded, settings)
        let elastic = try JSONDecoder().decode(AugmentationSettings.self, from: JSONEncoder().encode(AugmentationSettings.archivalElastic))
        XCTAssertEqual(elastic, .archivalElastic)
        XCTAssertEqual(elastic.elasticProbability, 0.5)
    }

    /// A settings file written before elastic distortion existed (a run to resume) still loads, without it.
    func testSettingsWithoutElasticKeysLoad() throws {
        var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(AugmentationSettings.archivalElastic)) as! [String: Any]
        XCTAssertNotNil(object["elasticAlpha"])
        object = object.filter { !$0.key.hasPrefix("elastic") }
        let decoded = try JSONDecoder().decode(AugmentationSettings.self, from: JSONSerialization.data(withJSONObject: object))
        XCTAssertEqual(decoded, .archival)
        XCTAssertNil(decoded.elasticProbability)
    }

    /// Elastic distortion bends strokes by a few pixels: it moves ink (an affine warp would move it
    /// too, but uniformly), keeps about as much of it, and grows with alpha; alpha 0 changes nothing.
    func testElasticDistortionBendsLocallyAndKeepsInk() {
        // A vertical bar, 4 pixels wide, down the middle of the field.
        var bar = [Float](repeating: 0, count: 64 * 64)
        for y in 8..<56 { for x in 30..<34 { bar[y * 64 + x] = 1 } }
        var rng = RandomGenerator(seed: 8)
        var still = bar
        DigitAugmenter.elastic(&still, alpha: 0, sigma: 9, &rng)
        XCTAssertEqual(still, bar)
        func centres(_ image: [Float]) -> [Float] {
            (8..<56).map { y in
                let row = (0..<64).map { image[y * 64 + $0] }
                let mass = row.reduce(0, +)
                return mass > 0 ? zip(row, 0...).map { $0 * Float($1) }.reduce(0, +) / mass : 31.5
            }
        }
        func meanShift(alpha: Float, seed: UInt64) -> (shift: Float, bend: Float, ink: Float) {
            var image = bar, rng = RandomGenerator(seed: seed)
            DigitAugmenter.elastic(&image, alpha: alpha, sigma: 9, &rng)
            let c = centres(image)
            let shift = c.map { abs($0 - 31.5) }.reduce(0, +) / Float(c.count)
            // Bend: how far the bar's centre line strays from the straight line through its ends.
            let bend = c.indices.map { abs(c[$0] - (c[0] + (c[c.count - 1] - c[0]) * Float($0) / Float(c.count - 1))) }.max()!
            return (shift, bend, image.reduce(0, +) / bar.reduce(0, +))
        }
        var weak: Float = 0, strong: Float = 0, bent = 0, ink: Float = 0
        for seed in UInt64(1)...8 {
            let a = meanShift(alpha: 40, seed: seed), b = meanShift(alpha: 120, seed: seed)
            weak += a.shift
            strong += b.shift
            if b.bend > 0.5 { bent += 1 }
            // Stretched or squeezed strokes gain or lose some ink; on average it is kept.
            XCTAssertEqual(b.ink, 1, accuracy: 0.5, "ink kept")
            ink += b.ink
        }
        XCTAssertEqual(ink / 8, 1, accuracy: 0.2, "ink kept on average")
        XCTAssertGreaterThan(strong, weak, "alpha scales the displacement")
        XCTAssertGreaterThan(strong / 8, 0.5, "pixels move")
        XCTAssertLessThan(strong / 8, 6, "a few pixels, not a scramble")
        XCTAssertGreaterThanOrEqual(bent, 6, "the bar bends, not only shifts")
    }
}
