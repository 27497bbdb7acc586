import Formats
import Foundation

/// Minimal raster plots (line charts and histograms) written as PNG, with a built-in 3×5 pixel
/// font for tick labels, titles and legends — enough for loss curves, ROC curves and
/// distributions without a plotting stack.
public struct Plot {
    public struct Series {
        public var name: String
        public var x: [Double]
        public var y: [Double]
        public var color: (Float, Float, Float)
        /// Draw as a step histogram (x are bin edges, y one shorter).
        public var steps: Bool
        /// Draw as points, each in its own colour (a scatter plot), instead of a line.
        public var pointColors: [(Float, Float, Float)]?
        /// An uncertainty band drawn under the line (e.g. a bootstrap 68 % interval).
        public var band: (low: [Double], high: [Double])?
        /// Error bars (± this much, per point or per histogram bin), e.g. √N on counts.
        public var errors: [Double]?
        /// For a scatter coloured by value: the values behind `pointColors` (for the colour bar).
        public var colorValues: [Double]?

        public init(name: String, x: [Double], y: [Double], color: (Float, Float, Float)? = nil, steps: Bool = false) {
            self.name = name; self.x = x; self.y = y; self.color = color ?? (0, 0, 0); self.steps = steps
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series] = []
    public var logY = false
    /// Draw a ratio panel under the plot: every other step histogram divided by this series.
    public var ratioTo: String?
    public var width = 640, height = 420

    public static let palette: [(Float, Float, Float)] = [
        (0.12, 0.47, 0.71), (0.84, 0.15, 0.16), (0.17, 0.63, 0.17),
        (1.0, 0.5, 0.05), (0.58, 0.4, 0.74), (0.55, 0.34, 0.29),
    ]

    public init(title: String, xLabel: String, yLabel: String) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel
    }

    public mutating func add(_ name: String, x: [Double], y: [Double], steps: Bool = false) {
        series.append(
            Series(name: name, x: x, y: y, color: Plot.palette[series.count % Plot.palette.count], steps: steps))
    }

    /// A line with an uncertainty band from `low` to `high`.
    public mutating func add(_ name: String, x: [Double], y: [Double], low: [Double], high: [Double]) {
        var s = Series(name: name, x: x, y: y, color: Plot.palette[series.count % Plot.palette.count])
        s.band = (low, high)
        series.append(s)
    }

    /// Adds a scatter of points coloured by `values` on a blue → yellow scale (by rank, so a few
    /// extreme values do not wash out the rest); the legend shows the scale from low to high.
    public mutating func scatter(_ name: String, x: [Double], y: [Double], values: [Double]) {
        let r = Statistics.ranks(values.map { $0.isFinite ? $0 : -.infinity })
        let n = Double(max(values.count - 1, 1))
        var s = Series(name: name, x: x, y: y, color: Plot.colorScale(0.5))
        s.pointColors = r.map { Plot.colorScale(($0 - 1) / n) }
        s.colorValues = values
        series.append(s)
    }

    /// A perceptually ordered colour scale (dark blue → teal → yellow), t in [0, 1].
    public static func colorScale(_ t: Double) -> (Float, Float, Float) {
        let anchors: [(Float, Float, Float)] = [
            (0.27, 0.00, 0.33), (0.23, 0.32, 0.55), (0.13, 0.57, 0.55), (0.37, 0.79, 0.38), (0.99, 0.91, 0.14),
        ]
        let u = max(0, min(1, t)) * Double(anchors.count - 1), i = min(Int(u), anchors.count - 2),
            f = Float(u - Double(i))
        let a = anchors[i], b = anchors[i + 1]
        return (a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f, a.2 + (b.2 - a.2) * f)
    }

