import CFormats
import Engine
import Foundation

/// A decoded raster image: height × width × channels floats in [0, 1], row-major, interleaved.
public struct Image: Equatable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var pixels: [Float]
    /// Bits per sample in the file it came from (8 or 16).
    public var bitDepth: Int = 8

    public init(width: Int, height: Int, channels: Int, pixels: [Float], bitDepth: Int = 8) {
        precondition(
            pixels.count == width * height * channels,
            "GenLab Image: \(pixels.count) values for \(width)×\(height)×\(channels)")
        self.width = width; self.height = height; self.channels = channels; self.pixels = pixels;
        self.bitDepth = bitDepth
    }

    /// Reads a PNG or JPEG (chosen by the file's first bytes, not its name).
    public static func read(_ path: String, limits: InputLimits = .current) throws -> Image {
        try InputFile.requireRegular(path)
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw FormatError(path, FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file")
        }
        let magic = handle.readData(ofLength: 8)
        try? handle.close()
        if magic.isEmpty { throw FormatError(path, "empty file") }
        var raw = genlab_image()
        var error = [CChar](repeating: 0, count: 256)
        let status: Int32
        if magic.starts(with: [0x89, 0x50, 0x4E, 0x47]) {
            status = genlab_png_read(path, &raw, limits.maxBytes, &error)
        } else if magic.starts(with: [0xFF, 0xD8]) {
            status = genlab_jpeg_read(path, &raw, limits.maxBytes, &error)
        } else {
            throw FormatError(path, "not a PNG or JPEG image (unrecognised first bytes)")
        }
        guard status == 0, let p = raw.pixels else {
            let message = String(cString: error)
            throw FormatError(
                path, message.contains("input limit") ? message : "corrupt or truncated image: " + message)
        }
        defer { genlab_free(p) }
        let n = Int(raw.width) * Int(raw.height) * Int(raw.channels)
        let image = Image(
            width: Int(raw.width), height: Int(raw.height), channels: Int(raw.channels),
            pixels: Array(UnsafeBufferPointer(start: p, count: n)), bitDepth: Int(raw.bit_depth))
        // A camera's JPEG is stored as the sensor saw it; its EXIF orientation says how to show it.
        if magic.starts(with: [0xFF, 0xD8]), let orientation = ExifOrientation.read(path) {
            return image.oriented(orientation)
        }
        return image
    }

    /// Writes a PNG (8 or 16 bits a sample) atomically. Values are clamped to [0, 1].
    public func writePNG(_ path: String, bitDepth: Int = 8) throws {
        try AtomicFile.writeVia(path) { temporary in
            var error = [CChar](repeating: 0, count: 256)
            let status: Int32
            if bitDepth == 16 {
                let samples = pixels.map { UInt16(($0.isNaN ? 0 : Swift.min(Swift.max($0, 0), 1)) * 65535 + 0.5) }
                status = genlab_png_write(temporary, Int32(width), Int32(height), Int32(channels), 16, samples, &error)
            } else {
                status = genlab_png_write(temporary, Int32(width), Int32(height), Int32(channels), 8, bytes(), &error)
            }
            if status != 0 { throw FormatError(path, "PNG write failed: " + String(cString: error)) }
        }
    }

    /// The image as an 8-bit PNG in memory (for a web page; files go through `writePNG`).
    public func pngData() throws -> Data {
        var error = [CChar](repeating: 0, count: 256)
        var buffer: UnsafeMutablePointer<UInt8>?
        var length = 0
        let status = genlab_png_encode(Int32(width), Int32(height), Int32(channels), bytes(), &buffer, &length, &error)
        defer { free(buffer) }
        guard status == 0, let buffer else { throw FormatError("(PNG in memory)", String(cString: error)) }
        return Data(bytes: buffer, count: length)
    }

    /// Writes a JPEG (grey or RGB) atomically.
    public func writeJPEG(_ path: String, quality: Int = 92) throws {
        try AtomicFile.writeVia(path) { temporary in
            var error = [CChar](repeating: 0, count: 256)
            if genlab_jpeg_write(
                temporary, Int32(width), Int32(height), Int32(channels), bytes(), Int32(quality), &error) != 0
            {
                throw FormatError(path, "JPEG write failed: " + String(cString: error))
            }
        }
    }

    /// Samples as bytes (clamped, rounded).
    public func bytes() -> [UInt8] {
        pixels.map { UInt8(($0.isNaN ? 0 : Swift.min(Swift.max($0, 0), 1)) * 255 + 0.5) }
    }

    /// The image as a [C, H, W] tensor.
    public func tensor() -> Tensor {
        let t = Tensor(uninitialized: [channels, height, width])
        let p = t.storage.pointer, plane = width * height
        for i in 0..<plane { for c in 0..<channels { p[c * plane + i] = pixels[i * channels + c] } }
        return t
    }

    /// An image from a [C, H, W] (or [H, W]) tensor, mapping `range` to [0, 1].
    public init(tensor t: Tensor, range: ClosedRange<Float> = 0...1) {
        let (c, h, w) = t.rank == 2 ? (1, t.shape[0], t.shape[1]) : (t.shape[0], t.shape[1], t.shape[2])
        precondition(t.rank == 2 || t.rank == 3, "GenLab Image: tensor \(t.shape) is not [C, H, W] or [H, W]")
        let plane = w * h, span = range.upperBound - range.lowerBound, src = t.storage.pointer
        var px = [Float](repeating: 0, count: plane * c)
        for i in 0..<plane { for k in 0..<c { px[i * c + k] = (src[k * plane + i] - range.lowerBound) / span } }
        self.init(width: w, height: h, channels: c, pixels: px)
    }

    /// The background transparent pixels are composited on: white, as a browser shows a PNG.
    public static let alphaBackground: Float = 1

    /// Whether the image has an alpha channel (grey + alpha, or RGBA).
    public var hasAlpha: Bool { channels == 2 || channels == 4 }

    /// The colour channels composited over `alphaBackground` (c·α + white·(1 − α)); the image
    /// itself when it has no alpha.
    public func composited() -> Image {
        guard hasAlpha else { return self }
        let colours = channels - 1
        var px = [Float](repeating: 0, count: width * height * colours)
        for i in 0..<(width * height) {
            let a = pixels[i * channels + colours]
            for c in 0..<colours {
                px[i * colours + c] = pixels[i * channels + c] * a + Image.alphaBackground * (1 - a)
            }
        }
        return Image(width: width, height: height, channels: colours, pixels: px, bitDepth: bitDepth)
    }

    /// Grey from RGB (ITU-R 601 luma), alpha composited on white first; or the same image.
    public func grey() -> Image {
        let flat = composited()
        if flat.channels == 1 { return flat }
        var px = [Float](repeating: 0, count: width * height)
        for i in 0..<px.count {
            px[i] = 0.299 * flat.pixels[i * 3] + 0.587 * flat.pixels[i * 3 + 1] + 0.114 * flat.pixels[i * 3 + 2]
        }
        return Image(width: width, height: height, channels: 1, pixels: px)
    }

    /// Grey for reading a shape whatever the polarity of its drawing: `grey()`, except that an
    /// image whose colours are one flat value while its alpha varies (a shape drawn only in
    /// alpha, in any colour) is read from its alpha, opaque as dark.
    public func shapeGrey() -> Image {
        let flat = grey()
        guard hasAlpha, let lo = flat.pixels.min(), let hi = flat.pixels.max(), hi - lo < 1e-3 else { return flat }
        let alpha = stride(from: channels - 1, to: pixels.count, by: channels).map { pixels[$0] }
        guard let a0 = alpha.min(), let a1 = alpha.max(), a1 - a0 > 0.1 else { return flat }
        return Image(width: width, height: height, channels: 1, pixels: alpha.map { 1 - $0 })
    }

    /// RGB from grey or RGBA (alpha composited on white).
    public func rgb() -> Image {
        let flat = composited()
        if flat.channels == 3 { return flat }
        var px = [Float](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) { for c in 0..<3 { px[i * 3 + c] = flat.pixels[i] } }
        return Image(width: width, height: height, channels: 3, pixels: px)
    }

    /// The image as EXIF orientation `o` (1–8) says it is to be shown.
    public func oriented(_ o: Int) -> Image {
        guard (2...8).contains(o) else { return self }
        let transposed = o >= 5
        let (w, h) = transposed ? (height, width) : (width, height)
        var px = [Float](repeating: 0, count: pixels.count)
        for y in 0..<h {
            for x in 0..<w {
                // (sx, sy): where the shown pixel (x, y) lies in the stored image.
                let (sx, sy): (Int, Int)
                switch o {
                case 2: (sx, sy) = (width - 1 - x, y)
                case 3: (sx, sy) = (width - 1 - x, height - 1 - y)
                case 4: (sx, sy) = (x, height - 1 - y)
                case 5: (sx, sy) = (y, x)
                case 6: (sx, sy) = (y, height - 1 - x)
                case 7: (sx, sy) = (width - 1 - y, height - 1 - x)
                default: (sx, sy) = (width - 1 - y, x)
                }
                for c in 0..<channels { px[(y * w + x) * channels + c] = pixels[(sy * width + sx) * channels + c] }
            }
        }
        return Image(width: w, height: h, channels: channels, pixels: px, bitDepth: bitDepth)
    }

    /// The largest centred square.
    public func centreCropSquare() -> Image {
        let side = Swift.min(width, height)
        if width == height { return self }
        let x0 = (width - side) / 2, y0 = (height - side) / 2
        var px = [Float](repeating: 0, count: side * side * channels)
        for y in 0..<side {
            for x in 0..<side {
                for c in 0..<channels {
                    px[(y * side + x) * channels + c] = pixels[((y + y0) * width + x + x0) * channels + c]
                }
            }
        }
        return Image(width: side, height: side, channels: channels, pixels: px)
    }

    public enum Resampling: String, CaseIterable, Sendable { case area, bilinear }

    /// Resizes to width × height: `area` averages the source pixels each target pixel covers
    /// (right for shrinking), `bilinear` interpolates (half-pixel centres, as PIL/OpenCV).
    public func resized(width w: Int, height h: Int, method: Resampling = .area) -> Image {
        if w == width && h == height { return self }
        var px = [Float](repeating: 0, count: w * h * channels)
        let sx = Double(width) / Double(w), sy = Double(height) / Double(h)
        for y in 0..<h {
            for x in 0..<w {
                for c in 0..<channels {
                    px[(y * w + x) * channels + c] =
                        method == .area && (sx > 1 || sy > 1)
                        ? area(
                            c, x0: Double(x) * sx, x1: Double(x + 1) * sx, y0: Double(y) * sy, y1: Double(y + 1) * sy)
                        : bilinear(c, x: (Double(x) + 0.5) * sx - 0.5, y: (Double(y) + 0.5) * sy - 0.5)
                }
            }
        }
        return Image(width: w, height: h, channels: channels, pixels: px)
    }

    private func at(_ x: Int, _ y: Int, _ c: Int) -> Float {
        pixels[(Swift.min(Swift.max(y, 0), height - 1) * width + Swift.min(Swift.max(x, 0), width - 1)) * channels + c]
    }

    private func bilinear(_ c: Int, x: Double, y: Double) -> Float {
        let x0 = Int(x.rounded(.down)), y0 = Int(y.rounded(.down))
        let fx = Float(x - Double(x0)), fy = Float(y - Double(y0))
        let top = at(x0, y0, c) * (1 - fx) + at(x0 + 1, y0, c) * fx
        let bottom = at(x0, y0 + 1, c) * (1 - fx) + at(x0 + 1, y0 + 1, c) * fx
        return top * (1 - fy) + bottom * fy
    }

    private func area(_ c: Int, x0: Double, x1: Double, y0: Double, y1: Double) -> Float {
        var sum = 0.0, weight = 0.0
        var y = Int(y0.rounded(.down))
        while Double(y) < y1 {
            let wy = Swift.min(Double(y + 1), y1) - Swift.max(Double(y), y0)
            var x = Int(x0.rounded(.down))
            while Double(x) < x1 {
                let wx = Swift.min(Double(x + 1), x1) - Swift.max(Double(x), x0)
                sum += Double(at(x, y, c)) * wx * wy
                weight += wx * wy
                x += 1
            }
            y += 1
        }
        return Float(sum / Swift.max(weight, 1e-12))
    }
}
