import Engine
import Formats
import Foundation
import XCTest

/// The one output policy (AtomicFile, OutputPath) and the one escaping policy (HTML,
/// PythonSource) against what a hostile folder or file name can do.
final class OutputPathTests: XCTestCase {
    func testALinkAtAnOutputPathIsRefusedAndItsTargetUntouched() throws {
        let dir = freshFolder("link")
        let victim = dir + "/victim.txt"
        try AtomicFile.write(Data("precious".utf8), to: victim)
        XCTAssertEqual(symlink(victim, dir + "/out.txt"), 0)
        XCTAssertThrowsError(try AtomicFile.write(Data("x".utf8), to: dir + "/out.txt")) { error in
            XCTAssertTrue("\(error)".contains("out.txt") && "\(error)".contains("symbolic link"), "\(error)")
        }
        XCTAssertEqual(try String(contentsOfFile: victim, encoding: .utf8), "precious")
        XCTAssertEqual(OutputPath.kind(dir + "/out.txt"), "symbolic link", "the link itself is left in place")
        XCTAssertThrowsError(try OutputPath.openRegular(dir + "/out.txt", flags: O_RDWR, what: "lock file"))
        XCTAssertEqual(try String(contentsOfFile: victim, encoding: .utf8), "precious")
    }

    func testAFIFOAtAnOutputPathIsRefusedAndStaysAFIFO() throws {
        let dir = freshFolder("fifo")
        XCTAssertEqual(mkfifo(dir + "/out.png", 0o644), 0)
        XCTAssertThrowsError(try AtomicFile.writeVia(dir + "/out.png") { _ in XCTFail("the writer must not run") }) {
            XCTAssertTrue("\($0)".contains("FIFO"), "\($0)")
        }
        XCTAssertEqual(OutputPath.kind(dir + "/out.png"), "FIFO")
        // openRegular neither blocks on the FIFO nor opens it.
        XCTAssertThrowsError(try OutputPath.openRegular(dir + "/out.png", flags: O_WRONLY, what: "event file"))
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: dir), ["out.png"], "no temporary file is left")
    }

    func testARegularFileIsReplacedAtomicallyAndAFailedWriterLeavesNothing() throws {
        let dir = freshFolder("regular")
        try AtomicFile.write(Data("one".utf8), to: dir + "/a.txt")
        try AtomicFile.write(Data("two".utf8), to: dir + "/a.txt")
        XCTAssertEqual(try String(contentsOfFile: dir + "/a.txt", encoding: .utf8), "two")
        struct Boom: Error {}
        XCTAssertThrowsError(try AtomicFile.writeVia(dir + "/b.txt") { _ in throw Boom() })
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["a.txt"])
        XCTAssertThrowsError(try AtomicFile.write(Data(), to: dir + "/a.txt/inside")) {
            XCTAssertTrue("\($0)".contains("not a folder"), "\($0)")
        }
    }

    func testHTMLEscapingLeavesNoMarkupAndLinksStayFileNames() {
        let hostile = "<img src=x onerror='alert(1)'>\"&"
        let escaped = HTML.escape(hostile)
        XCTAssertFalse(
            escaped.contains("<") || escaped.contains(">") || escaped.contains("\"") || escaped.contains("'"))
        XCTAssertEqual(HTML.escape("a & b"), "a &amp; b")
        XCTAssertEqual(HTML.relativeLink("javascript:alert(1)"), "./javascript%3Aalert%281%29")
        XCTAssertEqual(HTML.relativeLink("run one/report.html"), "./run%20one/report.html")
        for name in ["\"onmouseover=x", "a<b>", "x'y", "data:text/html,<b>"] {
            let link = HTML.relativeLink(name)
            XCTAssertTrue(link.hasPrefix("./"))
            XCTAssertFalse(link.contains { "\"'<>: ".contains($0) }, link)
            XCTAssertEqual(String(link.dropFirst(2)).removingPercentEncoding, name)
        }
    }

    func testPythonStringLiteralsHoldAnyTextAndEndNothing() {
        XCTAssertEqual(PythonSource.stringLiteral("plain"), "\"plain\"")
        XCTAssertEqual(PythonSource.stringLiteral("a\"b\\c"), "\"a\\\"b\\\\c\"")
        XCTAssertEqual(PythonSource.stringLiteral("\r\n\0"), "\"\\x0d\\x0a\\x00\"")
        XCTAssertEqual(PythonSource.stringLiteral("é\u{2028}😀"), "\"\\xe9\\u2028\\U0001f600\"")
        for text in ["\"\"\"\nimport os\n\"\"\"", "\u{85}x", "\u{FEFF}"] {
            let literal = PythonSource.stringLiteral(text)
            XCTAssertTrue(literal.unicodeScalars.allSatisfy { (0x20...0x7E).contains($0.value) }, literal)
            XCTAssertFalse(literal.dropFirst().dropLast().contains("\"\"\""))
        }
    }

    func testAnNPYThatHoldsMoreThanItsHeaderDeclaresIsRefused() throws {
        let dir = freshFolder("npy")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8)
        bytes += [UInt8](repeating: 0, count: 8)
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/exact.npy"))
        XCTAssertEqual(try NPY.read(dir + "/exact.npy").shape, [2])
        try Data(bytes + [0, 0, 0, 0]).write(to: URL(fileURLWithPath: dir + "/long.npy"))
        XCTAssertThrowsError(try NPY.read(dir + "/long.npy")) {
            XCTAssertTrue("\($0)".contains("long.npy") && "\($0)".contains("header declares"), "\($0)")
        }
    }
}
