import Formats
import Foundation
import Lab
import XCTest

/// Plots (PLplot: PNG + PDF + CSV) and report pages: every picture embedded in report.html decodes
/// as an image, every link names a file of the run (scripts/check_report_pages.sh renders the pages
/// in headless Chromium).
final class ReportTests: XCTestCase {
    /// The figures that are not x–y plots: panels of images with lines and a caption, and a
    /// confusion matrix, written as PNGs of the size they say (text drawn by PLplot's fonts).
    func testPanelAndMatrixFiguresAreWritten() throws {
        let folder = scratchFolder("figures")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var panel = PanelFigure.Panel(title: "two-colour image", pixels: (0..<64).map { Float($0 % 8) / 7 }, side: 8)
        panel.lines = [(0, 0, 8, 8)]
        let figure = PanelFigure(panels: [panel, panel], caption: "symmetry score 0.50: reflection")
        try figure.write(folder + "/panels.png")
        let image = try Image.read(folder + "/panels.png")
        XCTAssertEqual(image.width, figure.size.width)
        XCTAssertEqual(image.height, figure.size.height)
        // The red line crosses the first panel: some pixels are red.
        let red = stride(from: 0, to: image.pixels.count, by: image.channels).contains {
            image.pixels[$0] > 0.7 && image.pixels[$0 + 1] < 0.3 && image.pixels[$0 + 2] < 0.3
        }
        XCTAssertTrue(red)
        try MatrixFigure(counts: [[3, 1], [0, 4]], names: ["a", "b"], title: "two classes").write(folder + "/m.png")
        XCTAssertGreaterThan(try Image.read(folder + "/m.png").width, 400)
    }

    func testAPlotIsWrittenAsPNGPDFAndCSV() throws {
        let folder = scratchFolder("plot")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var plot = Plot(title: "ROC", xLabel: "signal efficiency ε_{S}", yLabel: "1/ε_{B}")
        plot.logY = true
        plot.add("a", x: [0.1, 0.5, 0.9], y: [100, 10, 2], low: [80, 8, 1.5], high: [120, 12, 2.5])
        plot.add("not drawn", x: [0.5], y: [3])
        try plot.write(folder + "/roc.png")
        let png = try Data(contentsOf: URL(fileURLWithPath: folder + "/roc.png"))
        XCTAssertTrue(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        // Drawn at twice the page: at least 1200 pixels wide for the default page.
        XCTAssertEqual(try Image.read(folder + "/roc.png").width, 2 * plot.width)
        XCTAssertGreaterThanOrEqual(2 * plot.width, 1200)
        XCTAssertTrue(try Data(contentsOf: URL(fileURLWithPath: folder + "/roc.pdf")).starts(with: Array("%PDF".utf8)))
        let csv = try String(contentsOfFile: folder + "/roc.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.first, "series,x,y,y_low,y_high")
        XCTAssertEqual(csv.count, 1 + 3 + 1)
        XCTAssertEqual(csv[1], "a,0.1,100.0,80.0,120.0")
    }

    func testATrainingRunsReportPageIsSelfContainedAndItsLinksExist() throws {
        let folder = scratchFolder("report-run")
        var o = TrainOptions()
        o.epochs = 2; o.batchSize = 20; o.quiet = true
        try TrainingSetup.make(
            kind: .vae, data: repositoryRoot + "/Datasets/faces", out: folder, options: o, model: .init()
        ).train()
        let html = try String(contentsOfFile: folder + "/report.html", encoding: .utf8)
        XCTAssertFalse(html.contains("http://") || html.contains("https://"), "the page must work offline")
        let images = html.components(separatedBy: "src=\"data:").dropFirst()
        XCTAssertGreaterThanOrEqual(images.count, 3, "loss.png, samples.png, progress.gif")
        for chunk in images {
            let uri = chunk.prefix { $0 != "\"" }
            let base64 = uri.split(separator: ",", maxSplits: 1).last.map(String.init) ?? ""
            let data = try XCTUnwrap(Data(base64Encoded: base64))
            XCTAssertTrue(data.starts(with: [0x89, 0x50, 0x4E, 0x47]) || data.starts(with: Array("GIF89a".utf8)))
        }
        for chunk in html.components(separatedBy: "href=\"").dropFirst() {
            let href = chunk.prefix { $0 != "\"" }.replacingOccurrences(of: "&amp;", with: "&")
            XCTAssertTrue(href.hasPrefix("./"), "a link to a file beside the page is relative: \(href)")
            let target = try XCTUnwrap(href.removingPercentEncoding)
            XCTAssertTrue(
                FileManager.default.fileExists(atPath: folder + "/" + target), "a link to \(target) that is not there")
        }
        XCTAssertTrue(html.contains("Last figures") && html.contains("val_neg_elbo"))
    }
}