    // Long: lays out one figure: ranges, ticks, curves, bands.
    public func render() -> Image {
        var canvas = Canvas(width: width, height: height)
        let left = 58, right = width - 16, top = 28, bottom = height - 40
        func ty(_ v: Double) -> Double { logY ? log10(max(v, 1e-12)) : v }
        let xs = series.flatMap(\.x).filter(\.isFinite), ys = series.flatMap { $0.y.map(ty) }.filter(\.isFinite)
        var (x0, x1) = (xs.min() ?? 0, xs.max() ?? 1), (y0, y1) = (ys.min() ?? 0, ys.max() ?? 1)
        if x1 <= x0 { x1 = x0 + 1 }
        if y1 <= y0 { y1 = y0 + 1 }
        let pad = (y1 - y0) * 0.05
        y0 -= pad; y1 += pad
        // Headroom for the legend (top right), so it does not sit on the data.
        let legend = Double(series.count * 14 + 8), plotHeight = Double(bottom - top)
        if !series.isEmpty && legend < plotHeight / 2 { y1 += (y1 - y0) * legend / (plotHeight - legend) }
        func px(_ x: Double) -> Double { Double(left) + (x - x0) / (x1 - x0) * Double(right - left) }
        func py(_ y: Double) -> Double { Double(bottom) - (ty(y) - y0) / (y1 - y0) * Double(bottom - top) }
        // Axes, ticks and labels.
        canvas.line(Double(left), Double(bottom), Double(right), Double(bottom), (0, 0, 0))
        canvas.line(Double(left), Double(top), Double(left), Double(bottom), (0, 0, 0))
        for i in 0...4 {
            let fx = x0 + (x1 - x0) * Double(i) / 4, fy = y0 + (y1 - y0) * Double(i) / 4
            let X = px(fx), Y = Double(bottom) - Double(bottom - top) * Double(i) / 4
            canvas.line(X, Double(bottom), X, Double(bottom + 4), (0, 0, 0))
            canvas.line(Double(left - 4), Y, Double(left), Y, (0, 0, 0))
            canvas.line(Double(left + 1), Y, Double(right), Y, (0.9, 0.9, 0.9))
            let xt = Plot.format(fx), yt = logY ? "1E" + Plot.format(fy) : Plot.format(fy)
            canvas.text(xt, x: Int(X) - xt.count * 4 / 2 * 2 / 2, y: bottom + 8, scale: 2)
            canvas.text(yt, x: left - 6 - yt.count * 8, y: Int(Y) - 5, scale: 2)
        }
        canvas.text(title, x: left, y: 6, scale: 2)
        canvas.text(xLabel, x: (left + right) / 2 - xLabel.count * 4, y: height - 16, scale: 2)
        canvas.text(yLabel, x: 4, y: 6 + 14, scale: 1)
        // Data.
        for s in series {
            if let colors = s.pointColors {
                for i in s.x.indices where s.x[i].isFinite && s.y[i].isFinite {
                    canvas.fill(Int(px(s.x[i])) - 1, Int(py(s.y[i])) - 1, 3, 3, colors[i])
                }
            } else if s.steps {
                for i in 0..<min(s.y.count, s.x.count - 1) where s.y[i].isFinite {
                    let Y = py(s.y[i])
                    canvas.line(px(s.x[i]), Y, px(s.x[i + 1]), Y, s.color)
                    if i + 1 < s.y.count, s.y[i + 1].isFinite {
                        canvas.line(px(s.x[i + 1]), Y, px(s.x[i + 1]), py(s.y[i + 1]), s.color)
                    }
                }
            } else {
                for i in 1..<max(s.x.count, 1)
                where s.x[i].isFinite && s.y[i].isFinite && s.x[i - 1].isFinite && s.y[i - 1].isFinite {
                    canvas.line(px(s.x[i - 1]), py(s.y[i - 1]), px(s.x[i]), py(s.y[i]), s.color)
                }
            }
        }
        // Legend, top right.
        for (i, s) in series.enumerated() {
            let y = top + 6 + i * 14, x = right - 10 - max(s.name.count * 8, 40)
            if s.pointColors != nil {
                // The colour scale, low (left) to high (right).
                for k in 0..<24 { canvas.fill(x - 32 + k, y + 1, 1, 8, Plot.colorScale(Double(k) / 23)) }
            } else {
                canvas.fill(x - 14, y + 1, 10, 8, s.color)
            }
            canvas.text(s.name, x: x, y: y, scale: 2)
        }
        return canvas.image
    }

    /// Writes the plot as PNG and PDF (drawn by PLplot) with a CSV of its numbers beside them:
    /// NAME.png, NAME.pdf, NAME.csv.
    public func write(_ path: String) throws { try PlotRenderer.write(self, to: path) }

    static func format(_ v: Double) -> String {
        if v == 0 { return "0" }
        let a = abs(v)
        if a >= 1e5 || a < 1e-3 { return String(format: "%.1e", v).uppercased() }
        if a >= 100 { return String(format: "%.0f", v) }
        if a >= 1 {
            return String(format: "%.2g", v) == String(format: "%.0f", v)
                ? String(format: "%.0f", v) : String(format: "%.1f", v)
        }
        return String(format: "%.2f", v)
    }
}

/// An RGB raster with anti-aliasing-free drawing primitives.
struct Canvas {
    let width: Int, height: Int
    var pixels: [Float]

    init(width: Int, height: Int) {
        self.width = width; self.height = height
        pixels = [Float](repeating: 1, count: width * height * 3)
    }

    var image: Image { Image(width: width, height: height, channels: 3, pixels: pixels) }

