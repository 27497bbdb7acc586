import Foundation

/// The protocol-buffer wire format, written by hand for the few messages GenLab writes (ONNX
/// models, TensorBoard events): varints, length-delimited fields, fixed 32- and 64-bit numbers.
/// Fields are written in the order their `add` calls come, which a reader accepts in any order.
public struct ProtobufWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    private mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 { bytes.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }

    private mutating func key(_ field: Int, _ wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }

    /// An int32/int64/enum/bool field (negative values as ten-byte two's complement, as protobuf does).
    public mutating func add(_ field: Int, int value: Int) {
        key(field, 0)
        varint(UInt64(bitPattern: Int64(value)))
    }

    public mutating func add(_ field: Int, double value: Double) {
        key(field, 1)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func add(_ field: Int, float value: Float) {
        key(field, 5)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func add(_ field: Int, bytes value: [UInt8]) {
        key(field, 2)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    public mutating func add(_ field: Int, string value: String) { add(field, bytes: Array(value.utf8)) }

    public mutating func add(_ field: Int, message: ProtobufWriter) { add(field, bytes: message.bytes) }

    /// A packed repeated int64 field.
    public mutating func add(_ field: Int, packedInts values: [Int]) {
        var inner = ProtobufWriter()
        for v in values { inner.varint(UInt64(bitPattern: Int64(v))) }
        add(field, bytes: inner.bytes)
    }
}
