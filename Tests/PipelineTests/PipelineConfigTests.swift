import Foundation
import XCTest
@testable import Pipeline

final class PipelineConfigTests: XCTestCase {
    func testDefaultFileSpellsOutTheBuiltInDefaults() throws {
        let path = PipelineFixtures.repositoryRoot.appendingPathComponent("pipelines/default.yaml").path
        XCTAssertEqual(try PipelineConfig.load(path: path), PipelineConfig())
        // The hints file parses and only changes the table.
        let noaa = try PipelineConfig.load(path: PipelineFixtures.repositoryRoot.appendingPathComponent("pipelines/noaa-daily.yaml").path)
        XCTAssertEqual(noaa.binarize, PipelineConfig().binarize)
        XCTAssertEqual(noaa.table.headerRows, .value(1))
        XCTAssertEqual(noaa.table.hint(column: 6), ColumnHint(column: 6, name: "Hum.", decimals: 0))
        XCTAssertEqual(noaa.sef.dayOffset, 0, "one header row: day 1 is row 1")
        XCTAssertEqual(noaa.table.dateColumns, [])
        // Its commented example (the day column read, SEF days taken from it) works uncommented.
        let noaaText = try String(contentsOfFile: PipelineFixtures.repositoryRoot.appendingPathComponent("pipelines/noaa-daily.yaml").path, encoding: .utf8)
        let dated = try PipelineConfig.load(yaml: noaaText.replacingOccurrences(of: "# - {column: 0", with: "- {column: 0")
            .replacingOccurrences(of: "# date_columns", with: "date_columns"), path: "noaa-dated.yaml")
        XCTAssertEqual(dated.table.dateColumns, [0])
        XCTAssertEqual(dated.table.hint(column: 0)?.name, "Day")
        XCTAssertEqual(try SEFOptions(parameters: dated.sef, path: "noaa-dated.yaml").dateColumns, [.day: "Day"])
        // The INERA sheets' file: pencil ink, the columns between the two date columns, the
        // temperature block's relations.
        let inera = try PipelineConfig.load(path: PipelineFixtures.repositoryRoot.appendingPathComponent("pipelines/inera-climate-sheet.yaml").path)
        XCTAssertEqual(inera.binarize.faintK, 0.01)
        XCTAssertEqual(inera.table.numericColumns, .value(Array(2...25)))
        XCTAssertEqual(inera.table.hint(column: 6), ColumnHint(column: 6, name: "Ampl", decimals: 1))
        XCTAssertEqual(inera.checks.relations.count, 2)
    }

    func testSEFSectionMapsColumnsToVariables() throws {
        let config = try PipelineConfig.load(yaml: """
            sef:
              station: CD-203
              name: Yangambi
              latitude: "0.82"
              variables: ["1=Tx:C", "2=Tn:C"]
              start: 1969-05
              day_offset: 0
            """, path: "sef.yaml")
        XCTAssertEqual(config.sef.station, "CD-203")
        XCTAssertEqual(config.sef.variables, ["1=Tx:C", "2=Tn:C"])
        XCTAssertEqual(config.sef.start, "1969-05")
        XCTAssertEqual(config.sef.dayOffset, 0)
        XCTAssertEqual(config.sef.longitude, "NA", "keys left out keep their defaults")
        XCTAssertEqual(config.binarize, PipelineConfig().binarize)
        XCTAssertThrowsError(try PipelineConfig.load(yaml: "sef:\n  stations: x\n", path: "typo.yaml"))
    }

