import CPLplot
import Foundation

/// Grey images side by side, each with a title and lines drawn over it, and a caption under the
/// row, drawn by PLplot (real fonts) as a PNG: the symmetry detector's report pictures.
public struct PanelFigure {
    /// One square grey image (row-major, 0 black … 1 white) and what is drawn on it.
    public struct Panel {
        public var title: String
        public var pixels: [Float]
        public var side: Int
        /// Segments in the image's pixel coordinates (x right, y down), drawn in red.
        public var lines: [(x0: Double, y0: Double, x1: Double, y1: Double)] = []
        public init(title: String, pixels: [Float], side: Int) {
            self.title = title; self.pixels = pixels; self.side = side
        }
    }

    public var panels: [Panel]
    public var caption: String
    /// Each panel's side on the page, in pixels.
    public var cell = 320

    public init(panels: [Panel], caption: String) {
        self.panels = panels; self.caption = caption
    }

    /// The page's size in pixels.
    public var size: (width: Int, height: Int) {
        let pad = cell / 8
        return (pad + panels.count * (cell + pad), cell + 3 * pad + (caption.isEmpty ? 0 : 2 * pad))
    }

    /// Writes the figure as a PNG (atomically, as every plot).
    public func write(_ path: String) throws {
        let (width, height) = size
        let pad = Double(cell / 8), w = Double(width), h = Double(height)
        let bottom = caption.isEmpty ? pad : 3 * pad
        try PlotRenderer.page(path, width: width, height: height) {
            // A grey colour map for the images: intensity 0 → black, 1 → white.
            var position = [0.0, 1.0], ramp = [0.0, 1.0]
            c_plscmap1n(256)
            c_plscmap1l(1, 2, &position, &ramp, &ramp, &ramp, nil)
            c_plscol0(2, 220, 30, 30)
            c_plschr(0, 1.0)
            for (k, panel) in panels.enumerated() where panel.side > 0 && panel.pixels.count == panel.side * panel.side
            {
                let left = pad + Double(k) * (Double(cell) + pad)
                c_plvpor(left / w, (left + Double(cell)) / w, bottom / h, (bottom + Double(cell)) / h)
                let n = Double(panel.side)
                c_plwind(0, n, 0, n)
                // PLplot's image is indexed [x][y] with y up: one buffer, a pointer per column.
                let side = panel.side
                let values = UnsafeMutablePointer<Double>.allocate(capacity: side * side)
                defer { values.deallocate() }
                for x in 0..<side {
                    for y in 0..<side { values[x * side + y] = Double(panel.pixels[(side - 1 - y) * side + x]) }
                }
                var columns: [UnsafePointer<Double>?] = (0..<side).map { UnsafePointer(values + $0 * side) }
                c_plimage(&columns, Int32(side), Int32(side), 0, n, 0, n, 0, 1, 0, n, 0, n)
                c_plcol0(2)
                c_plwidth(2)
                for l in panel.lines { c_pljoin(l.x0, n - l.y0, l.x1, n - l.y1) }
                c_plwidth(1)
                c_plcol0(1)
                c_plbox("bc", 0, 0, "bc", 0, 0)
                c_plmtex("t", 0.8, 0.5, 0.5, PlotRenderer.escaped(panel.title))
            }
            if !caption.isEmpty {
                c_plvpor(0, 1, 0, bottom / h)
                c_plwind(0, 1, 0, 1)
                c_plptex(pad / w, 0.55, 1, 0, 0, PlotRenderer.escaped(caption))
            }
        }
    }
}
