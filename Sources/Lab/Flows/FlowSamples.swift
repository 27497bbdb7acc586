import Engine
import Formats
import Foundation

/// A flow's samples on disk: a CSV with a header line (every tool reads it) and an HDF5 file with
/// the table as `/samples` [rows, columns] and the names in its `columns` attribute (h5py, pandas).
public enum FlowSamples {
    public static func write(_ table: Tensor, names: [String], csv: String, hdf5: String) throws {
        precondition(table.rank == 2 && table.shape[1] == names.count)
        let width = names.count
        var text = names.joined(separator: ",") + "\n"
        let v = table.scalars
        text.reserveCapacity(v.count * 12)
        for r in 0..<table.shape[0] {
            text += (0..<width).map { "\(v[r * width + $0])" }.joined(separator: ",") + "\n"
        }
        try AtomicFile.write(Data(text.utf8), to: csv)
        try HDF5File.write(to: hdf5) { f in
            try f.write("samples", table, chunkRows: 4096)
            try f.setAttribute("columns", names.joined(separator: ","), on: "/samples")
        }
    }
}