    func testDateColumnsAreReadFromTheTableAndSEFSections() throws {
        let config = try PipelineConfig.load(yaml: """
            table:
              date_columns: [0, 2]
              columns: [{column: 0, name: Year}, {column: 2, name: Day}]
            sef:
              station: CD-203
              variables: ["3=ta:C"]
              date_columns: {year: Year, month: 1, day: Day, hour: 5}
            """, path: "dates.yaml")
        XCTAssertEqual(config.table.dateColumns, [0, 2])
        XCTAssertEqual(config.sef.dateColumns, SEFDateColumns(year: "Year", month: "1", day: "Day", hour: "5"),
                       "column numbers are kept as text, like the variables' columns")
        let options = try SEFOptions(parameters: config.sef, path: "dates.yaml")
        XCTAssertEqual(options.dateColumns, [.year: "Year", .month: "1", .day: "Day", .hour: "5"])
        XCTAssertEqual(options.variables, [SEFOptions.Variable(column: "3", code: "ta", units: "C")])
        // Written out and read back: the same configuration.
        XCTAssertEqual(try PipelineConfig.load(yaml: config.yaml(), path: "again.yaml"), config)

        // Parts left out stay empty (taken from start, day_offset, hour); --set reaches one part.
        let partial = try PipelineConfig.load(yaml: "sef:\n  date_columns: {day: 0}\n", path: "day.yaml",
                                              overrides: ["sef.date_columns.hour=Hour"])
        XCTAssertEqual(partial.sef.dateColumns, SEFDateColumns(day: "0", hour: "Hour"))
        XCTAssertEqual(try SEFOptions(parameters: partial.sef, path: "day.yaml").dateColumns, [.day: "0", .hour: "Hour"])
        XCTAssertEqual(PipelineConfig().table.dateColumns, [])
        XCTAssertEqual(PipelineConfig().sef.dateColumns.given, [:])

        func problem(_ yaml: String) -> String {
            do {
                _ = try PipelineConfig.load(yaml: yaml, path: "bad.yaml")
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(problem("sef:\n  date_columns: {dya: 0}\n").contains("bad.yaml: unknown key 'sef.date_columns.dya'"))
        XCTAssertTrue(problem("sef:\n  date_columns: 0\n").contains("'sef.date_columns' is a section"))
        XCTAssertTrue(problem("sef:\n  date_columns: {day: 0, month: 0}\n").contains("month and day are both read from column '0'"))
        XCTAssertTrue(problem("sef:\n  date_columns: {day: -1}\n").contains("column -1 is not a column number"))
        XCTAssertTrue(problem("sef:\n  hour: noon\n").contains("sef.hour must be NA or an hour 0...23"))
        XCTAssertTrue(problem("table:\n  date_columns: [-1]\n").contains("table.date_columns must be column numbers"))
        XCTAssertTrue(problem("table:\n  date_columns: [0]\n  columns: [{column: 0, decimals: 1}]\n")
            .contains("column 0 is in table.date_columns: dates are whole numbers"))
    }

    func testPartialFileKeepsDefaultsAndOverridesApplyInOrder() throws {
        let config = try PipelineConfig.load(yaml: "binarize:\n  method: otsu\ntable:\n  decimals: 1\n", path: "p.yaml",
                                             overrides: ["classify.review_threshold=0.8", "table.numeric_columns=[2, 3]",
                                                         "classify.review_threshold=0.7"])
        XCTAssertEqual(config.binarize.method, .otsu)
        XCTAssertEqual(config.binarize.k, PipelineConfig().binarize.k)
        XCTAssertEqual(config.table.decimals, .fixed(1))
        XCTAssertEqual(config.table.numericColumns, .value([2, 3]))
        XCTAssertEqual(config.classify.reviewThreshold, 0.7)
        XCTAssertEqual(config.checks.roundingDoubt, 0.96)
        XCTAssertEqual(try PipelineConfig.load(yaml: "checks:\n  rounding_doubt: 0\n", path: "p.yaml").checks.roundingDoubt, 0)
        // Written out and read back: the same configuration.
        XCTAssertEqual(try PipelineConfig.load(yaml: config.yaml(), path: "again.yaml"), config)
    }

    func testMistakesNameTheFileAndTheKey() {
        func problem(_ yaml: String, _ overrides: [String] = []) -> String {
            do {
                _ = try PipelineConfig.load(yaml: yaml, path: "bad.yaml", overrides: overrides)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(problem("binarize:\n  windw: 3\n").contains("bad.yaml: unknown key 'binarize.windw'"), problem("binarize:\n  windw: 3\n"))
        XCTAssertTrue(problem("segmnt: {}\n").contains("unknown key 'segmnt'"))
        XCTAssertTrue(problem("binarize:\n  k: 2\n").contains("binarize.k must be in (0, 1)"))
        XCTAssertTrue(problem("binarize:\n  faint_k: 0.12\n").contains("binarize.faint_k must be 0 (off) or between 0 and binarize.k"))
        XCTAssertTrue(problem("binarize:\n  faint_k: -0.01\n").contains("binarize.faint_k"))
        XCTAssertTrue(problem("binarize:\n  method: magic\n").contains("bad.yaml"))
        XCTAssertTrue(problem("checks:\n  rounding_doubt: 1.5\n").contains("checks.rounding_doubt must be 0...1"))
        XCTAssertTrue(problem("reader: ctc\n").contains("reader 'ctc' is not known"))
        XCTAssertTrue(problem("", ["classify.nope=1"]).contains("--set 'classify.nope=1'"))
        XCTAssertTrue(problem("", ["classify"]).contains("expected section.key=value"))
        XCTAssertTrue(problem("binarize: 3\n").contains("is a section"))
    }
}
