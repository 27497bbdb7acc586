import CPLplot
import Foundation

/// A confusion matrix drawn by PLplot as a PNG: rows the true class, columns the predicted one,
/// each cell shaded by its fraction of the row and labelled with its count; class names on both
/// axes, a title above.
public struct MatrixFigure {
    public var counts: [[Int]]
    public var names: [String]
    public var title: String
    public var rowLabel = "true class"
    public var columnLabel = "predicted class"

    public init(counts: [[Int]], names: [String], title: String) {
        self.counts = counts; self.names = names; self.title = title
    }

    /// Writes the figure as a PNG (atomically, as every plot).
    public func write(_ path: String) throws {
        let k = names.count
        let cell = 110, left = 420, top = 150, bottom = 300
        let width = left + k * cell + 60, height = top + k * cell + bottom
        let w = Double(width), h = Double(height)
        try PlotRenderer.page(path, width: width, height: height) {
            c_plvpor(Double(left) / w, Double(left + k * cell) / w, Double(bottom) / h, Double(bottom + k * cell) / h)
            c_plwind(0, Double(k), 0, Double(k))
            c_plschr(0, 0.9)
            for (i, row) in counts.prefix(k).enumerated() {
                let total = max(row.reduce(0, +), 1)
                for (j, count) in row.prefix(k).enumerated() {
                    let f = Double(count) / Double(total)
                    c_plscol0(3, Int32(255 * (1 - 0.8 * f)), Int32(255 * (1 - 0.5 * f)), Int32(255 * (1 - 0.1 * f)))
                    c_plcol0(3)
                    // Row i from the top.
                    let y0 = Double(k - 1 - i), x0 = Double(j)
                    var xs = [x0 + 0.02, x0 + 0.98, x0 + 0.98, x0 + 0.02],
                        ys = [y0 + 0.02, y0 + 0.02, y0 + 0.98, y0 + 0.98]
                    c_plfill(4, &xs, &ys)
                    c_plscol0(4, f > 0.6 ? 255 : 0, f > 0.6 ? 255 : 0, f > 0.6 ? 255 : 0)
                    c_plcol0(4)
                    c_plptex(x0 + 0.5, y0 + 0.4, 1, 0, 0.5, String(count))
                }
            }
            c_plcol0(1)
            c_plbox("bc", 0, 0, "bc", 0, 0)
            for (i, name) in names.enumerated() {
                let at = (Double(i) + 0.5) / Double(k)
                // Row names at the left; column names under the matrix, written upwards.
                c_plmtex("lv", 0.8, 1 - at, 1, PlotRenderer.escaped(name))
                c_plmtex("bv", 0.8, at, 1, PlotRenderer.escaped(name))
            }
            c_plschr(0, 1.1)
            c_plmtex("t", 2.6, 0.5, 0.5, PlotRenderer.escaped(title))
            c_plschr(0, 0.9)
            c_plmtex("t", 0.7, 0.5, 0.5, PlotRenderer.escaped(columnLabel + " →"))
            c_plmtex("l", 16, 0.5, 0.5, PlotRenderer.escaped("↓ " + rowLabel))
        }
    }
}
