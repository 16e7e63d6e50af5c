import Foundation
import XCTest
import NeuralNet
@testable import Pipeline

/// SEF dates from the sheet's date columns: which cell gives which part (by column name or
/// number), what falls back to `start`/`day_offset`/`hour`, which dates are refused (and the row
/// reported), which are written with doubt; then the same on runs, through the library and the CLI.
final class SEFDateTests: XCTestCase {
    override func setUp() { Threads.set(2) }

    func cell(_ value: String, row: Int = 4, column: Int = 0, name: String = "", flag: String = "ok",
              page: String = "p-0001") -> ProvenancedValue {
        ProvenancedValue(page: page, source: "", sourceSHA256: "", pageIndex: 0, row: row, column: column, columnName: name,
                         value: value, flag: flag, confidence: nil, digitConfidences: [], box: [0, 0, 1, 1])
    }

    /// `options.date` for one row whose date cells are `cells` (part -> cell), on a page of
    /// `pageMonth` (nil: the run gives no month, as without --start).
    func date(_ options: SEFOptions, row: Int = 4, _ cells: [SEFDatePart: ProvenancedValue],
              pageMonth: (year: Int, month: Int)? = (1901, 4)) throws -> Result<SEFDate, SEFSkippedRow> {
        try options.date(page: "p-0001", row: row, cell: { cells[$0] }, pageMonth: {
            guard let pageMonth else { throw PipelineError(path: "run", problem: "no month for page p-0001") }
            return pageMonth
        })
    }

    func written(_ result: Result<SEFDate, SEFSkippedRow>, file: StaticString = #filePath, line: UInt = #line) -> SEFDate? {
        guard case .success(let date) = result else {
            XCTFail("expected a date, got \(result)", file: file, line: line)
            return nil
        }
        return date
    }

    func skipped(_ result: Result<SEFDate, SEFSkippedRow>, file: StaticString = #filePath, line: UInt = #line) -> SEFSkippedRow? {
        guard case .failure(let row) = result else {
            XCTFail("expected the row left out, got \(result)", file: file, line: line)
            return nil
        }
        return row
    }

    func testDatePartsComeFromTheirColumnsByNameOrNumberAndTheRestFallsBack() throws {
        var options = SEFOptions(id: "ST")
        options.dayOffset = 1
        options.hour = "7"
        // No date columns: today's behaviour, the page's month, day = row + day_offset, the fixed hour.
        XCTAssertEqual(written(try date(options, row: 4, [:])), SEFDate(year: 1901, month: 4, day: 5, hour: 7))
        XCTAssertThrowsError(try date(options, [:], pageMonth: nil), "no month and no month column")

        // The cells of a row are found by the column's name or its number.
        options.dateColumns = [.day: "Day", .month: "2"]
        let values = [cell("17", row: 4, column: 0, name: "Day"), cell("9", row: 4, column: 2, name: "Mon"),
                      cell("3", row: 5, column: 0, name: "Day"), cell("28.4", row: 4, column: 1, name: "Max")]
        let cells = options.dateCells(values)
        XCTAssertEqual(cells[SEFRowKey(page: "p-0001", row: 4)]?[.day]?.value, "17")
        XCTAssertEqual(cells[SEFRowKey(page: "p-0001", row: 4)]?[.month]?.value, "9")
        XCTAssertEqual(cells[SEFRowKey(page: "p-0001", row: 5)]?.keys.sorted(), [.day])
        // Day and month from their cells (not row + day_offset), the year from the page, hour fixed.
        XCTAssertEqual(written(try date(options, row: 4, cells[SEFRowKey(page: "p-0001", row: 4)]!)),
                       SEFDate(year: 1901, month: 9, day: 17, hour: 7))

        // Every part from a column: the run needs no month at all.
        options.dateColumns = [.year: "Year", .month: "Month", .day: "Day", .hour: "Hour"]
        let full: [SEFDatePart: ProvenancedValue] = [.year: cell("1887"), .month: cell("02"), .day: cell("3"), .hour: cell("21")]
        XCTAssertEqual(written(try date(options, full, pageMonth: nil)), SEFDate(year: 1887, month: 2, day: 3, hour: 21))
        // Only the month from a column: the year is the page's.
        options.dateColumns = [.month: "Month"]
        options.hour = "NA"
        XCTAssertEqual(written(try date(options, row: 9, [.month: cell("12")])), SEFDate(year: 1901, month: 12, day: 10, hour: nil))
    }