    mutating func set(_ x: Int, _ y: Int, _ c: (Float, Float, Float)) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = (y * width + x) * 3
        pixels[i] = c.0; pixels[i + 1] = c.1; pixels[i + 2] = c.2
    }

    mutating func fill(_ x: Int, _ y: Int, _ w: Int, _ h: Int, _ c: (Float, Float, Float)) {
        for yy in y..<(y + h) { for xx in x..<(x + w) { set(xx, yy, c) } }
    }

    mutating func line(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double, _ c: (Float, Float, Float)) {
        let n = Int(max(abs(x1 - x0), abs(y1 - y0)).rounded(.up)) + 1
        guard n < 100_000 else { return }
        for i in 0...n {
            let t = Double(i) / Double(n)
            set(Int((x0 + (x1 - x0) * t).rounded()), Int((y0 + (y1 - y0) * t).rounded()), c)
        }
    }

    mutating func text(_ s: String, x: Int, y: Int, scale: Int = 1, color: (Float, Float, Float) = (0, 0, 0)) {
        var cx = x
        for ch in s.uppercased() {
            if let rows = Font.glyphs[ch] {
                for (r, row) in rows.enumerated() {
                    for (c, bit) in row.enumerated() where bit == "#" {
                        fill(cx + c * scale, y + r * scale, scale, scale, color)
                    }
                }
            }
            cx += 4 * scale
        }
    }
}

/// A 3×5 pixel font: digits, letters (upper case) and the punctuation plots need.
enum Font {
    static let glyphs: [Character: [String]] = {
        let table: [(Character, String)] = [
            ("0", "###,#.#,#.#,#.#,###"), ("1", ".#.,##.,.#.,.#.,###"), ("2", "###,..#,###,#..,###"),
            ("3", "###,..#,.##,..#,###"),
            ("4", "#.#,#.#,###,..#,..#"), ("5", "###,#..,###,..#,###"), ("6", "###,#..,###,#.#,###"),
            ("7", "###,..#,.#.,.#.,.#."),
            ("8", "###,#.#,###,#.#,###"), ("9", "###,#.#,###,..#,###"), ("A", ".#.,#.#,###,#.#,#.#"),
            ("B", "##.,#.#,##.,#.#,##."),
            ("C", ".##,#..,#..,#..,.##"), ("D", "##.,#.#,#.#,#.#,##."), ("E", "###,#..,##.,#..,###"),
            ("F", "###,#..,##.,#..,#.."),
            ("G", ".##,#..,#.#,#.#,.##"), ("H", "#.#,#.#,###,#.#,#.#"), ("I", "###,.#.,.#.,.#.,###"),
            ("J", "..#,..#,..#,#.#,.#."),
            ("K", "#.#,#.#,##.,#.#,#.#"), ("L", "#..,#..,#..,#..,###"), ("M", "#.#,###,###,#.#,#.#"),
            ("N", "##.,#.#,#.#,#.#,#.#"),
            ("O", ".#.,#.#,#.#,#.#,.#."), ("P", "##.,#.#,##.,#..,#.."), ("Q", ".#.,#.#,#.#,##.,.##"),
            ("R", "##.,#.#,##.,#.#,#.#"),
            ("S", ".##,#..,.#.,..#,##."), ("T", "###,.#.,.#.,.#.,.#."), ("U", "#.#,#.#,#.#,#.#,###"),
            ("V", "#.#,#.#,#.#,#.#,.#."),
            ("W", "#.#,#.#,###,###,#.#"), ("X", "#.#,#.#,.#.,#.#,#.#"), ("Y", "#.#,#.#,.#.,.#.,.#."),
            ("Z", "###,..#,.#.,#..,###"),
            (".", "...,...,...,...,.#."), ("-", "...,...,###,...,..."), ("+", "...,.#.,###,.#.,..."),
            ("/", "..#,..#,.#.,#..,#.."),
            ("(", ".#.,#..,#..,#..,.#."), (")", ".#.,..#,..#,..#,.#."), (":", "...,.#.,...,.#.,..."),
            ("=", "...,###,...,###,..."),
            ("%", "#.#,..#,.#.,#..,#.#"), ("_", "...,...,...,...,###"), (",", "...,...,...,.#.,#.."),
            ("'", ".#.,.#.,...,...,..."),
            ("<", "..#,.#.,#..,.#.,..#"), (">", "#..,.#.,..#,.#.,#.."), ("|", ".#.,.#.,.#.,.#.,.#."),
            ("×", "...,#.#,.#.,#.#,..."),
            ("√", "..#,..#,..#,#.#,.#."), ("ε", ".##,#..,##.,#..,.##"), ("σ", "...,.##,#.#,#.#,.#."),
            ("τ", "...,###,.#.,.#.,.#."),
            ("η", "...,##.,#.#,#.#,..#"), ("φ", ".#.,###,#.#,###,.#."),
        ]
        var d: [Character: [String]] = [:]
        for (c, g) in table { d[c] = g.split(separator: ",").map(String.init) }
        return d
    }()
}
