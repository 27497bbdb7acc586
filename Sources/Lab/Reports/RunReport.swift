import Formats
import Foundation

/// `report.html`: one self-contained offline page per run folder — the command line, tables of
/// the headline numbers, and every picture in the folder embedded (PNG and GIF as data URIs), each
/// with links to its PDF and CSV beside it. No network, no script: it opens from a USB stick.
public struct RunReport {
    public var title: String
    /// Sections of key → value rows, shown in order.
    public var tables: [(heading: String, rows: [(String, String)])] = []
    /// Free text (already plain) shown under the title.
    public var notes: [String] = []

    public init(title: String) { self.title = title }

    public mutating func table(_ heading: String, _ rows: [(String, String)]) { tables.append((heading, rows)) }

    /// The command that made the run, as the user typed it.
    public static var commandLine: String {
        CommandLine.arguments.map { a in a.contains(" ") ? "'\(a)'" : a }.joined(separator: " ")
    }

    /// Writes FOLDER/NAME (report.html unless told; atomically), embedding the folder's pictures.
    // Long: one HTML page; the text is the function.
    public func write(folder: String, name: String = "report.html") throws {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
        var html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
            <style>
            body { font-family: "DejaVu Sans", sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
            h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
            table { border-collapse: collapse; margin: 0.5em 0; }
            td, th { padding: 2px 10px; border-bottom: 1px solid #eee; text-align: left; }
            td.v { font-family: "DejaVu Sans Mono", monospace; }
            code { background: #f4f4f4; padding: 2px 4px; word-break: break-all; }
            figure { display: inline-block; margin: 0.6em; vertical-align: top; }
            figcaption { font-size: 0.85em; color: #555; }
            img { max-width: 640px; border: 1px solid #ddd; }
            </style></head><body>
            <h1>\(escape(title))</h1>
            <p>Command: <code>\(escape(RunReport.commandLine))</code></p>
            <p>Written \(escape(ISO8601DateFormatter().string(from: Date()))) in <code>\(escape(folder))</code></p>

            """
        for n in notes { html += "<p>\(escape(n))</p>\n" }
        for t in tables {
            html += "<h2>\(escape(t.heading))</h2>\n<table>\n"
            for (k, v) in t.rows { html += "<tr><td>\(escape(k))</td><td class=\"v\">\(escape(v))</td></tr>\n" }
            html += "</table>\n"
        }
        let pictures = names.filter { ($0.hasSuffix(".png") || $0.hasSuffix(".gif")) && !$0.hasPrefix(".") }
        // Per-epoch sample grids are summarised by progress.gif and samples.png: not each embedded.
        let shown = pictures.filter { !($0.hasPrefix("samples_epoch_") || $0.hasPrefix("frame_")) }
        if !shown.isEmpty { html += "<h2>Plots and pictures</h2>\n" }
        for name in shown {
            guard let data = FileManager.default.contents(atPath: folder + "/" + name), data.count < 8 << 20 else {
                continue
            }
            let type = name.hasSuffix(".gif") ? "image/gif" : "image/png"
            let stem = String(name.dropLast(4))
            let extras = ["pdf", "csv"].filter { names.contains(stem + "." + $0) }
                .map { "<a href=\"\(HTML.relativeLink(stem + "." + $0))\">\($0.uppercased())</a>" }.joined(
                    separator: " · ")
            html += "<figure><img alt=\"\(escape(name))\" src=\"data:\(type);base64,\(data.base64EncodedString())\">"
            html += "<figcaption>\(escape(name))\(extras.isEmpty ? "" : " — " + extras)</figcaption></figure>\n"
        }
        let files = names.filter { !$0.hasPrefix(".") && !pictures.contains($0) && !$0.hasSuffix(".html") }
        if !files.isEmpty {
            html +=
                "<h2>Files in this run</h2>\n<p>"
                + files.map { "<a href=\"\(HTML.relativeLink($0))\">\(escape($0))</a>" }.joined(separator: " · ")
                + "</p>\n"
        }
        html += "</body></html>\n"
        try AtomicFile.write(Data(html.utf8), to: folder + "/" + name)
    }

    func escape(_ s: String) -> String { HTML.escape(s) }

    /// Rows of a dictionary of numbers, sorted by key.
    public static func rows(_ values: [String: Double]) -> [(String, String)] {
        values.keys.sorted().map { ($0, String(format: "%.6g", values[$0]!)) }
    }
}
