import Foundation

/// An animated GIF encoder (GIF89a, looping), for latent walks.
///
/// Written here rather than through giflib because the encoder is small (LZW plus framing) and
/// GenLab's frames need only a fixed palette: 256 greys when every frame is grey, otherwise a
/// 6×7×6 colour cube.
public enum GIF {
    public static func encode(_ frames: [Image], delayCentiseconds: Int = 8) throws -> Data {
        guard let first = frames.first else { throw FormatError("gif", "no frames to write") }
        for (i, f) in frames.enumerated() where f.width != first.width || f.height != first.height {
            throw FormatError("gif", "frame \(i) is \(f.width)×\(f.height), frame 0 is \(first.width)×\(first.height)")
        }
        guard first.width <= 65535, first.height <= 65535 else { throw FormatError("gif", "frames too large for GIF") }
        let grey = frames.allSatisfy { $0.channels <= 2 }
        var out = Data("GIF89a".utf8)
        func u16(_ v: Int) { out.append(UInt8(v & 0xFF)); out.append(UInt8(v >> 8)) }
        u16(first.width); u16(first.height)
        out.append(contentsOf: [0xF7, 0, 0])  // global colour table of 256 entries
        for i in 0..<256 {
            if grey {
                out.append(contentsOf: [UInt8(i), UInt8(i), UInt8(i)])
            } else if i < 252 {
                let r = i / 42, g = (i / 6) % 7, b = i % 6
                out.append(contentsOf: [UInt8(r * 51), UInt8(g * 255 / 6), UInt8(b * 51)])
            } else {
                out.append(contentsOf: [0, 0, 0])
            }
        }
        // loop forever
        out.append(contentsOf: [0x21, 0xFF, 0x0B] + Array("NETSCAPE2.0".utf8) + [0x03, 0x01, 0x00, 0x00, 0x00])
        for frame in frames {
            out.append(contentsOf: [0x21, 0xF9, 0x04, 0x00])
            u16(delayCentiseconds)
            out.append(contentsOf: [0x00, 0x00])
            out.append(0x2C)
            u16(0); u16(0); u16(first.width); u16(first.height)
            out.append(0x00)
            out.append(0x08)  // LZW minimum code size
            let indices = grey ? greyIndices(frame) : cubeIndices(frame)
            let compressed = lzw(indices)
            var i = 0
            while i < compressed.count {
                let n = Swift.min(255, compressed.count - i)
                out.append(UInt8(n))
                out.append(contentsOf: compressed[i..<(i + n)])
                i += n
            }
            out.append(0x00)
        }
        out.append(0x3B)
        return out
    }

    public static func write(_ frames: [Image], to path: String, delayCentiseconds: Int = 8) throws {
        do { try AtomicFile.write(try encode(frames, delayCentiseconds: delayCentiseconds), to: path) } catch let e
            as FormatError where e.file == "gif"
        {
            throw FormatError(path, e.problem)
        }
    }

    static func greyIndices(_ im: Image) -> [UInt8] {
        (0..<(im.width * im.height)).map { UInt8(Swift.min(Swift.max(im.pixels[$0 * im.channels], 0), 1) * 255 + 0.5) }
    }

    static func cubeIndices(_ im: Image) -> [UInt8] {
        let rgb = im.rgb()
        return (0..<(im.width * im.height)).map { i in
            func q(_ v: Float, _ levels: Int) -> Int {
                Int((Swift.min(Swift.max(v, 0), 1) * Float(levels - 1)).rounded())
            }
            return UInt8(q(rgb.pixels[i * 3], 6) * 42 + q(rgb.pixels[i * 3 + 1], 7) * 6 + q(rgb.pixels[i * 3 + 2], 6))
        }
    }

    /// Variable-width LZW (codes of 9 to 12 bits, LSB first) over 8-bit indices.
    static func lzw(_ input: [UInt8]) -> [UInt8] {
        let clear = 256, end = 257
        var table: [Int: Int] = [:]
        var next = 258, width = 9
        var bits = 0, nbits = 0
        var out: [UInt8] = []
        func emit(_ code: Int) {
            bits |= code << nbits
            nbits += width
            while nbits >= 8 { out.append(UInt8(bits & 0xFF)); bits >>= 8; nbits -= 8 }
        }
        emit(clear)
        guard var prefix = input.first.map(Int.init) else { emit(end); return out }
        for byte in input.dropFirst() {
            let key = prefix << 8 | Int(byte)
            if let code = table[key] { prefix = code; continue }
            emit(prefix)
            if next < 4096 {
                table[key] = next
                next += 1
                if next > (1 << width) && width < 12 { width += 1 }
            } else {
                emit(clear)
                table.removeAll(keepingCapacity: true)
                next = 258
                width = 9
            }
            prefix = Int(byte)
        }
        emit(prefix)
        emit(end)
        if nbits > 0 { out.append(UInt8(bits & 0xFF)) }
        return out
    }
}
