import Foundation
import XCTest
import NeuralNet
import Recognition
@testable import Pipeline

/// The review loop on one small synthetic page read by a tiny random model (so most cells are
/// flagged): review export, corrections import (and its refusals), JSON/SEF exports, harvest.
final class ReviewTests: XCTestCase {
    override func setUp() { Threads.set(2) }

    /// A finished run and the page's truth (kept outside the scans folder).
    func makeRun() throws -> (run: String, truth: CSVTable, model: String, scans: String) {
        let root = PipelineFixtures.temporaryFolder(self, "review")
        try PipelineFixtures.writePages(PipelineFixtures.pageOptions(pages: 1, seed: 21), to: root + "/scans")
        try FileManager.default.moveItem(atPath: root + "/scans/truth.csv", toPath: root + "/truth.csv")
        let model = try PipelineFixtures.tinyModel(in: root)
        let outcome = try PipelineRunner(PipelineFixtures.request(folder: root + "/run", scans: [root + "/scans"], model: model)).run()
        XCTAssertEqual(outcome.finished, 1)
        return (root + "/run", try CSVTable.load(path: root + "/truth.csv"), model, root + "/scans")
    }

    /// sha256 of every file under the run folder.
    func checksums(_ folder: String) throws -> [String: String] {
        var sums: [String: String] = [:]
        for file in PipelineFixtures.files(under: folder) { sums[file] = try SHA256.hex(fileAt: folder + "/" + file) }
        return sums
    }

    /// review.csv with the truth's value in `value` for each listed cell.
    func corrections(from review: CSVTable, truth: CSVTable) -> (text: String, changed: Int) {
        var truthOf: [String: String] = [:]
        for row in truth.rows { truthOf["\(row[0])|\(row[1])|\(row[2])"] = row[3] }
        let page = review.column("page")!, row = review.column("row")!, column = review.column("column")!
        let value = review.column("value")!, reading = review.column("reading")!
        var changed = 0
        let rows = review.rows.map { fields -> [String] in
            var fields = fields
            fields[value] = truthOf["\(fields[page])|\(fields[row])|\(fields[column])"] ?? ""
            if !fields[value].isEmpty && fields[value] != fields[reading] { changed += 1 }
            return fields
        }
        let text = ([review.header] + rows).map { $0.map(SyntheticPages.csvField).joined(separator: ",") }.joined(separator: "\n") + "\n"
        return (text, changed)
    }

    func testReviewPageListsFlaggedCellsWithImagesAndTheRunIdentity() throws {
        let (run, _, _, _) = try makeRun()
        let result = try ReviewExport.export(runFolder: run, out: run + "/../page")
        let transcription = try CSVTable.load(path: run + "/transcription.csv")
        let flag = transcription.column("flag")!
        let flagged = transcription.rows.filter { $0[flag] == "review" || $0[flag] == "unreadable" }.count
        XCTAssertGreaterThan(flagged, 0)
        XCTAssertEqual(result.items, flagged)
        let review = try CSVTable.load(path: result.folder + "/review.csv")
        XCTAssertEqual(review.header.joined(separator: ","), ReviewExport.csvHeader)
        XCTAssertEqual(review.rows.count, flagged)
        XCTAssertEqual(Set(review.rows.map { $0[0] }), [ReviewIdentity.runID(try RunManifest.load(runFolder: run))])
        XCTAssertEqual(Set(review.rows.map { $0[1] }), [try SHA256.hex(fileAt: run + "/transcription.csv")])
        // Least sure first is the page's default; every image it names is there.
        for fields in review.rows {
            for image in [fields[review.column("cell_image")!], fields[review.column("context_image")!]] {
                XCTAssertTrue(FileManager.default.fileExists(atPath: result.folder + "/" + image), image)
            }
        }
        let html = try String(contentsOfFile: result.folder + "/index.html", encoding: .utf8)
        XCTAssertFalse(html.contains("http://") || html.contains("https://"), "the page must work offline")
        XCTAssertFalse(html.contains("/*DATA*/"))
        XCTAssertTrue(html.contains(result.identity.runID))
        XCTAssertTrue(html.contains(review.rows[0][review.column("cell_image")!].replacingOccurrences(of: "/", with: "\\/")))
        // With --below 1 every read cell is listed.
        let all = try ReviewExport.export(runFolder: run, below: 1.0, out: run + "/../page")
        XCTAssertGreaterThanOrEqual(all.items, flagged)
    }

