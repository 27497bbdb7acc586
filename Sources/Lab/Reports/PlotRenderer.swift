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
        // The PNG at twice the page's pixels (1280 × 840 for the default page), the PDF as vectors.
        // Pixels per inch scale with the page, so a 2× PNG has the same layout and 2× the detail.
        for (suffix, device, scale) in [(".png", "pngcairo", 2.0), (".pdf", "pdfcairo", 1.0)] {
            try page(
                base + suffix, device: device, width: Int(Double(plot.width) * scale),
                height: Int(Double(plot.height) * scale), pixelsPerInch: 90 * scale
            ) { render(plot) }
        }
    }

    /// One page of `width` × `height` pixels drawn by `body` (PLplot calls, after plinit), written
    /// as every plot and figure is: atomically, room reserved first, PLplot's exit handler set, one
    /// page at a time. The default 180 pixels an inch draws text and lines at twice a 90-dpi page's.
    static func page(
        _ path: String, device: String = "pngcairo", width: Int, height: Int, pixelsPerInch: Double = 180,
        _ body: () -> Void
    ) throws {
        try AtomicFile.writeVia(path) { temporary in
            try reserve(temporary, for: path)
            try guarded(path, temporary: temporary) {
                lock.lock()
                defer { lock.unlock() }
                c_plsdev(device)
                c_plsfnam(temporary)
                c_plspage(pixelsPerInch, pixelsPerInch, Int32(width), Int32(height), 0, 0)
                c_plscolbg(255, 255, 255)
                c_plinit()
                c_pladv(0)
                c_plscol0(1, 0, 0, 0)
                c_plcol0(1)
                body()
                c_plend()
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
    private static func render(_ plot: Plot) {
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
        y1 += padY
        c_plschr(0, 0.85)
        let reference = plot.ratioTo.flatMap { name in drawn.first { $0.name == name && $0.steps } }
        // The legend sits above the data, outside it (a row of up to three entries a line); a
        // scatter coloured by value gets a colour bar at the right instead of a legend line.
        let legendRows = (drawn.filter { $0.colorValues == nil }.count + 2) / 3
        let scale = drawn.first { $0.colorValues != nil }
        let top = 0.90 - 0.055 * Double(legendRows), right = scale != nil ? 0.84 : 0.96
        c_plvpor(0.12, right, reference != nil ? 0.36 : 0.14, top)
        c_plwind(x0, x1, y0, y1)
        c_plscol0(1, 0, 0, 0)
        c_plcol0(1)
        c_plwidth(1)
        c_plbox(reference != nil ? "bcst" : "bcnst", 0, 0, plot.logY ? "bcnstlv" : "bcnstv", 0, 0)
        c_pllab(reference != nil ? "" : escaped(plot.xLabel), escaped(plot.yLabel), "")
        // The title above the legend's rows.
        c_plschr(0, 1.1)
        c_plmtex("t", 1.4 + 2.2 * Double(legendRows), 0.5, 0.5, escaped(plot.title))
        c_plschr(0, 0.85)
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
                if let errors = s.errors { errorBars(s, errors: errors, logY: plot.logY) }
            } else {
                var px = pairs.map(\.0), py = pairs.map { ty($0.1) }
                c_plline(Int32(px.count), &px, &py)
            }
        }
        c_plwidth(1)
        // Each series keeps its colour index (2 + its place among the drawn, as above).
        let listed = drawn.indices.filter { drawn[$0].colorValues == nil }
        if !listed.isEmpty {
            legend(listed.map { drawn[$0] }, colours: listed.map { Int32(2 + $0 % 13) }, rows: legendRows)
        }
        if let scale, let values = scale.colorValues {
            colourBar(values, label: scale.name, left: right + 0.03, bottom: reference != nil ? 0.36 : 0.14, top: top)
        }
        if let reference { ratioPanel(drawn, reference: reference, x0: x0, x1: x1, xLabel: plot.xLabel) }
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
            var above: [Double] = [], below: [Double] = []
            for i in s.y.indices where i + 1 < s.x.count && i < reference.y.count && reference.y[i] > 0 {
                let ratio = s.y[i] / reference.y[i], r = min(max(ratio, 0.4), 1.6)
                px += [s.x[i], s.x[i + 1]]; py += [r, r]
                // Off the scale: a marker at the edge says which way.
                if ratio > 1.6 { above.append((s.x[i] + s.x[i + 1]) / 2) }
                if ratio < 0.4 { below.append((s.x[i] + s.x[i + 1]) / 2) }
            }
            if px.count >= 2 { c_plline(Int32(px.count), &px, &py) }
            for (xs, y, mark) in [(above, 1.52, "▲"), (below, 0.48, "▼")] where !xs.isEmpty {
                var mx = xs, my = [Double](repeating: y, count: xs.count)
                c_plstring(Int32(xs.count), &mx, &my, mark)
            }
        }
        c_plwidth(1)
    }

    /// Vertical bars of ± `errors` at the centres of a step histogram's bins (bins at zero on a
    /// log axis left out; a bar reaching below zero there is cut at the bottom of the axis).
    private static func errorBars(_ s: Plot.Series, errors: [Double], logY: Bool) {
        var cx: [Double] = [], low: [Double] = [], high: [Double] = []
        for i in s.y.indices where i + 1 < s.x.count && i < errors.count && s.y[i].isFinite && errors[i].isFinite {
            let y = s.y[i], e = errors[i]
            guard !logY || y > 0 else { continue }
            cx.append((s.x[i] + s.x[i + 1]) / 2)
            low.append(logY ? log10(max(y - e, y * 1e-3)) : y - e)
            high.append(logY ? log10(y + e) : y + e)
        }
        guard !cx.isEmpty else { return }
        c_plwidth(1)
        c_plerry(Int32(cx.count), &cx, &low, &high)
    }

    /// A colour bar for a scatter coloured by rank: the scale from the lowest value to the highest,
    /// with the values at the 0, 25, 50, 75 and 100 % ranks written beside it.
    private static func colourBar(_ values: [Double], label: String, left: Double, bottom: Double, top: Double) {
        let finite = values.filter(\.isFinite).sorted()
        guard finite.count >= 2 else { return }
        c_plvpor(left, left + 0.03, bottom, top)
        c_plwind(0, 1, 0, 1)
        let steps = 64
        for k in 0..<steps {
            let (r, g, b) = Plot.colorScale((Double(k) + 0.5) / Double(steps))
            c_plscol0(15, Int32(r * 255), Int32(g * 255), Int32(b * 255))
            c_plcol0(15)
            var px = [0.0, 1, 1, 0],
                py = [Double(k), Double(k), Double(k + 1), Double(k + 1)].map { $0 / Double(steps) }
            c_plfill(4, &px, &py)
        }
        c_plcol0(1)
        c_plbox("bc", 0, 0, "bc", 0, 0)
        for q in [0.0, 0.25, 0.5, 0.75, 1.0] {
            let v = finite[min(finite.count - 1, Int(q * Double(finite.count - 1) + 0.5))]
            c_plmtex("rv", 0.6, q, q == 0 ? 0 : (q == 1 ? 1 : 0.5), escaped(String(format: "%.3g", v)))
        }
        c_plmtex("t", 2.2, 0.5, 0.5, escaped(label))
    }

    /// A legend of the drawn series above the plot, outside the data, up to three entries a row.
    private static func legend(_ drawn: [Plot.Series], colours: [Int32], rows: Int) {
        let n = Int32(drawn.count)
        var options = [Int32](repeating: Int32(PL_LEGEND_LINE), count: drawn.count)
        var textColours = [Int32](repeating: 1, count: drawn.count)
        var lineColours = colours
        var lineStyles = [Int32](repeating: 1, count: drawn.count)
        var lineWidths = [Double](repeating: 2, count: drawn.count)
        var zerosI = [Int32](repeating: 0, count: drawn.count), zerosF = [Double](repeating: 0, count: drawn.count)
        let texts = drawn.map { strdup(escaped($0.name)) }
        defer { texts.forEach { free($0) } }
        var textPointers: [UnsafePointer<CChar>?] = texts.map { UnsafePointer($0) }
        var symbols: [UnsafePointer<CChar>?] = drawn.map { _ in nil }
        var width = 0.0, height = 0.0
        c_pllegend(
            &width, &height, Int32(PL_LEGEND_ROW_MAJOR),
            Int32(PL_POSITION_TOP | PL_POSITION_OUTSIDE),
            0, 0.01, 0.08, 0, 1, 1, Int32(rows), Int32(min(drawn.count, 3)), n, &options, 0.8, 0.85, 1.8, 0,
            &textColours, &textPointers,
            &zerosI, &zerosI, &zerosF, &zerosF, &lineColours, &lineStyles, &lineWidths, &zerosI, &zerosF, &zerosI,
            &symbols)
    }
}