    func testDatesThatAreNotDatesLeaveTheRowOutWithTheCellAndTheReason() throws {
        var options = SEFOptions(id: "ST")
        options.dateColumns = [.year: "Year", .month: "Month", .day: "Day"]
        func outcome(_ year: String, _ month: String, _ day: String, flags: [String] = ["ok", "ok", "ok"]) throws -> Result<SEFDate, SEFSkippedRow> {
            try date(options, [.year: cell(year, flag: flags[0]), .month: cell(month, flag: flags[1]), .day: cell(day, flag: flags[2])])
        }
        // Month lengths and leap years (divisible by 4, centuries only by 400).
        XCTAssertEqual(written(try outcome("1901", "4", "30"))?.day, 30)
        XCTAssertEqual(skipped(try outcome("1901", "4", "31")),
                       SEFSkippedRow(page: "p-0001", row: 4, part: .day, column: "Day", reason: "31 is not a day of 1901-04 (30 days)"))
        XCTAssertEqual(written(try outcome("1901", "1", "31"))?.day, 31)
        XCTAssertEqual(skipped(try outcome("1901", "2", "29"))?.reason, "29 is not a day of 1901-02 (28 days)")
        XCTAssertEqual(skipped(try outcome("1904", "2", "30"))?.reason, "30 is not a day of 1904-02 (29 days)")
        XCTAssertEqual(written(try outcome("1904", "2", "29"))?.day, 29)
        XCTAssertEqual(skipped(try outcome("1900", "2", "29"))?.reason, "29 is not a day of 1900-02 (28 days)")
        XCTAssertEqual(written(try outcome("2000", "2", "29"))?.day, 29)
        XCTAssertEqual(skipped(try outcome("1901", "3", "0"))?.part, .day)
        // Month and year out of range.
        XCTAssertEqual(skipped(try outcome("1901", "13", "1")).map { [$0.part.rawValue, $0.reason] }, ["month", "13 is not a month (1-12)"])
        XCTAssertEqual(skipped(try outcome("1901", "0", "1"))?.part, .month)
        XCTAssertEqual(skipped(try outcome("87", "5", "1")).map { [$0.part.rawValue, $0.reason] }, ["year", "87 is not a four-digit year"])
        // Cells that hold no whole number; the first bad part is the one reported.
        XCTAssertEqual(skipped(try outcome("1901", "5", ""))?.reason, "empty")
        XCTAssertEqual(skipped(try outcome("1901", "5", "7", flags: ["ok", "ok", "unreadable"]))?.reason, "unreadable")
        XCTAssertEqual(skipped(try outcome("1901", "5", "4.5"))?.reason, "'4.5' is not a whole number")
        XCTAssertEqual(skipped(try outcome("1901", "5", "-3"))?.reason, "'-3' is not a whole number")
        XCTAssertEqual(skipped(try outcome("19x1", "5", "")).map { [$0.part.rawValue, $0.column] }, ["year", "Year"])
        XCTAssertEqual(skipped(try date(options, [.year: cell("1901"), .month: cell("5")]))?.reason, "no cell in the transcription")
        // The hour column: 0-23.
        options.dateColumns = [.hour: "5"]
        XCTAssertEqual(written(try date(options, [.hour: cell("0")]))?.hour, 0)
        XCTAssertEqual(skipped(try date(options, [.hour: cell("24")])).map { [$0.part.rawValue, $0.reason] }, ["hour", "24 is not an hour (0-23)"])
        // A day from the row is checked as well, and says where it came from.
        options.dateColumns = [:]
        options.dayOffset = 1
        let fromRow = try XCTUnwrap(skipped(try date(options, row: 30, [:], pageMonth: (1901, 4))))
        XCTAssertNil(fromRow.column)
        XCTAssertEqual(fromRow.description, "page p-0001 row 30: day (from the row number): row 30 + day_offset 1 = 31 is not a day of 1901-04 (30 days)")
        XCTAssertEqual(SEFSkippedRow(page: "p-0001", row: 3, part: .month, column: "Month", reason: "empty").description,
                       "page p-0001 row 3: month cell (column Month): empty")
    }