    func testImportAppliesCorrectionsKeepsMachineReadingsAndSurvivesTheNextRun() throws {
        let (run, truth, model, scans) = try makeRun()
        let page = try ReviewExport.export(runFolder: run)
        let (text, changed) = corrections(from: try CSVTable.load(path: page.folder + "/review.csv"), truth: truth)
        XCTAssertGreaterThan(changed, 0)
        let file = run + "/../corrections.csv"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let before = try CSVTable.load(path: run + "/transcription.csv")
        let result = try ReviewImport.apply(corrections: file, runFolder: run, reviewer: "ann")
        XCTAssertEqual(result.corrected, changed)

        let after = try TranscriptionTable.load(runFolder: run)
        var truthOf: [CellKey: String] = [:]
        for row in truth.rows { truthOf[CellKey(page: row[0], row: Int(row[1])!, column: Int(row[2])!)] = row[3] }
        var corrected = 0
        for (key, at) in after.rowOf {
            let old = before.rows[at][before.column("value")!]
            switch after.field("flag", row: at) {
            case "corrected":
                corrected += 1
                XCTAssertEqual(after.field("value", row: at), truthOf[key])
                XCTAssertEqual(after.field("machine_value", row: at), old)
                XCTAssertNotEqual(old, truthOf[key])
            case "confirmed":
                XCTAssertEqual(after.field("value", row: at), old)
            default:
                XCTAssertEqual(after.field("value", row: at), old)
                XCTAssertEqual(after.field("machine_value", row: at), "")
            }
        }
        XCTAssertEqual(corrected, changed)
        // Who, when, what: in corrections.json, which the manifest's export record names.
        let log = try XCTUnwrap(try CorrectionsLog.load(runFolder: run))
        XCTAssertEqual(log.batches.count, 1)
        XCTAssertEqual(log.batches[0].reviewer, "ann")
        XCTAssertEqual(log.batches[0].changes.filter { $0.flag == "corrected" }.count, changed)
        let manifest = try RunManifest.load(runFolder: run)
        XCTAssertEqual(manifest.export?.outputs["transcription.csv"], try SHA256.hex(fileAt: run + "/transcription.csv"))
        XCTAssertEqual(manifest.export?.outputs["corrections.json"], try SHA256.hex(fileAt: run + "/corrections.json"))
        // The next run finds the export current and keeps the corrected transcription.
        let corrected1 = try String(contentsOfFile: run + "/transcription.csv", encoding: .utf8)
        let again = try PipelineRunner(PipelineFixtures.request(folder: run, scans: [scans], model: model)).run()
        XCTAssertNil(again.ran[.export])
        XCTAssertEqual(try String(contentsOfFile: run + "/transcription.csv", encoding: .utf8), corrected1)
        // A new export (forced here) applies the logged corrections again.
        let forced = try PipelineRunner(PipelineFixtures.request(folder: run, scans: [], model: model)).runStage(.export, downstream: false)
        XCTAssertEqual(forced.ran[.export], 1)
        XCTAssertEqual(try String(contentsOfFile: run + "/transcription.csv", encoding: .utf8), corrected1)
        // The same file again is stale now: the transcription changed under it.
        XCTAssertThrowsError(try ReviewImport.apply(corrections: file, runFolder: run, reviewer: "ann")) { error in
            XCTAssertTrue("\(error)".contains("stale"), "\(error)")
        }
    }

