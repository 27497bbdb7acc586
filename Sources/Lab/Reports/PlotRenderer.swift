import CPLplot
import Formats
import Foundation

/// Plots drawn by PLplot through its cairo drivers: real fonts (DejaVu through fontconfig), ticks
/// chosen by PLplot (decades and minor ticks on log axes, labelled 10ⁿ), Greek letters and
/// sub/superscripts, a legend that names only the series drawn. Each plot is written as PNG and
/// PDF (for papers), with the numbers behind it in a CSV beside them.
///
/// Labels use a small markup, turned into PLplot's escapes: `_{…}` subscript, `^{…}` superscript;
/// Greek letters are written as themselves (ε, σ, μ, …), which the cairo drivers render.
enum PlotRenderer {
    /// PLplot keeps global state: one plot at a time.
    static let lock = NSLock()

    static func write(_ plot: Plot, to path: String) throws {
        let base = path.hasSuffix(".png") ? String(path.dropLast(4)) : path
        try AtomicFile.write(Data(csv(plot).utf8), to: base + ".csv")
        for (suffix, device) in [(".png", "pngcairo"), (".pdf", "pdfcairo")] {
            try AtomicFile.writeVia(base + suffix) { temporary in
                try reserve(temporary, for: base + suffix)
                try guarded(base + suffix, temporary: temporary) {
                    try render(plot, device: device, file: temporary, scale: 1)
                }
            }
        }
    }

    /// Bytes a plot file is given room for before PLplot starts: PLplot ends the process on a
    /// write it cannot make, so a full disk or a folder without room is found here, by name.
    static let reservedBytes = 512 << 10

