import Foundation
import XCTest
import NeuralNet
import Recognition
@testable import Pipeline

/// `logbook run --adapt`: a run's digit model adapted on its checked readings, and the run read
/// again with it.
final class RunAdaptationTests: XCTestCase {
    override func setUp() { Threads.set(2) }

    /// One synthetic page read by a tiny random model (every cell `review`), its maximum, minimum
    /// and mean columns declared a midrange, so the checks see those cells and no others.
    func makeRun(_ name: String, overrides: [String] = []) throws -> (request: RunRequest, model: String) {
        let root = PipelineFixtures.temporaryFolder(self, name)
        try PipelineFixtures.writePages(PipelineFixtures.pageOptions(pages: 1, seed: 21), to: root + "/scans")
        try FileManager.default.moveItem(atPath: root + "/scans/truth.csv", toPath: root + "/truth.csv")
        let model = try PipelineFixtures.tinyModel(in: root)
        try "checks:\n  relations:\n    - {kind: midrange, columns: [1, 2, 3]}\n"
            .write(toFile: root + "/pipeline.yaml", atomically: true, encoding: .utf8)
        var request = PipelineFixtures.request(folder: root + "/run", scans: [root + "/scans"], model: model,
                                               pipeline: root + "/pipeline.yaml")
        request.overrides = overrides
        XCTAssertEqual(try PipelineRunner(request).run().finished, 1)
        return (request, model)
    }

    /// The adapted model is written into the run with where it came from, the first transcription
    /// is kept, the run read again with it reclassifies and names it, and a run read with an
    /// adapted model is not adapted again.
    func testARunIsAdaptedOnceAndReadAgainWithTheAdaptedModel() throws {
        var (request, model) = try makeRun("adapt")
        let run = request.folder
        let first = try String(contentsOfFile: run + "/transcription.csv", encoding: .utf8)
        let settings = CellAdaptation.Settings(steps: 2, batchSize: 8)
        guard case .adapted(let outcome) = try RunAdaptation.adapt(runFolder: run, settings: settings) else {
            return XCTFail("the run's checked readings adapt its model")
        }
        XCTAssertEqual(outcome.model, run + "/adaptation/adapted-digits.safetensors")
        XCTAssertEqual(outcome.adaptedFrom, model)
        XCTAssertGreaterThanOrEqual(outcome.digits, CellAdaptation.minimumDigits)
        XCTAssertEqual(try RunAdaptation.adaptedFrom(modelAt: outcome.model), model)
        XCTAssertNil(try RunAdaptation.adaptedFrom(modelAt: model))
        XCTAssertNotEqual(try SHA256.hex(fileAt: outcome.model), try SHA256.hex(fileAt: model), "the weights moved")
        XCTAssertEqual(try String(contentsOfFile: run + "/adaptation/first-transcription.csv", encoding: .utf8), first)

        request.modelPath = outcome.model
        let second = try PipelineRunner(request).run()
        XCTAssertEqual(second.ran[.classify], 1, "a new model reclassifies")
        XCTAssertNil(second.ran[.segment], "the pages are not cut again")
        XCTAssertEqual(try RunManifest.load(runFolder: run).model.path, outcome.model)
        // Started again with the model it was adapted from, the run keeps its adapted model.
        XCTAssertEqual(try RunAdaptation.adaptedModel(ofRun: run, from: model), outcome.model)
        try FileManager.default.copyItem(atPath: model, toPath: run + "/../same.safetensors")
        XCTAssertEqual(try RunAdaptation.adaptedModel(ofRun: run, from: run + "/../same.safetensors"), outcome.model)
        XCTAssertNil(try RunAdaptation.adaptedModel(ofRun: run, from: outcome.model))
        XCTAssertNil(try RunAdaptation.adaptedModel(ofRun: run + "/../nothing", from: model))

        guard case .notAdapted(let reason) = try RunAdaptation.adapt(runFolder: run, settings: settings) else {
            return XCTFail("a run read with an adapted model is not adapted again")
        }
        XCTAssertTrue(reason.contains("adapted from \(model) already"), reason)
    }

    /// Without the table checks no reading is checked, and the model is left as it was.
    func testARunWithoutTheChecksIsNotAdapted() throws {
        let (request, _) = try makeRun("unchecked", overrides: ["checks.enabled=false"])
        guard case .notAdapted(let reason) = try RunAdaptation.adapt(runFolder: request.folder, settings: .init(steps: 2, batchSize: 8)) else {
            return XCTFail("unchecked readings do not adapt")
        }
        XCTAssertTrue(reason.contains("arithmetic bore out no cell"), reason)
        XCTAssertFalse(FileManager.default.fileExists(atPath: request.folder + "/adaptation/adapted-digits.safetensors"))
    }

    /// With `checkedReadings` every cell read as a number that the table checks bear out (a check
    /// held there, none broke or was left in doubt) is harvested with its reading, `review` cells
    /// included (what `logbook adapt` learns a hand from); unchecked cells, and cells where a
    /// check broke or was doubted, never are. Without it a `review` cell never is: this fixture's
    /// tiny model reads every cell `review`, so there is nothing to harvest.
    func testHarvestOfCheckedReadingsTakesTheCellsTheChecksBearOutWithTheirReadings() throws {
        let run = try makeRun("harvest").request.folder
        let manifest = try RunManifest.load(runFolder: run)
        let readings = try ClassifyStage.load(record: manifest.pages[0], folder: RunFolder(run))
        var checked: [String: String] = [:], unchecked = 0, notBorneOut = 0
        for cell in readings.cells where ReviewText.isNumber(cell.value) && (cell.flag == .ok || cell.flag == .review) {
            XCTAssertEqual(cell.flag, .review)
            if cell.checksHeld == nil && cell.checksBroken == nil {
                unchecked += 1
            } else if cell.checksHeld != nil && cell.checksBroken == nil && cell.checksDoubted == nil {
                checked["\(cell.row)|\(cell.column)"] = cell.value
            } else {
                notBorneOut += 1
            }
        }
        XCTAssertGreaterThan(checked.count, 10)
        XCTAssertGreaterThan(unchecked, 0, "the fixture has numbers the checks did not see")
        XCTAssertGreaterThan(notBorneOut, 0, "the fixture has numbers whose checks broke or were doubted")
        XCTAssertThrowsError(try ReviewHarvest.harvest(runFolder: run, out: run + "/../ok", minConfidence: 0))
        let harvested = try ReviewHarvest.harvest(runFolder: run, out: run + "/../checked", checkedReadings: true)
        XCTAssertEqual(harvested.cells, checked.count)
        XCTAssertGreaterThan(harvested.report.written.reduce(0, +), 0)
        let cells = try CSVTable.load(path: run + "/../checked/cells/truth.csv")
        XCTAssertEqual(cells.rows.count, checked.count)
        for fields in cells.rows {
            let reading = try XCTUnwrap(checked[fields[cells.column("row")!] + "|" + fields[cells.column("column")!]], "\(fields)")
            XCTAssertEqual(fields[cells.column("value")!], reading, "\(fields)")
            XCTAssertEqual(fields[cells.column("flag")!], "review")
        }
    }
}