    func testBadCorrectionFilesAreRefusedWithTheReasonAndChangeNothing() throws {
        let (run, _, _, _) = try makeRun()
        let page = try ReviewExport.export(runFolder: run)
        let review = try CSVTable.load(path: page.folder + "/review.csv")
        XCTAssertGreaterThanOrEqual(review.rows.count, 2)
        let value = review.column("value")!
        func file(_ rows: [[String]], header: [String] = review.header) throws -> String {
            let path = run + "/../bad-\(UUID().uuidString).csv"
            let text = ([header] + rows).map { $0.map(SyntheticPages.csvField).joined(separator: ",") }.joined(separator: "\n") + "\n"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        var good = review.rows[0]; good[value] = "12.5"
        var wrongRun = review.rows[1]; wrongRun[0] = "0123456789abcdef"
        var notANumber = review.rows[1]; notANumber[value] = "1O.5"
        var unknownCell = review.rows[1]; unknownCell[review.column("row")!] = "999"
        let cases: [(String, [[String]], [String], String)] = [
            ("wrong run", [good, wrongRun], review.header, ":3: made for run 0123456789abcdef"),
            ("duplicate", [good, review.rows[1], good], review.header, ":4: cell"),
            ("not a number", [good, notANumber], review.header, ":3: value '1O.5' is not a number"),
            ("unknown cell", [good, unknownCell], review.header, ":3: no cell"),
            ("unknown column", [good], review.header.map { $0 == "flag" ? "flagg" : $0 }, ":1: unknown column(s) flagg"),
        ]
        let sums = try checksums(run)
        for (name, rows, header, expected) in cases {
            let path = try file(rows, header: header)
            XCTAssertThrowsError(try ReviewImport.apply(corrections: path, runFolder: run, reviewer: "x"), name) { error in
                XCTAssertTrue("\(error)".contains((path as NSString).lastPathComponent + expected), "\(name): \(error)")
                XCTAssertTrue("\(error)".contains("nothing applied"), "\(name): \(error)")
            }
            XCTAssertEqual(try checksums(run), sums, name)
        }
        // The transcription edited under the corrections: stale, refused.
        let path = try file([good])
        var edited = try String(contentsOfFile: run + "/transcription.csv", encoding: .utf8)
        edited += edited.split(separator: "\n").last! + "\n"
        try edited.write(toFile: run + "/transcription.csv", atomically: true, encoding: .utf8)
        let editedSums = try checksums(run)
        XCTAssertThrowsError(try ReviewImport.apply(corrections: path, runFolder: run, reviewer: "x")) { error in
            XCTAssertTrue("\(error)".contains(":2: stale: the transcription changed"), "\(error)")
        }
        XCTAssertEqual(try checksums(run), editedSums)
    }

    func testJSONCarriesProvenanceAndSEFHasAFilePerVariable() throws {
        let (run, truth, _, _) = try makeRun()
        let page = try ReviewExport.export(runFolder: run)
        let (text, changed) = corrections(from: try CSVTable.load(path: page.folder + "/review.csv"), truth: truth)
        XCTAssertGreaterThan(changed, 0)
        try text.write(toFile: run + "/../c.csv", atomically: true, encoding: .utf8)
        try ReviewImport.apply(corrections: run + "/../c.csv", runFolder: run, reviewer: "bo")

        let data = try RunExport.json(runFolder: run)
        let export = try JSONDecoder().decode(ProvenancedExport.self, from: data)
        let manifest = try RunManifest.load(runFolder: run)
        let transcription = try CSVTable.load(path: run + "/transcription.csv")
        XCTAssertEqual(export.values.count, transcription.rows.count)
        XCTAssertEqual(export.model.sha256, manifest.model.sha256)
        XCTAssertTrue(export.values.allSatisfy { $0.sourceSHA256 == manifest.pages[0].sha256 && $0.box.count == 4 && $0.box[2] > 0 })
        let corrected = export.values.filter { $0.flag == "corrected" }
        XCTAssertEqual(corrected.count, changed)
        XCTAssertTrue(corrected.allSatisfy { $0.correction?.reviewer == "bo" && $0.correction?.machineValue != $0.value })
        XCTAssertTrue(export.values.filter { $0.flag == "ok" || $0.flag == "review" }.allSatisfy { $0.correction == nil })

        let column = corrected[0].column
        var options = SEFOptions(id: "ST01")
        options.variables = [try SEFOptions.variable("\(column)=ta:C")]
        options.start = try SEFOptions.month("1901-12")
        let files = try RunExport.sef(runFolder: run, options: options).files
        let sef = try XCTUnwrap(files["ST01_ta.tsv"])
        let lines = sef.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[0], "SEF\t1.0.0")
        XCTAssertTrue(lines.contains("Vbl\tta") && lines.contains("Units\tC") && lines.contains("ID\tST01"))
        XCTAssertEqual(lines[12], "Year\tMonth\tDay\tHour\tMinute\tPeriod\tValue\tMeta")
        let observations = lines.dropFirst(13).map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        let expected = export.values.filter { $0.column == column && ReviewText.isNumber($0.value) && $0.flag != "unreadable" }
        XCTAssertEqual(observations.count, expected.count)
        XCTAssertTrue(observations.allSatisfy { $0.count == 8 && $0[0] == "1901" && $0[1] == "12" })
        let fix = corrected[0]
        XCTAssertTrue(observations.contains { $0[2] == String(fix.row + 1) && $0[6] == fix.value && $0[7].contains("orig=\(fix.correction!.machineValue)") })
        XCTAssertThrowsError(try RunExport.sef(runFolder: run, options: { var o = options; o.start = nil; return o }()))
        XCTAssertThrowsError(try SEFOptions.variable("temperature"))
    }

