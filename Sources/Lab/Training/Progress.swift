import Foundation

/// A one-line progress bar on standard error: position, rate, ETA and the latest figures.
/// On a terminal it redraws in place; otherwise it prints a line every few seconds.
public final class ProgressBar {
    /// What `done` counts up to; a job whose work shrinks as it goes (decoy fits that stop early) lowers it.
    public var total: Int
    let label: String
    let unit: String
    let start = Date()
    var lastDraw = Date.distantPast
    let interactive = isatty(2) != 0
    public var quiet = false
    /// Whole epochs still to come after this bar's (a training run): the line then also shows the
    /// run's ETA at this bar's rate.
    public var epochsAfterThis = 0
    /// Every bar of this process stays silent (the ranks other than 0 of a data-parallel run).
    public nonisolated(unsafe) static var muted = false

    public init(total: Int, label: String, unit: String = "it") {
        self.total = total; self.label = label; self.unit = unit
        quiet = ProgressBar.muted
    }

    /// Redraws at most 10 times a second (every 5 s when not on a terminal).
    public func update(_ done: Int, items: Int? = nil, status: String = "") {
        guard !quiet else { return }
        let now = Date()
        let interval = interactive ? 0.1 : 5
        if now.timeIntervalSince(lastDraw) < interval && done < total { return }
        lastDraw = now
        let elapsed = now.timeIntervalSince(start)
        let rate = Double(items ?? done) / max(elapsed, 1e-9)
        let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
        let width = 24
        let filled = total > 0 ? min(width, width * done / total) : 0
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let run =
            epochsAfterThis > 0 && done > 0
            ? " (run \(ProgressBar.clock(eta + elapsed / Double(done) * Double(total * epochsAfterThis))))" : ""
        let line = String(
            format: "%@ %@ %d/%d  %.1f %@/s  ETA %@%@  %@", label, bar, done, total, rate, unit, ProgressBar.clock(eta),
            run, status)
        FileHandle.standardError.write(
            Data(((interactive ? "\r\u{1B}[K" : "") + line + (interactive ? "" : "\n")).utf8))
    }

    public func finish(_ message: String = "") {
        guard !quiet else { return }
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
    }

    static func clock(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600
            ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%d:%02d", t / 60, t % 60)
    }
}

/// Ctrl-C handling for long jobs: the first SIGINT sets a flag the loop checks between steps (so it
/// can save a checkpoint and stop cleanly); a second one exits at once.
public enum Interrupt {
    nonisolated(unsafe) static var flag: sig_atomic_t = 0

    /// Ctrl-C asks the loop to stop at the next step (a second one ends the process). With
    /// `terminate` SIGTERM asks the same: mpirun passes Ctrl-C on to the ranks as SIGTERM.
    public static func install(terminate: Bool = false) {
        flag = 0
        signal(SIGINT) { _ in
            if Interrupt.flag != 0 { _exit(130) }
            Interrupt.flag = 1
        }
        if terminate {
            signal(SIGTERM) { _ in
                if Interrupt.flag != 0 { _exit(143) }
                Interrupt.flag = 1
            }
        }
    }

    public static var requested: Bool { flag != 0 }
}