    func testDoubtfulDateCellsAreMarkedAndCorrectedOnesCountAsSure() throws {
        var options = SEFOptions(id: "ST")
        options.dateColumns = [.month: "Month", .day: "Day"]
        func doubtful(month: String, day: String) throws -> [SEFDatePart]? {
            written(try date(options, [.month: cell("4", flag: month), .day: cell("12", flag: day)]))?.doubtful
        }
        XCTAssertEqual(try doubtful(month: "ok", day: "ok"), [])
        XCTAssertEqual(try doubtful(month: "ok", day: "review"), [.day])
        XCTAssertEqual(try doubtful(month: "review", day: "review"), [.month, .day])
        XCTAssertEqual(try doubtful(month: "corrected", day: "confirmed"), [], "a person's reading is sure")
        XCTAssertEqual(try doubtful(month: "corrected", day: "review"), [.day])
    }

    func testDateColumnsThatCannotWorkAreRefused() {
        XCTAssertNil(SEFOptions.dateColumnsProblem([.year: "Year", .month: "1", .day: "Day"]))
        XCTAssertEqual(SEFOptions.dateColumnsProblem([.day: "0", .hour: "0"]), "day and hour are both read from column '0'")
        XCTAssertEqual(SEFOptions.dateColumnsProblem([.month: "-2"]), "month: column -2 is not a column number (0 or more)")
        XCTAssertEqual(SEFOptions.dateColumnsProblem([.day: " "]), "day: the column is blank")
        var parameters = SEFParameters()
        parameters.station = "ST"
        parameters.hour = "25"
        XCTAssertThrowsError(try SEFOptions(parameters: parameters, path: "p.yaml")) { error in
            XCTAssertEqual("\(error)", "p.yaml: hour '25': expected 0-23 or NA")
        }
    }

    // MARK: Runs

    /// A finished run of small synthetic pages (one by default), their day column (column 0, printed day numbers)
    /// read as dates under the name "Day"; `table` adds keys to the pipeline's table section,
    /// `sections` other sections; `model` nil: a tiny random model (reads nothing right).
    func makeRun(model: String? = nil, table: String = "", sections: String = "", pages: Int = 1, rows: Int = 8,
                 columns: [SyntheticColumnSpec] = SyntheticColumnSpec.weatherTable, seed: UInt64 = 31)
        throws -> (run: String, truth: CSVTable) {
        let root = PipelineFixtures.temporaryFolder(self, "sef")
        var options = PipelineFixtures.pageOptions(pages: pages, seed: seed)
        options.rows = rows
        options.columns = columns
        try PipelineFixtures.writePages(options, to: root + "/scans")
        try FileManager.default.moveItem(atPath: root + "/scans/truth.csv", toPath: root + "/truth.csv")
        let names = (["Day"] + columns.map(\.name)).enumerated().map { "{column: \($0.offset), name: \"\($0.element)\"}" }
        try """
            table:
              date_columns: [0]
              columns: [\(names.joined(separator: ", "))]
            \(table.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
            \(sections)
            """.write(toFile: root + "/pipeline.yaml", atomically: true, encoding: .utf8)
        let request = PipelineFixtures.request(folder: root + "/run", scans: [root + "/scans"],
                                               model: try model ?? PipelineFixtures.tinyModel(in: root), pipeline: root + "/pipeline.yaml")
        let outcome = try PipelineRunner(request).run()
        XCTAssertEqual(outcome.failures, [])
        return (root + "/run", try CSVTable.load(path: root + "/truth.csv"))
    }

