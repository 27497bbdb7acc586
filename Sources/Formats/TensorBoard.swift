import Foundation

/// TensorBoard's event files (`events.out.tfevents.*`), written directly: each record is a
/// little-endian u64 length, its masked CRC-32C, the bytes of one `Event` protocol buffer and their
/// masked CRC-32C. Events carry scalars (`Summary.Value.simple_value`) and PNG images
/// (`Summary.Image`). `tensorboard --logdir Outputs/` shows every run folder that has one.
public final class TensorBoardLog {
    public let path: String
    private let fd: Int32

    /// Starts a new event file in `folder` (one per process: a resumed run adds a file, as
    /// PyTorch's SummaryWriter does), beginning with the file-version event.
    public init(folder: String, wallTime: Double = Date().timeIntervalSince1970) throws {
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, 255)
        path = folder + "/events.out.tfevents.\(Int(wallTime)).\(String(cString: host)).\(getpid()).genlab"
        fd = try OutputPath.openRegular(path, flags: O_WRONLY | O_APPEND, what: "TensorBoard event file")
        var event = ProtobufWriter()
        event.add(1, double: wallTime)
        event.add(3, string: "brain.Event:2")
        try write(event)
    }

    deinit { close(fd) }

    /// One scalar under `tag` at `step`.
    public func scalar(
        _ tag: String, _ value: Double, step: Int, wallTime: Double = Date().timeIntervalSince1970
    ) throws {
        var v = ProtobufWriter()
        v.add(1, string: tag)
        v.add(2, float: Float(value))
        try summary([v], step: step, wallTime: wallTime)
    }

    /// Several scalars at one step, in one event.
    public func scalars(_ values: [String: Double], step: Int, wallTime: Double = Date().timeIntervalSince1970) throws {
        let entries = values.sorted { $0.key < $1.key }.filter { $0.value.isFinite }.map {
            tag, value -> ProtobufWriter in
            var v = ProtobufWriter()
            v.add(1, string: tag)
            v.add(2, float: Float(value))
            return v
        }
        if !entries.isEmpty { try summary(entries, step: step, wallTime: wallTime) }
    }

    /// A PNG image (its encoded bytes) under `tag` at `step`.
    public func image(
        _ tag: String, png: Data, width: Int, height: Int, channels: Int, step: Int,
        wallTime: Double = Date().timeIntervalSince1970
    ) throws {
        var image = ProtobufWriter()
        image.add(1, int: height)
        image.add(2, int: width)
        image.add(3, int: channels)
        image.add(4, bytes: [UInt8](png))
        var v = ProtobufWriter()
        v.add(1, string: tag)
        v.add(4, message: image)
        try summary([v], step: step, wallTime: wallTime)
    }

    private func summary(_ values: [ProtobufWriter], step: Int, wallTime: Double) throws {
        var summary = ProtobufWriter()
        for v in values { summary.add(1, message: v) }
        var event = ProtobufWriter()
        event.add(1, double: wallTime)
        event.add(2, int: step)
        event.add(5, message: summary)
        try write(event)
    }

    private func write(_ event: ProtobufWriter) throws {
        let bytes = TensorBoardLog.record(event.bytes)
        let end = lseek(fd, 0, SEEK_END)
        let n = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else {
            // A partial record would make TensorBoard stop reading the file there: take it back.
            if end >= 0 { ftruncate(fd, end) }
            throw FormatError(
                path, "cannot append a TensorBoard event: \(n < 0 ? String(cString: strerror(errno)) : "disk full?")")
        }
    }

    // MARK: Framing

    /// A record: length, masked CRC of the length, data, masked CRC of the data.
    public static func record(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        withUnsafeBytes(of: UInt64(data.count).littleEndian) { out.append(contentsOf: $0) }
        let lengthCRC = maskedCRC32C(out)
        withUnsafeBytes(of: lengthCRC.littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: data)
        withUnsafeBytes(of: maskedCRC32C(data).littleEndian) { out.append(contentsOf: $0) }
        return out
    }

    /// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as TFRecord uses.
    public static func crc32c(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc = crc32cTable[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8)
        }
        return crc ^ 0xFFFF_FFFF
    }

    /// TFRecord's mask: rotate right by 15 bits and add a constant.
    public static func maskedCRC32C(_ bytes: [UInt8]) -> UInt32 {
        let crc = crc32c(bytes)
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }

    static let crc32cTable: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        return c
    }
}
