import Foundation
import Fuzzing

// genlab-fuzz TARGET FILE…      replays files through a reader (regression inputs, crash repros)
// genlab-fuzz TARGET [libFuzzer flags] CORPUS…   fuzzes, when built by `make fuzz` (-D FUZZING,
// sanitizer coverage, libFuzzer's driver linked in).
// The target may also come from GENLAB_FUZZ_TARGET: libFuzzer's fork mode re-runs this binary
// with its own flags only, and the children find their target there.
var arguments = CommandLine.arguments
if arguments.count < 2 || FuzzTarget(rawValue: arguments[1]) == nil,
    let name = ProcessInfo.processInfo.environment["GENLAB_FUZZ_TARGET"]
{
    arguments.insert(name, at: 1)
}
guard arguments.count >= 2, let target = FuzzTarget(rawValue: arguments[1]) else {
    let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
    FileHandle.standardError.write(Data("usage: genlab-fuzz TARGET FILE… (targets: \(names))\n".utf8))
    exit(64)
}

#if FUZZING
    setenv("GENLAB_FUZZ_TARGET", target.rawValue, 1)
    nonisolated(unsafe) var fuzzTarget = target
    @_silgen_name("LLVMFuzzerRunDriver")
    func LLVMFuzzerRunDriver(
        _ argc: UnsafeMutablePointer<Int32>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
    ) -> Int32
    // libFuzzer sees the arguments after TARGET.
    var rest: [UnsafeMutablePointer<CChar>?] =
        [strdup(arguments[0])] + arguments.dropFirst(2).map { strdup($0) } + [nil]
    var count = Int32(rest.count - 1)
    let status = rest.withUnsafeMutableBufferPointer { buffer -> Int32 in
        var base: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = buffer.baseAddress
        return LLVMFuzzerRunDriver(&count, &base) { data, size in
            fuzzTarget.run(size > 0 && data != nil ? Data(bytes: data!, count: size) : Data())
            return 0
        }
    }
    exit(status)
#else
    var replayed = 0
    for path in arguments.dropFirst(2) {
        var isFolder: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: path, isDirectory: &isFolder)
        let files =
            isFolder.boolValue
            ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 }
            : [path]
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            target.run(data)
            replayed += 1
        }
    }
    print("replayed \(replayed) inputs through \(target.rawValue): no crash")
#endif