    func testHarvestTurnsCorrectedCellsIntoLabelledDigits() throws {
        let (run, truth, _, _) = try makeRun()
        let page = try ReviewExport.export(runFolder: run)
        let (text, _) = corrections(from: try CSVTable.load(path: page.folder + "/review.csv"), truth: truth)
        try text.write(toFile: run + "/../c.csv", atomically: true, encoding: .utf8)
        try ReviewImport.apply(corrections: run + "/../c.csv", runFolder: run, reviewer: "cy")
        let out = run + "/../digits"
        let result = try ReviewHarvest.harvest(runFolder: run, out: out)
        XCTAssertGreaterThan(result.corrected, 0)
        XCTAssertGreaterThan(result.report.written.reduce(0, +), 0)
        // Each harvested digit's label is the matching digit of its cell's reviewed value.
        let index = try CSVTable.load(path: out + "/harvest.csv")
        for fields in index.rows {
            let label = fields[index.column("label")!], value = fields[index.column("value")!].replacingOccurrences(of: ".", with: "")
            let digit = Int(fields[index.column("digit_index")!])!
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/" + fields[0]))
            if digit < value.count { XCTAssertEqual(String(Array(value)[digit]), label, "\(fields)") }
        }
    }

    /// With a truth file every transcribed number is harvested as a whole cell with its true value,
    /// reviewed or not.
    func testHarvestFromATruthFileLabelsEveryTranscribedCell() throws {
        let (run, truth, _, _) = try makeRun()
        let out = run + "/../truth-cells"
        let result = try ReviewHarvest.harvest(runFolder: run, out: out, truth: run + "/../truth.csv")
        let numbers = truth.rows.filter { ReviewText.isNumber($0[truth.column("value")!]) }.count
        XCTAssertGreaterThan(result.cells, numbers * 9 / 10, "nearly every truth number has its cell")
        let cells = try CSVTable.load(path: out + "/cells/truth.csv")
        XCTAssertEqual(cells.rows.count, result.cells)
        var truthOf: [String: String] = [:]
        for row in truth.rows { truthOf["\(row[1])|\(row[2])"] = row[3] }
        for fields in cells.rows {
            let key = fields[cells.column("row")!] + "|" + fields[cells.column("column")!]
            XCTAssertEqual(fields[cells.column("value")!], truthOf[key], "\(fields)")
            XCTAssertEqual(fields[cells.column("flag")!], "truth")
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/cells/" + fields[0]))
        }
    }

