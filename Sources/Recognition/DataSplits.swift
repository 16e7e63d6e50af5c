import Foundation

/// Train, validation and test sets assembled from `--data` sources: `standard` is the deduplicated
/// digit corpus with its own 70/20/10 split; every other source is split 70/20/10 by the same seed,
/// and the parts are concatenated. The same sources and seed always give the same split, which is
/// what lets `evaluate` test on images that training never saw.
public struct DataSplits: Sendable {
    public var train: DigitDataset
    public var validation: DigitDataset
    public var test: DigitDataset

    public static let fractions = [0.7, 0.2, 0.1]

    /// With `holdoutStation`, transcribed archival cells of that station form the test part alone and
    /// the other stations are split 80/20 into train and validation: how the model meets a new
    /// archive (leave-one-station-out). Other sources are split as usual.
    public static func load(sources: [String], splitSeed: UInt64, dataRoot: String? = nil,
                            holdoutStation: String? = nil) throws -> DataSplits {
        guard !sources.isEmpty else { throw DatasetError(path: "--data", kind: .unknownSource, problem: "no data sources given") }
        var result = DataSplits(train: DigitDataset(), validation: DigitDataset(), test: DigitDataset())
        for source in sources {
            let parts: [DigitDataset]
            if source == "standard" {
                let corpus = try DigitCorpus.standard(seed: splitSeed, dataRoot: dataRoot)
                parts = [corpus.train, corpus.validation, corpus.test]
            } else if let truthCSV = archivalTruthCSV(source, dataRoot: dataRoot) {
                // Real archival cells, cut into digits and labelled from their transcriptions.
                if let station = holdoutStation {
                    let cells = try ArchivalCells.readTruth(csv: truthCSV)
                    guard cells.contains(where: { $0.station == station }) else {
                        throw DatasetError(path: truthCSV, kind: .unknownSource, problem: "no cells of station \(station) to hold out")
                    }
                    let others = ArchivalCells.labelledDigits(truth: cells.filter { $0.station != station }).0
                    let held = ArchivalCells.labelledDigits(truth: cells.filter { $0.station == station }).0
                    let trainAndValidation = others.split(fractions: [0.8, 0.2], seed: splitSeed)
                    parts = [trainAndValidation[0], trainAndValidation[1], held]
                } else {
                    parts = try ArchivalCells.load(truthCSV: truthCSV).split(fractions: fractions, seed: splitSeed)
                }
            } else {
                let dataset = try DigitDataset.load(source: source, dataRoot: dataRoot)
                parts = dataset.split(fractions: fractions, seed: splitSeed)
            }
            result.train = result.train + parts[0]
            result.validation = result.validation + parts[1]
            result.test = result.test + parts[2]
        }
        return result
    }

    /// `meteosaver` names the dev cells beside the digit data; a path ending in `.csv` whose header
    /// starts with `image,value` is a transcription of cell images.
    static func archivalTruthCSV(_ source: String, dataRoot: String?) -> String? {
        if source == "meteosaver" {
            let root = URL(fileURLWithPath: DigitDataset.resolvedDataRoot(dataRoot))
            return root.deletingLastPathComponent().appendingPathComponent("archival/meteosaver-dev/truth.csv").path
        }
        guard source.hasSuffix(".csv"), let handle = FileHandle(forReadingAtPath: source) else { return nil }
        defer { try? handle.close() }
        let head = String(decoding: handle.readData(ofLength: 64), as: UTF8.self)
        return head.hasPrefix("image,value") ? source : nil
    }
}
