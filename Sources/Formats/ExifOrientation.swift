import Foundation

/// The EXIF Orientation tag (0x0112) of a JPEG, read from its APP1 segment: the marker walk stops
/// at the first scan, every offset is bounds-checked, and anything malformed reads as "no tag".
public enum ExifOrientation {
    /// 1…8, or nil when the file has no (readable) orientation.
    public static func read(_ path: String) -> Int? {
        guard let h = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? h.close() }
        // APP segments come first; 256 KiB covers them (an APP1 holds at most 64 KiB).
        guard let data = try? h.read(upToCount: 256 << 10) else { return nil }
        return parse([UInt8](data))
    }

    public static func parse(_ b: [UInt8]) -> Int? {
        guard b.count > 4, b[0] == 0xFF, b[1] == 0xD8 else { return nil }
        var i = 2
        while i + 4 <= b.count, b[i] == 0xFF {
            let marker = b[i + 1]
            if marker == 0xDA || marker == 0xD9 { return nil }  // start of scan / end: no APP1 before it
            let length = Int(b[i + 2]) << 8 | Int(b[i + 3])
            guard length >= 2, i + 2 + length <= b.count else { return nil }
            if marker == 0xE1, length >= 8, Array(b[(i + 4)..<(i + 10)]) == Array("Exif\0\0".utf8) {
                return tiffOrientation(Array(b[(i + 10)..<(i + 2 + length)]))
            }
            i += 2 + length
        }
        return nil
    }

    /// The Orientation entry of IFD0 of a TIFF header.
    static func tiffOrientation(_ t: [UInt8]) -> Int? {
        guard t.count >= 8 else { return nil }
        let little: Bool
        switch (t[0], t[1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: return nil
        }
        func u16(_ o: Int) -> Int? {
            guard o >= 0, o + 2 <= t.count else { return nil }
            return little ? Int(t[o]) | Int(t[o + 1]) << 8 : Int(t[o]) << 8 | Int(t[o + 1])
        }
        func u32(_ o: Int) -> Int? {
            guard let a = u16(o), let b = u16(o + 2) else { return nil }
            return little ? a | b << 16 : a << 16 | b
        }
        guard let ifd = u32(4), let n = u16(ifd), n < 1000 else { return nil }
        for k in 0..<n {
            let e = ifd + 2 + 12 * k
            guard let tag = u16(e) else { return nil }
            if tag == 0x0112, let type = u16(e + 2), type == 3, let value = u16(e + 8), (1...8).contains(value) {
                return value
            }
        }
        return nil
    }
}