    /// A SEF file's observations: Year, Month, Day, Hour, Minute, Period, Value, Meta.
    func observations(_ text: String) -> [[String]] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
        XCTAssertEqual(lines[12], "Year\tMonth\tDay\tHour\tMinute\tPeriod\tValue\tMeta")
        return lines.dropFirst(13).map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }

    /// The shipped model reads the printed day column of a synthetic page (rows 1-14: the
    /// two-digit days are where it misreads a printed 1); every observation in
    /// the SEF file is dated with the day the page prints on its row (the truth's row: row 1 is
    /// day 1), not with row + day_offset, or says its date is doubtful: the date checks leave no
    /// wrong day flagged ok. The date part comes from the run's pipeline file.
    func testSEFTakesEachObservationsDayFromTheDayColumnOfARun() throws {
        let (run, truth) = try makeRun(model: PipelineFixtures.shippedModel, sections: """
            reader: segment
            sef:
              station: ST01
              variables: ["Max=ta:C"]
              start: 1903-02
              date_columns: {day: Day}
            """, rows: 14, columns: [SyntheticColumnSpec.weatherTable[0]], seed: 33)
        let transcription = try CSVTable.load(path: run + "/transcription.csv")
        let column = transcription.column("column")!, name = transcription.column("column_name")!
        XCTAssertEqual(transcription.rows.filter { $0[column] == "0" && $0[name] == "Day" }.count, 14,
                       "the printed day column is read, though the layout takes it for row labels")
        let row = transcription.column("row")!, value = transcription.column("value")!, flag = transcription.column("flag")!
        let days = transcription.rows.filter { $0[column] == "0" }
        XCTAssertEqual(days.filter { $0[flag] == "ok" && $0[value] != $0[row] }.map { "row \($0[row]): \($0[value])" }, [],
                       "no wrong day is flagged ok")
        XCTAssertGreaterThanOrEqual(days.filter { $0[flag] == "ok" }.count, 10, "the sequence verifies the right days")

        let options = try SEFOptions(parameters: try PipelineConfig.load(path: run + "/pipeline.yaml").sef, path: "pipeline.yaml")
        XCTAssertEqual(options.dateColumns, [.day: "Day"])
        let export = try RunExport.sef(runFolder: run, options: options)
        let written = observations(try XCTUnwrap(export.files["ST01_ta.tsv"]))
        let truthRow = truth.column("row")!, truthColumn = truth.column("column")!, truthValue = truth.column("value")!
        let dated = truth.rows.filter { $0[truthColumn] == "1" && !$0[truthValue].isEmpty }
        XCTAssertGreaterThanOrEqual(written.count, dated.count - 2, "most days are written: \(export.skippedRows)")
        XCTAssertEqual(written.count + export.skippedRows.count, transcription.rows.filter {
            $0[column] == "1" && ReviewText.isNumber($0[transcription.column("value")!]) && $0[transcription.column("flag")!] != "unreadable"
        }.count, "every reading is either written or its row reported")
        for observation in written {
            let row = try XCTUnwrap(observation[7].split(separator: "|").first { $0.hasPrefix("row=") }.map { Int($0.dropFirst(4))! })
            XCTAssertTrue(dated.contains { Int($0[truthRow]) == row }, "row \(row) holds a value in the truth")
            // Synthetic pages print day d on table row d; a day read otherwise must say it is doubtful.
            if observation[2] != String(row) {
                XCTAssertTrue(observation[7].contains("date_flag=review|date_doubtful=day"), "the day of row \(row): \(observation)")
            }
            XCTAssertEqual(observation[0...1], ["1903", "2"])
        }
    }

    /// With `start`, the run's pages are months in run order: page n is `start` + n - 1 months.
    func testEachPageOfARunIsTheNextMonth() throws {
        let (run, _) = try makeRun(table: "header_rows: 1\nnumeric_columns: [1]", pages: 3,
                                   columns: Array(SyntheticColumnSpec.weatherTable.prefix(1)))
        var options = SEFOptions(id: "ST01")
        options.variables = [try SEFOptions.variable("Max=Tx:C")]
        options.start = try SEFOptions.month("1901-11")
        options.dayOffset = 0
        let written = observations(try XCTUnwrap(try RunExport.sef(runFolder: run, options: options).files["ST01_Tx.tsv"]))
        var months: [String: Set<String>] = [:]
        for observation in written {
            let page = try XCTUnwrap(observation[7].split(separator: "|").first { $0.hasPrefix("page=") }).dropFirst(5)
            months[String(page), default: []].insert(observation[0] + "-" + observation[1])
        }
        XCTAssertEqual(months, ["synth-0001": ["1901-11"], "synth-0002": ["1901-12"], "synth-0003": ["1902-1"]])
    }

    /// The day cells (column 0) of a run's pages as the classify stage left them.
    func dayCells(_ run: String) throws -> [CellReadingRecord] {
        let pages = try FileManager.default.contentsOfDirectory(atPath: run + "/pages").sorted()
        return try pages.flatMap { page in
            try PageFiles.decode(PageReadings.self, from: run + "/pages/\(page)/readings.json").cells.filter { $0.column == 0 }
        }
    }

    /// The classify stage checks the printed day column against the rows: a day that agrees with
    /// row + k is ok (verified, whatever its confidence), one that does not is review, corrected
    /// or not. `checks.dates: false` leaves the cells as the reader read them; the switch is in
    /// the classify stage's fingerprint, so changing it reclassifies the pages.
    func testTheDayColumnIsCheckedAgainstTheRowsUnlessTurnedOff() throws {
        // On this page the shipped model misreads some printed days (6 as 5, 13 and 14 as 23 and 24). How sure it
        // is of them changes with each model, so the review threshold is set low: a misread day then passes on
        // its confidence, and only the date checks can flag it.
        let threshold: Float = 0.2
        let (run, _) = try makeRun(model: PipelineFixtures.shippedModel,
                                   sections: "reader: segment\nclassify:\n  review_threshold: \(threshold)", rows: 14,
                                   columns: [SyntheticColumnSpec.weatherTable[0]], seed: 33)
        XCTAssertEqual(try RunManifest.load(runFolder: run).stages["classify"]?.parameters["checks.dates"], "1", "true, as JSON writes it")
        let checked = try dayCells(run)
        XCTAssertEqual(checked.count, 14)
        for cell in checked {
            XCTAssertEqual([cell.checksHeld, cell.checksBroken].compactMap { $0 }, ["date-sequence"], "row \(cell.row)")
            let agrees = cell.value == String(cell.row)
            XCTAssertEqual(cell.flag == .ok, agrees && cell.uncheckedValue == nil,
                           "row \(cell.row): \(cell.value) (read \(cell.uncheckedValue ?? cell.value)) flagged \(cell.flag)")
        }

        var request = PipelineFixtures.request(folder: run, scans: [run + "/../scans"], model: PipelineFixtures.shippedModel)
        request.overrides = ["checks.dates=false"]
        XCTAssertEqual(try PipelineRunner(request).run().failures, [])
        XCTAssertEqual(try RunManifest.load(runFolder: run).stages["classify"]?.parameters["checks.dates"], "0")
        let unchecked = try dayCells(run)
        XCTAssertEqual(unchecked.map(\.row), checked.map(\.row))
        for (cell, before) in zip(unchecked, checked) {
            XCTAssertNil(cell.checksHeld)
            XCTAssertNil(cell.checksBroken)
            XCTAssertNil(cell.uncheckedValue)
            XCTAssertEqual(cell.value, before.uncheckedValue ?? before.value, "the reading before any correction")
            XCTAssertEqual(cell.flag, cell.confidence < threshold ? .review : .ok, "row \(cell.row): the confidence alone decides")
        }
        XCTAssertTrue(unchecked.contains { $0.flag == .ok && $0.value != String($0.row) },
                      "without the checks a misread day is ok: \(unchecked.map { "\($0.row):\($0.value):\($0.flag)" })")
    }

    /// Date cells as a reader leaves them (edited into a tiny model's transcription): a day the
    /// month does not have, an empty day and a wrong-looking number leave their rows out, each
    /// reported once whatever the number of variables; a doubtful day is written and says so.
    func testRowsWithImpossibleDatesAreLeftOutOnceAndReportedByTheCLI() throws {
        let (run, _) = try makeRun(table: "header_rows: 1\nnumeric_columns: [1, 2]", columns: Array(SyntheticColumnSpec.weatherTable.prefix(2)))
        let path = run + "/transcription.csv"
        var table = try CSVTable.load(path: path)
        let row = table.column("row")!, column = table.column("column")!, value = table.column("value")!, flag = table.column("flag")!
        XCTAssertEqual(table.rows.filter { $0[column] == "0" }.count, 8, "one day cell a row")
        // Every row gets two readable values and a sure day, then four rows get bad or doubtful days.
        let days: [Int: (String, String)] = [2: ("31", "ok"), 3: ("", "empty"), 5: ("1.5", "ok"), 6: ("6", "review")]
        for index in table.rows.indices {
            let r = Int(table.rows[index][row])!
            if table.rows[index][column] == "0" {
                (table.rows[index][value], table.rows[index][flag]) = days[r] ?? (String(r), "ok")
            } else {
                (table.rows[index][value], table.rows[index][flag]) = ("12.\(r)", "ok")
            }
        }
        try (([table.header] + table.rows).map { $0.map(SyntheticPages.csvField).joined(separator: ",") }.joined(separator: "\n") + "\n")
            .write(toFile: path, atomically: true, encoding: .utf8)

        var options = SEFOptions(id: "ST01")
        options.variables = [try SEFOptions.variable("Max=Tx:C"), try SEFOptions.variable("2=Tn:C")]
        options.start = try SEFOptions.month("1901-04")
        options.dateColumns = [.day: "Day"]
        let export = try RunExport.sef(runFolder: run, options: options)
        XCTAssertEqual(export.skippedRows.map(\.row), [2, 3, 5], "each row once, in page order, for two variables")
        XCTAssertEqual(export.skippedRows.map(\.reason), ["31 is not a day of 1901-04 (30 days)", "empty", "'1.5' is not a whole number"])
        for file in ["ST01_Tx.tsv", "ST01_Tn.tsv"] {
            let written = observations(try XCTUnwrap(export.files[file]))
            XCTAssertEqual(written.map { $0[2] }, ["1", "4", "6", "7", "8"], file)
            XCTAssertEqual(written.map { $0[7].contains("date_flag=review|date_doubtful=day") }, [false, false, true, false, false])
        }
        XCTAssertTrue(try XCTUnwrap(export.files["ST01_Tx.tsv"]).contains("Meta\trun=") && export.files["ST01_Tx.tsv"]!.contains("|date_columns=day:Day\n"))
        // One column named twice, by name and by number, is refused.
        options.dateColumns = [.day: "Day", .month: "0"]
        XCTAssertThrowsError(try RunExport.sef(runFolder: run, options: options)) { error in
            XCTAssertTrue("\(error)".contains("month and day are both read from column 0"), "\(error)")
        }
        // A date column the run did not read is named, with what to do.
        options.dateColumns = [.day: "Day", .hour: "7"]
        XCTAssertThrowsError(try RunExport.sef(runFolder: run, options: options)) { error in
            XCTAssertTrue("\(error)".contains("the hour column '7' has no cells in the transcription: list its number in the pipeline file's table.date_columns"), "\(error)")
        }

        // The CLI: the run's pipeline file has no sef: section; the options say it all.
        guard let executable = KillAndAccuracyTests.executable else { return XCTFail("the logbook executable was not found") }
        func exportCommand(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
            let process = Process(), errors = Pipe()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = ["export", "--run", run, "--format", "sef"] + arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = errors
            try process.run()
            let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, text)
        }
        let out = run + "/../sef"
        let (status, stderr) = try exportCommand(["--out", out, "--station", "ST01", "--variable", "Max=Tx:C", "--start", "1901-04", "--day-column", "Day"])
        XCTAssertEqual(status, 0, stderr)
        XCTAssertTrue(stderr.contains("left out: page synth-0001 row 2: day cell (column Day): 31 is not a day of 1901-04 (30 days)\n"), stderr)
        XCTAssertTrue(stderr.contains("left out: page synth-0001 row 3: day cell (column Day): empty\n"), stderr)
        XCTAssertTrue(stderr.contains("3 rows left out of the SEF files"), stderr)
        XCTAssertEqual(try String(contentsOfFile: out + "/ST01_Tx.tsv", encoding: .utf8), export.files["ST01_Tx.tsv"]!)
        let refused = try exportCommand(["--out", out, "--station", "ST01", "--variable", "Max=Tx:C", "--start", "1901-04",
                                  "--day-column", "0", "--day-offset", "1"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("--day-column and --day-offset"), refused.stderr)
    }}