    /// The page in a real browser (headless Chromium, skipped when it is not installed): type a
    /// value, Enter moves to the next cell, Save builds corrections.csv (captured from the Blob
    /// the page hands to its download link), which then imports.
    func testReviewPageInHeadlessChromium() throws {
        guard let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("chromium not installed (apt-get install chromium)")
        }
        let (run, _, _, _) = try makeRun()
        let page = try ReviewExport.export(runFolder: run)
        let html = try String(contentsOfFile: page.folder + "/index.html", encoding: .utf8)
        let probe = """
            <script>
            window.Blob = class extends Blob { constructor(parts, options) { super(parts, options); document.body.setAttribute('data-saved', parts.join('')); } };
            const first = document.activeElement;
            first.value = '42.5'; first.dispatchEvent(new Event('input'));
            first.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
            document.body.setAttribute('data-first', first.dataset.key);
            document.body.setAttribute('data-next', document.activeElement.dataset.key || 'none');
            document.body.setAttribute('data-progress', document.getElementById('progress').textContent);
            document.getElementById('save').click();
            </script></body>
            """
        try html.replacingOccurrences(of: "</body>", with: probe).write(toFile: page.folder + "/probe.html", atomically: true, encoding: .utf8)
        let attribute = try domAttributes(chromium: chromium, page: page.folder + "/probe.html")
        let review = try CSVTable.load(path: page.folder + "/review.csv")
        XCTAssertEqual(attribute("data-progress"), "1 / \(review.rows.count) reviewed")
        let first = try XCTUnwrap(attribute("data-first"), "the page did not run its script")
        XCTAssertNotEqual(attribute("data-next"), first)
        // Least sure first: the focused cell is the review list's least confident.
        let confidence = review.column("confidence")!
        let least = review.rows.min { Double($0[confidence])! < Double($1[confidence])! }!
        XCTAssertEqual(first, "\(least[2])|\(least[3])|\(least[4])")
        let saved = try XCTUnwrap(attribute("data-saved"))
        let lines = saved.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 2, saved)
        XCTAssertEqual(lines[1], [page.identity.runID, page.identity.transcription, least[2], least[3], least[4], least[6], "42.5"].joined(separator: ","))
        try saved.write(toFile: run + "/../corrections.csv", atomically: true, encoding: .utf8)
        let result = try ReviewImport.apply(corrections: run + "/../corrections.csv", runFolder: run, reviewer: "browser")
        XCTAssertEqual(result.corrected + result.confirmed, 1)
        let transcription = try TranscriptionTable.load(runFolder: run)
        let at = try XCTUnwrap(transcription.rowOf[CellKey(page: least[2], row: Int(least[3])!, column: Int(least[4])!)])
        XCTAssertEqual(transcription.field("value", row: at), "42.5")
    }

    /// The page's DOM after its scripts ran in headless Chromium, as a lookup of attribute values.
    func domAttributes(chromium: String, page: String) throws -> (String) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", "file://" + page]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // A browser that never exits (seen once under load) must not hang the test run.
        let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 180, execute: watchdog)
        let dom = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        watchdog.cancel()
        return { name in
            guard let start = dom.range(of: name + "=\""), let end = dom[start.upperBound...].firstIndex(of: "\"") else { return nil }
            return String(dom[start.upperBound..<end]).replacingOccurrences(of: "&quot;", with: "\"")
                .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
        }
    }

    /// Where the readers disagreed, review.csv and the page carry the other reader's value; on the
    /// page one click puts it in the input and Enter confirms it into corrections.csv.
    func testReviewPageOffersTheOtherReadersValue() throws {
        let (run, _, _, _) = try makeRun()
        let transcription = try TranscriptionTable.load(runFolder: run)
        let page = try ReviewExport.export(runFolder: run)
        let review = try CSVTable.load(path: page.folder + "/review.csv")
        let other = try XCTUnwrap(review.column("other_reading"))
        // The tiny random models disagree on most cells they both read.
        let offered = review.rows.filter { !$0[other].isEmpty }
        XCTAssertGreaterThan(offered.count, 0)
        for fields in review.rows {
            let at = try XCTUnwrap(transcription.rowOf[CellKey(page: fields[2], row: Int(fields[3])!, column: Int(fields[4])!)])
            XCTAssertEqual(fields[other], transcription.field("other_reading", row: at))
            if !fields[other].isEmpty { XCTAssertNotEqual(fields[other], fields[review.column("reading")!]) }
        }
        guard let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("chromium not installed (apt-get install chromium)")
        }
        let html = try String(contentsOfFile: page.folder + "/index.html", encoding: .utf8)
        let probe = """
            <script>
            document.body.setAttribute('data-buttons', String(document.querySelectorAll('button.use-other').length));
            const button = document.querySelector('button.use-other');
            const key = button.closest('.cell').dataset.key;
            button.click();
            const input = document.activeElement;
            document.body.setAttribute('data-key', key);
            document.body.setAttribute('data-focused', input.dataset.key);
            document.body.setAttribute('data-value', input.value);
            input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
            document.body.setAttribute('data-saved', correctionsCSV());
            </script></body>
            """
        try html.replacingOccurrences(of: "</body>", with: probe).write(toFile: page.folder + "/probe.html", atomically: true, encoding: .utf8)
        let attribute = try domAttributes(chromium: chromium, page: page.folder + "/probe.html")
        XCTAssertEqual(attribute("data-buttons"), String(offered.count))
        let key = try XCTUnwrap(attribute("data-key"), "the page did not run its script")
        XCTAssertEqual(attribute("data-focused"), key, "the click focuses that cell's input")
        let cell = try XCTUnwrap(offered.first { "\($0[2])|\($0[3])|\($0[4])" == key })
        XCTAssertEqual(attribute("data-value"), cell[other])
        let saved = try XCTUnwrap(attribute("data-saved"))
        let lines = saved.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 2, saved)
        XCTAssertEqual(lines[1], [page.identity.runID, page.identity.transcription, cell[2], cell[3], cell[4], cell[6], cell[other]].joined(separator: ","))
    }
}
