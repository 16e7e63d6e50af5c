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

    func testPartialFileKeepsDefaultsAndOverridesApplyInOrder() throws {
        let config = try PipelineConfig.load(yaml: "binarize:\n  method: otsu\ntable:\n  decimals: 1\n", path: "p.yaml",
                                             overrides: ["classify.review_threshold=0.8", "table.numeric_columns=[2, 3]",
                                                         "classify.review_threshold=0.7"])
        XCTAssertEqual(config.binarize.method, .otsu)
        XCTAssertEqual(config.binarize.k, PipelineConfig().binarize.k)
        XCTAssertEqual(config.table.decimals, .fixed(1))
        XCTAssertEqual(config.table.numericColumns, .value([2, 3]))
        XCTAssertEqual(config.classify.reviewThreshold, 0.7)
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
        XCTAssertTrue(problem("binarize:\n  method: magic\n").contains("bad.yaml"))
        XCTAssertTrue(problem("reader: ctc\n").contains("reader 'ctc' is not known"))
        XCTAssertTrue(problem("", ["classify.nope=1"]).contains("--set 'classify.nope=1'"))
        XCTAssertTrue(problem("", ["classify"]).contains("expected section.key=value"))
        XCTAssertTrue(problem("binarize: 3\n").contains("is a section"))
    }
}