    /// Writes `reservedBytes` into the (empty, GenLab-made) temporary file and gives them back:
    /// fails with the system's reason when the disk or quota cannot hold a plot.
    static func reserve(_ temporary: String, for path: String) throws {
        let fd = open(temporary, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw FormatError(path, "cannot write the plot: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let zeros = [UInt8](repeating: 0, count: 1 << 16)
        var written = 0
        while written < reservedBytes {
            let n = Foundation.write(fd, zeros, zeros.count)
            guard n > 0 else {
                let reason = n < 0 ? String(cString: strerror(errno)) : "no space left"
                throw FormatError(path, "cannot write the plot (no room for it: \(reason))")
            }
            written += n
        }
        guard fsync(fd) == 0, ftruncate(fd, 0) == 0 else {
            throw FormatError(path, "cannot write the plot: \(String(cString: strerror(errno)))")
        }
    }

    /// The plot being written, for PLplot's exit handler (PLplot is used under `lock`, one plot at a time).
    nonisolated(unsafe) private static var current: (path: String, temporary: String)?

    /// Runs `body` with PLplot's exit handler set: should PLplot still fail (it would print
    /// "PLPLOT ERROR, IMMEDIATE EXIT" and end the process), GenLab's message names the file, the
    /// temporary file is removed, and the process ends with status 1.
    static func guarded(_ path: String, temporary: String, _ body: () throws -> Void) throws {
        current = (path, temporary)
        defer { current = nil }
        plsexit { message in
            let why = message.map { String(cString: $0) } ?? "unknown error"
            if let c = PlotRenderer.current {
                unlink(c.temporary)
                FileHandle.standardError.write(Data("Error: \(c.path): cannot write the plot: \(why)\n".utf8))
            } else {
                FileHandle.standardError.write(Data("Error: the plotting library failed: \(why)\n".utf8))
            }
            _exit(1)
        }
        try body()
    }

    /// The series as columns: series,x,y (and y_low,y_high where a band is drawn).
    static func csv(_ plot: Plot) -> String {
        var lines = ["series,x,y,y_low,y_high"]
        for s in plot.series {
            let name = s.name.contains(",") ? "\"\(s.name)\"" : s.name
            for i in s.y.indices where i < s.x.count {
                let band = s.band.map { i < $0.low.count ? "\($0.low[i]),\($0.high[i])" : "," } ?? ","
                lines.append("\(name),\(s.x[i]),\(s.y[i]),\(band)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Label markup → PLplot text escapes.
    static func escaped(_ s: String) -> String {
        var out = "", depth: [String] = []
        var chars = Array(s)[...]
        while let c = chars.first {
            chars = chars.dropFirst()
            if (c == "_" || c == "^"), chars.first == "{" {
                chars = chars.dropFirst()
                out += c == "_" ? "#d" : "#u"
                depth.append(c == "_" ? "#u" : "#d")
            } else if c == "}", let close = depth.popLast() {
                out += close
            } else if c == "#" {
                out += "##"
            } else {
                out.append(c)
            }
        }
        return out
    }

    // Long: one PLplot page: axes, curves, bands, legend, in the order PLplot needs them.
    private static func render(_ plot: Plot, device: String, file: String, scale: Double) throws {
        lock.lock(); defer { lock.unlock() }
        // Only what is drawn gets a legend entry: series with fewer than two plottable points are
        // left out, and a series identical to an earlier one (an AE's neg_elbo is its mse) joins its entry.
        var drawn: [Plot.Series] = []
        for s in plot.series
        where zip(s.x, s.y).filter({ $0.0.isFinite && $0.1.isFinite && (!plot.logY || $0.1 > 0) }).count >= 2 {
            if let k = drawn.firstIndex(where: { $0.x == s.x && $0.y == s.y }) {
                drawn[k].name += " = " + s.name
            } else {
                drawn.append(s)
            }
        }
        func ty(_ v: Double) -> Double { plot.logY ? log10(v) : v }
        var xs: [Double] = [], ys: [Double] = []
        for s in drawn {
            for (x, y) in zip(s.x, s.y) where x.isFinite && y.isFinite && (!plot.logY || y > 0) {
                xs.append(x); ys.append(ty(y))
            }
            if let b = s.band { ys += (b.low + b.high).filter { $0.isFinite && (!plot.logY || $0 > 0) }.map(ty) }
        }
        var x0 = xs.min() ?? 0, x1 = xs.max() ?? 1, y0 = ys.min() ?? 0, y1 = ys.max() ?? 1
        if x1 <= x0 { x0 -= 0.5; x1 += 0.5 }
        if y1 <= y0 { y0 -= 0.5; y1 += 0.5 }
        let padY = (y1 - y0) * 0.05
        y0 -= plot.logY ? 0 : padY
        y1 += padY + (y1 - y0) * 0.18 * Double(min(drawn.count, 6)) / 6  // headroom for the legend
        c_plsdev(device)
        c_plsfnam(file)
        c_plspage(0, 0, Int32(plot.width), Int32(plot.height), 0, 0)
        c_plscolbg(255, 255, 255)
        c_plinit()
        c_pladv(0)
        c_plschr(0, 0.85)
        let reference = plot.ratioTo.flatMap { name in drawn.first { $0.name == name && $0.steps } }
        c_plvpor(0.12, 0.96, reference != nil ? 0.36 : 0.14, 0.90)
        c_plwind(x0, x1, y0, y1)
        c_plscol0(1, 0, 0, 0)
        c_plcol0(1)
        c_plwidth(1)
        c_plbox(reference != nil ? "bcst" : "bcnst", 0, 0, plot.logY ? "bcnstlv" : "bcnstv", 0, 0)
        c_pllab(reference != nil ? "" : escaped(plot.xLabel), escaped(plot.yLabel), escaped(plot.title))
        for (k, s) in drawn.enumerated() {
            let colour = Int32(2 + k % 13)
            let (r, g, b) = s.color
            c_plscol0(colour, Int32(r * 255), Int32(g * 255), Int32(b * 255))
            if let band = s.band {
                // The band as a filled polygon: lower edge forward, upper edge back, 25 % opaque.
                let pts = s.x.indices.filter {
                    $0 < band.low.count && s.x[$0].isFinite && band.low[$0].isFinite && band.high[$0].isFinite
                        && (!plot.logY || (band.low[$0] > 0 && band.high[$0] > 0))
                }
                if pts.count >= 2 {
                    var px = pts.map { s.x[$0] } + pts.reversed().map { s.x[$0] }
                    var py = pts.map { ty(band.low[$0]) } + pts.reversed().map { ty(band.high[$0]) }
                    c_plscol0a(colour, Int32(r * 255), Int32(g * 255), Int32(b * 255), 0.25)
                    c_plcol0(colour)
                    c_plfill(Int32(px.count), &px, &py)
                    c_plscol0a(colour, Int32(r * 255), Int32(g * 255), Int32(b * 255), 1)
                }
            }
            c_plcol0(colour)
            c_plwidth(2)
            let pairs = zip(s.x, s.y).filter { $0.0.isFinite && $0.1.isFinite && (!plot.logY || $0.1 > 0) }
            if let colours = s.pointColors {
                for (i, (x, y)) in zip(s.x, s.y).enumerated() where x.isFinite && y.isFinite && i < colours.count {
                    let c = colours[i]
                    c_plscol0(15, Int32(c.0 * 255), Int32(c.1 * 255), Int32(c.2 * 255))
                    c_plcol0(15)
                    var px = [x], py = [ty(y)]
                    c_plstring(1, &px, &py, "•")
                }
            } else if s.steps {
                // Step histogram: x are the bin edges (one more than y).
                var px: [Double] = [], py: [Double] = []
                for i in s.y.indices where i + 1 < s.x.count && s.y[i].isFinite && (!plot.logY || s.y[i] > 0) {
                    px += [s.x[i], s.x[i + 1]]; py += [ty(s.y[i]), ty(s.y[i])]
                }
                c_plline(Int32(px.count), &px, &py)
            } else {
                var px = pairs.map(\.0), py = pairs.map { ty($0.1) }
                c_plline(Int32(px.count), &px, &py)
            }
        }
        c_plwidth(1)
        if !drawn.isEmpty { legend(drawn) }
        if let reference { ratioPanel(drawn, reference: reference, x0: x0, x1: x1, xLabel: plot.xLabel) }
        c_plend()
    }

    /// Under the plot: each other step histogram divided by the reference, bin by bin (0.5 … 1.5
    /// shown; empty reference bins left out), with the line at 1.
    private static func ratioPanel(
        _ drawn: [Plot.Series], reference: Plot.Series, x0: Double, x1: Double, xLabel: String
    ) {
        c_plvpor(0.12, 0.96, 0.14, 0.33)
        c_plwind(x0, x1, 0.4, 1.6)
        c_plcol0(1)
        c_plbox("bcnst", 0, 0, "bcnstv", 0.5, 5)
        c_pllab(escaped(xLabel), "ratio to " + escaped(reference.name), "")
        var ones = [x0, x1], level = [1.0, 1.0]
        c_pllsty(2)
        c_plline(2, &ones, &level)
        c_pllsty(1)
        for (k, s) in drawn.enumerated() where s.steps && s.name != reference.name && s.x == reference.x {
            c_plcol0(Int32(2 + k % 13))
            c_plwidth(2)
            var px: [Double] = [], py: [Double] = []
            for i in s.y.indices where i + 1 < s.x.count && i < reference.y.count && reference.y[i] > 0 {
                let r = min(max(s.y[i] / reference.y[i], 0.4), 1.6)
                px += [s.x[i], s.x[i + 1]]; py += [r, r]
            }
            if px.count >= 2 { c_plline(Int32(px.count), &px, &py) }
        }
        c_plwidth(1)
    }

    /// A legend of the drawn series, top right, inside the plot.
    private static func legend(_ drawn: [Plot.Series]) {
        let n = Int32(drawn.count)
        var options = [Int32](repeating: Int32(PL_LEGEND_LINE), count: drawn.count)
        var textColours = [Int32](repeating: 1, count: drawn.count)
        var lineColours = (0..<drawn.count).map { Int32(2 + $0 % 13) }
        var lineStyles = [Int32](repeating: 1, count: drawn.count)
        var lineWidths = [Double](repeating: 2, count: drawn.count)
        var zerosI = [Int32](repeating: 0, count: drawn.count), zerosF = [Double](repeating: 0, count: drawn.count)
        let texts = drawn.map { strdup(escaped($0.name + ($0.pointColors != nil ? ": purple low → yellow high" : ""))) }
        defer { texts.forEach { free($0) } }
        var textPointers: [UnsafePointer<CChar>?] = texts.map { UnsafePointer($0) }
        var symbols: [UnsafePointer<CChar>?] = drawn.map { _ in nil }
        var width = 0.0, height = 0.0
        c_pllegend(
            &width, &height, Int32(PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX),
            Int32(PL_POSITION_TOP | PL_POSITION_RIGHT | PL_POSITION_INSIDE),
            0.02, 0.02, 0.08, 0, 1, 1, 0, 0, n, &options, 0.8, 0.85, 1.8, 0, &textColours, &textPointers,
            &zerosI, &zerosI, &zerosF, &zerosF, &lineColours, &lineStyles, &lineWidths, &zerosI, &zerosF, &zerosI,
            &symbols)
    }
}
