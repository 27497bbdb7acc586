import Foundation

/// This process's resident memory, from /proc/self/status (Linux): what `genlab bench models`
/// reports as a workload's memory, the same way the PyTorch script measures its side; and its CPU
/// time (getrusage), for the thread pool's idle cost.
public enum ProcessMemory {
    /// Current resident set size in bytes (VmRSS), nil where /proc is unavailable.
    public static func resident() -> Int? { field("VmRSS:") }

    /// Peak resident set size in bytes since the process started or since `resetPeak()` (VmHWM).
    public static func peak() -> Int? { field("VmHWM:") }

    /// Restarts the peak at the current resident size (writing "5" to /proc/self/clear_refs).
    public static func resetPeak() {
        guard let f = fopen("/proc/self/clear_refs", "w") else { return }
        fputs("5", f)
        fclose(f)
    }

    /// CPU time (user + system) this process has used so far, in seconds, every thread included.
    public static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    private static func field(_ name: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name) {
            let kb = line.dropFirst(name.count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap {
                Int($0)
            }
            return kb.map { $0 * 1024 }
        }
        return nil
    }
}
