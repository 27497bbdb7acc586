import CMPI
import Foundation

/// The processes of one run: rank `rank` of `size`, joined by Open MPI when started under
/// `mpirun`, and a single process (rank 0 of 1, no MPI library touched) otherwise.
///
/// Collectives are blocking and must be called by every rank in the same order. A failed
/// collective ends the whole job (MPI_Abort) with the library's message and the rank: the other
/// ranks would otherwise wait in it for ever.
public final class Cluster: @unchecked Sendable {
    public let rank: Int
    public let size: Int
    public var isDistributed: Bool { size > 1 }
    /// Rank 0: the one that reads checkpoints and writes the run folder.
    public var isRoot: Bool { rank == 0 }
    /// Bytes and seconds spent in gradient all-reduces (for the communication report).
    public private(set) var reducedBytes = 0
    public private(set) var reduceSeconds = 0.0

    /// The process's cluster, set once by `start()` (a single process until then).
    public nonisolated(unsafe) private(set) static var world = Cluster(rank: 0, size: 1)

    /// One process on its own, whatever the job: for work rank 0 does alone while the other
    /// ranks have stopped (collectives are no-ops).
    public static let alone = Cluster(rank: 0, size: 1)

    private init(rank: Int, size: Int) { self.rank = rank; self.size = size }

    /// A run asked for several processes but Open MPI could not be loaded or started.
    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    /// Whether this process was started by an MPI launcher (Open MPI's mpirun/orted, or PMIx).
    public static var launchedByMPI: Bool {
        let env = ProcessInfo.processInfo.environment
        return env["OMPI_COMM_WORLD_SIZE"] != nil || env["PMIX_RANK"] != nil
    }

    /// Joins the MPI job when launched by mpirun (MPI_Init); a plain start stays one process and
    /// never loads libmpi. MPI_Finalize runs at normal exit.
    @discardableResult
    public static func start() throws -> Cluster {
        guard launchedByMPI, !world.isDistributed else { return world }
        var rank: Int32 = 0, size: Int32 = 1
        guard genlab_mpi_start(&rank, &size) == 0 else {
            throw Unavailable(
                description: "started by mpirun, but MPI did not start: " + String(cString: genlab_mpi_error()))
        }
        world = Cluster(rank: Int(rank), size: Int(size))
        atexit { _ = genlab_mpi_finalize() }
        return world
    }

    /// Rank 0 carries on as a single process (a command that does not share its work): collectives
    /// become no-ops. The other ranks should simply exit; MPI_Finalize still runs at exit.
    public static func runAlone() {
        world = Cluster(rank: 0, size: 1)
    }

    /// Ends every rank of the job (after an error on one rank, which the others cannot see).
    public func abort(code: Int32) -> Never {
        if isDistributed { genlab_mpi_abort(code) }
        exit(code)
    }

    private func check(_ rc: Int32) {
        guard rc != 0 else { return }
        FileHandle.standardError.write(
            Data("genlab: rank \(rank) of \(size): \(String(cString: genlab_mpi_error()))\n".utf8))
        abort(code: 70)
    }

    public func barrier() { if isDistributed { check(genlab_mpi_barrier()) } }

    /// Sums `count` floats at `values` over all ranks, in place (every rank gets the sum).
    public func sum(_ values: UnsafeMutablePointer<Float>, count: Int) {
        guard isDistributed, count > 0 else { return }
        let t0 = genlab_mpi_wtime()
        check(genlab_mpi_allreduce_sum_float(values, count))
        reducedBytes += count * MemoryLayout<Float>.size
        reduceSeconds += genlab_mpi_wtime() - t0
    }

    /// The element-wise sum of every rank's `values` (same length on all ranks).
    public func sum(_ values: [Double]) -> [Double] {
        guard isDistributed, !values.isEmpty else { return values }
        var v = values
        check(v.withUnsafeMutableBufferPointer { genlab_mpi_allreduce_sum_double($0.baseAddress, $0.count) })
        return v
    }

    /// The element-wise maximum of every rank's `values`.
    public func max(_ values: [Double]) -> [Double] {
        guard isDistributed, !values.isEmpty else { return values }
        var v = values
        check(v.withUnsafeMutableBufferPointer { genlab_mpi_allreduce_max_double($0.baseAddress, $0.count) })
        return v
    }

    /// Root's bytes on every rank (the others' argument is ignored).
    public func broadcast(_ data: Data, from root: Int = 0) -> Data {
        guard isDistributed else { return data }
        var length = [Double(rank == root ? data.count : 0)]
        length = max(length)  // only root's is non-zero
        var bytes = [UInt8](repeating: 0, count: Int(length[0]))
        if rank == root { bytes = [UInt8](data) }
        check(bytes.withUnsafeMutableBytes { genlab_mpi_broadcast($0.baseAddress, $0.count, Int32(root)) })
        return Data(bytes)
    }

    /// Every rank's bytes, in rank order, on root (nil on the other ranks).
    public func gather(_ data: Data, to root: Int = 0) -> [Data]? {
        guard isDistributed else { return [data] }
        guard data.count <= Int(Int32.max) else {
            FileHandle.standardError.write(
                Data("genlab: rank \(rank): \(data.count) bytes are too many to gather at once\n".utf8))
            abort(code: 70)
        }
        var mine = Int64(data.count)
        var counts = [Int64](repeating: 0, count: size)
        check(
            counts.withUnsafeMutableBytes { out in
                withUnsafeBytes(of: &mine) { genlab_mpi_allgather($0.baseAddress, 8, out.baseAddress) }
            })
        let total = counts.reduce(0, +)
        guard total <= Int64(Int32.max) else {
            FileHandle.standardError.write(
                Data("genlab: rank \(rank): \(total) bytes in all are too many to gather at once\n".utf8))
            abort(code: 70)
        }
        var offsets = [Int32](repeating: 0, count: size)
        for r in 1..<size { offsets[r] = offsets[r - 1] + Int32(counts[r - 1]) }
        let counts32 = counts.map { Int32($0) }
        var out = [UInt8](repeating: 0, count: rank == root ? Int(total) : 0)
        let send = [UInt8](data)
        check(
            send.withUnsafeBytes { s in
                out.withUnsafeMutableBytes { o in
                    genlab_mpi_gatherv(s.baseAddress, Int32(send.count), o.baseAddress, counts32, offsets, Int32(root))
                }
            })
        guard rank == root else { return nil }
        return (0..<size).map { r in Data(out[Int(offsets[r])..<Int(offsets[r]) + Int(counts[r])]) }
    }

    /// The part of `0..<count` this rank owns when `count` items are dealt out in rank order
    /// (contiguous, sizes differing by at most one).
    public func share(of count: Int) -> Range<Int> {
        (count * rank / size)..<(count * (rank + 1) / size)
    }
}

/// A rank other than 0 has done its share of a job that rank 0 finishes alone: it exits with success, silently.
public struct FollowerDone: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "done: rank 0 finishes the job" }
}

/// An error raised on rank 0 that every other rank stops for too (it is printed once, by rank 0).
public struct StoppedWithRoot: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}

extension Cluster {
    /// Runs `body` on rank 0 only and hands its result (or its error) to every rank: file checks
    /// and reads that only rank 0 does, which every rank must agree on before the next collective.
    public func onRoot(_ body: () throws -> Data) throws -> Data {
        guard isDistributed else { return try body() }
        var result = Data(), failure: Error?
        if isRoot {
            do { result = try body() } catch { failure = error }
        }
        // One flag byte (0 ok, 1 failed) then the result or the message.
        var packet = Data([failure == nil ? 0 : 1])
        packet += failure.map { Data("\($0)".utf8) } ?? result
        let shared = broadcast(isRoot ? packet : Data())
        if let failure { throw failure }
        guard let flag = shared.first else { return Data() }
        if flag == 1 { throw StoppedWithRoot(description: String(decoding: shared.dropFirst(), as: UTF8.self)) }
        return Data(shared.dropFirst())
    }
}
