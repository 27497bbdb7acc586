import Cluster
import Engine
import Formats
import Foundation
import Models
import NN

/// `genlab symmetry score`: how symmetric is an image, and which way?
///
/// The image is made two-colour (Otsu's threshold; `SymmetryGeometry.canonical`: the shape is the
/// colour that covers less of the border, closed outlines filled, framed on the shape), a decoy
/// network is fitted to it under several seeds, and the classifier reads each fit's PCA images.
/// Reported: the class probabilities (mean and spread over seeds), the most likely symmetry, the
/// estimated breaking ε̂, and the score (1 − P(none))·(1 − ε̂) in [0, 1] with its spread.
public final class SymmetryDetector {
    public static let kind = ModelKind.symmetry
    /// Decoy fits a reported score averages (`genlab symmetry score`, `evaluate`, `train`'s
    /// measurement, the demo). The score's order within a sweep is limited by the decoy's
    /// randomness more than by the classifier: over the shipped model's 150 held-out sweeps (both
    /// sets), mean ρ(ε, score) is −0.63 for one fit, −0.78 for the mean of 5, −0.81 of 10, −0.85 of 20.
    public static let defaultFits = 20

    public struct Config: Codable, Sendable {
        public var cnn: SymmetryCNN.Config
        public var representation: SymmetryRepresentation
        public var classes: [String]
        /// How the classifier was trained (seeds and set sizes), so an evaluation can tell whether
        /// its sets are new to it; absent in checkpoints written before it was recorded.
        public var training: SymmetryTrainingOptions? = nil

        /// Problems in words (a checkpoint's config, which anyone can edit): the classifier's and
        /// the representation's limits and budgets, and whether the two fit together.
        public var problems: [String] {
            cnn.problems + representation.problems
                + (cnn.imageSize == representation.size && cnn.channels == representation.channels
                    ? []
                    : [
                        "the classifier reads \(cnn.channels)×\(cnn.imageSize)² but the representation makes "
                            + "\(representation.channels)×\(representation.size)²"
                    ])
        }
    }

    public struct Score: Codable, Sendable {
        public var image: String?
        public var probabilities: [String: Double]
        public var probabilitySpread: [String: Double]
        /// The most likely class, and the most likely symmetry (the best class other than none).
        public var mostLikely: String
        public var symmetry: String
        public var epsilon: Double
        public var score: Double
        public var scoreSpread: Double
        public var seeds: Int
        /// The score of each decoy fit, seed by seed.
        public var seedScores: [Double]
        /// Fraction of pixels set after binarisation, and the threshold used (grey level in [0, 1]).
        public var fill: Double?
        public var threshold: Double?
        /// Which way, for the reported symmetry, measured on the two-colour image
        /// (`SymmetryGeometry`; degrees counter-clockwise from the rightward axis): the order n of
        /// a discrete rotation, the mirror axes (one for reflection, two for reflection_both, n or
        /// none for a discrete rotation), the stripes' direction for translation; and in words.
        public var order: Int?
        public var mirrorAxes: [Double]?
        public var translationDirection: Double?
        public var whichWay: String?
        /// Everything the pixels say, whatever the class.
        public var measured: SymmetryGeometry.Orientation?
        /// Why `mostLikely` is not the classifier's best class, when it is not: a discrete rotation
        /// or two mirrors that the pixels do not show, or a clear mirror where the classifier saw
        /// none (see `overruling`). The class's probability then counts as the new verdict's in
        /// `score` and `seedScores` (`probabilities` stay the classifier's).
        public var overruled: String? = nil

        /// The verdict in words, as `demo` and `symmetry score` print it: the class the detector
        /// settles on with its probability; for a none, the best symmetry beside it; for a reading
        /// the pixels overruled, what the classifier said.
        public var verdict: String {
            if overruled != nil, let said = probabilities.max(by: { $0.value < $1.value }) {
                return String(
                    format: "%@, overruled by the pixels (the classifier said %@, P = %.2f)", mostLikely, said.key,
                    said.value)
            }
            if mostLikely == SymmetryClass.none.name {
                return String(
                    format: "none (P = %.2f; best symmetry %@, P = %.2f)", probabilities[mostLikely] ?? .nan, symmetry,
                    probabilities[symmetry] ?? .nan)
            }
            return String(format: "%@ (P = %.2f)", mostLikely, probabilities[mostLikely] ?? .nan)
        }

        /// Fills the "which way" fields for the reported symmetry from a measurement.
        public mutating func describe(_ o: SymmetryGeometry.Orientation) {
            let way = SymmetryDetector.whichWay(SymmetryClass.named(symmetry) ?? .none, o)
            order = way.order; mirrorAxes = way.axes; translationDirection = way.direction
            whichWay = way.text; measured = o
        }
    }

    /// Side of the two-colour image "which way" is measured on when the original is at hand
    /// (`SymmetryRun`): finer than the classifier's 32 × 32, where 45° turns blur into the grid.
    public static let geometrySize = 64

    /// What a file's fine two-colour image (`geometrySize`², canonical) measures: every agreement
    /// relative to the pixel grid's own (`SymmetryGeometry.gridCeiling`), so that a fine pattern's
    /// exact symmetry reads about 1 as a coarse one's does. The verdict rules (`overruling`) read this.
    public static func measured(_ geometry: [Float]) -> SymmetryGeometry.Orientation {
        SymmetryGeometry.orientation(geometry, size: geometrySize, relativeToGrid: true)
    }

    /// The "which way" fields of a score for `symmetry`, from what the pixels say.
    static func whichWay(
        _ symmetry: SymmetryClass, _ o: SymmetryGeometry.Orientation
    ) -> (order: Int?, axes: [Double]?, direction: Double?, text: String) {
        func deg(_ a: Double) -> String { String(format: "%.0f°", a) }
        switch symmetry {
        case .discreteRotation:
            let n = o.bestOrder  // (`order`, when 3 or more, is `bestOrder`)
            // Dₙ when n mirror axes show (about), Cₙ otherwise.
            let axes =
                o.mirrorAxes.count >= 2 && o.mirrorAxes.count >= n - 1 ? Array(o.mirrorAxes.prefix(n)).sorted() : []
            return (
                n, axes, nil, axes.isEmpty ? "C\(n)" : "D\(n), mirror axes at " + axes.map(deg).joined(separator: ", ")
            )
        case .reflection:
            return (nil, [o.bestAxis], nil, "mirror axis at " + deg(o.bestAxis))
        case .reflectionBoth:
            let axes = [o.bestAxis, o.perpendicularAxis].sorted()
            return (nil, axes, nil, "mirror axes at " + axes.map(deg).joined(separator: " and "))
        case .translation:
            return (nil, nil, o.translationDirection, "invariant along " + deg(o.translationDirection))
        case .rotation:
            return (nil, nil, nil, "every rotation about the centre")
        case .none:
            return (nil, nil, nil, "none")
        }
    }

    /// The agreement of a file's two-colour image (at `geometrySize`) with its turn by 360°/n, for
    /// its best n, below which a `discrete_rotation` verdict is overruled (to the mirrors the image
    /// clearly has, else `none`). On the first five independent test sets every Cₙ/Dₙ image but one
    /// agrees at least 0.90, every `none` image at most 0.82, while the classifier called lopsided
    /// blobs and scribbles C₃ or C₄.
    public static let rotationAgreementFloor = 0.85

    /// The agreement of a file's two-colour image with its mirror image at or above which a `none`
    /// verdict becomes `reflection` (`reflection_both` when the perpendicular mirror agrees as
    /// well, which also turns a `reflection` into `reflection_both`): the image then matches its
    /// mirror image on nearly every pixel. Chosen on nine independent sets where one `none` image
    /// in 158 reached it, against half of the true mirror images; measured in the window since,
    /// two of the 22 `none` potentials of `Datasets/symmetry/test` (one curved edge across the
    /// frame) reach it.
    public static let clearMirrorAgreement = 0.94

    /// Roundness (the smallest agreement under turns by 23°, 61° and 113°) at or above which the
    /// verdict is `rotation`. Chosen on `Datasets/symmetry/frames`, where rings and ripples that
    /// reach the corners of a turned frame measure 0.74–0.94 (all but one ≥ 0.81) and were read as
    /// `none` or mirrors; the highest image of another class there measures 0.73 (a bold O in
    /// `test`, labelled two mirrors, 0.84).
    public static let roundAgreement = 0.80

    /// Agreement with the best turn by 360°/n (n = 3…12) at or above which the verdict is
    /// `discrete_rotation`. Chosen on `Datasets/symmetry/frames`, where odd and even Cₙ textures and
    /// spirals in turned frames measure 0.91–0.97 and were read as `none` or mirrors; the highest
    /// image of another class there measures 0.83.
    public static let clearTurnAgreement = 0.90

    /// Agreement under shifts along the stripes' direction below which a `translation` verdict
    /// becomes `none`: true stripes in `frames`, `test` and `test2` agree at least 0.82 with their
    /// shifts, the asymmetric textures of `frames` the classifier read as stripes at most 0.39.
    public static let translationAgreementFloor = 0.5

    /// What the fine image measured says instead of the classifier's `verdict`, and why; nil when
    /// the verdict stands. A clear symmetry the pixels show is the verdict, the largest first: a
    /// round image (`roundAgreement`) is `rotation` (unless the classifier said `discrete_rotation`
    /// and the turn is clear: a heptagon's turns by 23°, 61° and 113° agree about 0.8), a clear
    /// turn by 360°/n (`clearTurnAgreement`) `discrete_rotation`, clear perpendicular mirrors
    /// (`clearMirrorAgreement`) turn `none` or `reflection` into `reflection_both`, a clear mirror
    /// turns `none` into `reflection`. A symmetry the pixels do not show is taken away: a discrete
    /// rotation without its turn (`rotationAgreementFloor`), two mirrors where no axis reaches
    /// `SymmetryGeometry.threshold`, stripes that do not agree with their shifts
    /// (`translationAgreementFloor`). One mirror is never taken away: drawn one-mirror figures
    /// (sketches, stick figures) often agree less than 0.75 with their mirror image at 64 px, and
    /// are still mirrors.
    static func overruling(
        _ verdict: SymmetryClass, _ m: SymmetryGeometry.Orientation
    ) -> (verdict: SymmetryClass, why: String)? {
        let mirror = m.bestAxisAgreement >= clearMirrorAgreement
        let both = mirror && m.perpendicularAxisAgreement >= clearMirrorAgreement
        let mirrors =
            both
            ? String(
                format: "its mirror images in %.0f° and %.0f° agree %.2f and %.2f (≥ %.2f)", m.bestAxis,
                m.perpendicularAxis, m.bestAxisAgreement, m.perpendicularAxisAgreement, clearMirrorAgreement)
            : String(
                format: "its mirror image in %.0f° agrees %.2f (≥ %.2f)", m.bestAxis, m.bestAxisAgreement,
                clearMirrorAgreement)
        let turn = String(
            format: "its turn by 360°/%d agrees %.2f", m.bestOrder, m.bestOrderAgreement)
        let result: (SymmetryClass, String)?
        let clearTurn = m.bestOrderAgreement >= clearTurnAgreement
        // A many-sided polygon is nearly round: the classifier's Cₙ stands where its turn is clear.
        if m.roundness >= roundAgreement, !(verdict == .discreteRotation && clearTurn) {
            result = (
                .rotation,
                String(format: "its turns by 23°, 61° and 113° all agree ≥ %.2f (≥ %.2f)", m.roundness, roundAgreement)
            )
        } else if clearTurn {
            result = (.discreteRotation, turn + String(format: " (≥ %.2f)", clearTurnAgreement))
        } else {
            switch verdict {
            case .none where both, .reflection where both: result = (.reflectionBoth, mirrors)
            case .none where mirror: result = (.reflection, mirrors)
            case .discreteRotation where m.bestOrderAgreement < rotationAgreementFloor:
                result = (
                    both ? .reflectionBoth : mirror ? .reflection : .none,
                    turn + String(format: " only (< %.2f)", rotationAgreementFloor) + (mirror ? "; " + mirrors : "")
                )
            case .reflectionBoth where m.bestAxisAgreement < SymmetryGeometry.threshold:
                result = (
                    .none,
                    String(
                        format: "its best mirror image agrees only %.2f (< %.2f)", m.bestAxisAgreement,
                        SymmetryGeometry.threshold)
                )
            case .translation where (m.translationAgreement ?? 1) < translationAgreementFloor:
                result = (
                    .none,
                    String(
                        format: "its shifts along %.0f° agree only %.2f (< %.2f)", m.translationDirection,
                        m.translationAgreement ?? 1, translationAgreementFloor)
                )
            default: result = nil
            }
        }
        guard let (new, why) = result, new != verdict else { return nil }
        return (new, verdict.name + ": " + why)
    }

    public let model: SymmetryCNN
    public let config: Config
    /// Whether closed outlines are filled before a file is scored (`SymmetryGeometry.filledShape`);
    /// `--keep-holes` turns it off.
    public var fillsHoles = true

    public init(model: SymmetryCNN, config: Config) {
        self.model = model; self.config = config
        model.eval()
    }

    public convenience init(checkpoint path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw FormatError(path, "no such checkpoint") }
        let ckpt = try Checkpoint.load(path)
        guard ckpt.modelKind == Self.kind else {
            throw FormatError(path, "holds a '\(ckpt.kind)' model, not a symmetry detector")
        }
        let config = try ckpt.decodeConfig(Config.self, file: path, problems: \.problems)
        guard config.classes == SymmetryClass.allCases.map(\.name) else {
            throw FormatError(
                path,
                "was trained on classes \(config.classes), this GenLab knows \(SymmetryClass.allCases.map(\.name))")
        }
        var rng = PRNG(seed: 0)
        let model = SymmetryCNN(config.cnn, rng: &rng)
        try ckpt.restore(into: model, file: path)
        self.init(model: model, config: config)
    }

    /// Where the shipped checkpoint lives: $GENLAB_HOME/Pretrained, ./Pretrained, or beside the
    /// repository the executable was built in.
    public static func defaultCheckpoint() -> String? {
        var candidates: [String] = []
        if let home = ProcessInfo.processInfo.environment["GENLAB_HOME"] {
            candidates.append(home + "/Pretrained/symmetry.safetensors")
        }
        candidates.append("Pretrained/symmetry.safetensors")  // relative, so messages show it as the user would type it
        var exe = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        for _ in 0..<4 {
            exe.deleteLastPathComponent()
            candidates.append(exe.path + "/Pretrained/symmetry.safetensors")
        }
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }

    public var size: Int { config.representation.size }

    /// Scores two-colour images (size² values of 0/1 each), each under the seeds in order: all of
    /// them, or with `stopping` as many as its verdict needs. `progress` is told how many decoy fits
    /// are done and how many the run now plans (fewer as images settle). Which way is measured on
    /// `geometry` (`geometrySize`² canonical images, from `prepare`) where given, else on the images
    /// themselves. With a distributed `cluster` the decoy batches are shared out over its ranks
    /// (whole batches, so the same digits as one process) and every rank returns every score.
    public func score(
        _ images: [[Float]], seeds: [UInt64], stopping: DecoyFitStopping? = nil, geometry: [[Float]]? = nil,
        cluster: Cluster? = nil, progress: ((_ done: Int, _ planned: Int) -> Void)? = nil
    ) -> [Score] {
        precondition(!seeds.isEmpty, "SymmetryDetector.score: no seeds")
        precondition(
            geometry == nil || geometry!.count == images.count,
            "SymmetryDetector.score: \(geometry!.count) geometry images for \(images.count)")
        // Each image brought to the decoy's form once, not once per fit.
        let representation = config.representation
        let prepared = parallelMap(images.count) { representation.classifierForm(images[$0]) }
        // The images' measurements are independent (and a texture's search costs about as much as
        // its twenty fits): each taken by whichever thread is free.
        let fine = geometry.map { g in parallelMap(images.count) { Self.measured(g[$0]) } }
        let measured = images.indices.map {
            fine?[$0] ?? SymmetryGeometry.orientation(canonical(images[$0]), size: size)
        }
        // Only where a file's fine image was measured is a verdict checked: at the classifier's
        // 32 px a true Cₙ's turn loses too much to the pixel grid to overrule anything.
        let checked = geometry != nil
        var probs = [[[Double]]](repeating: [], count: images.count),
            eps = [[Double]](repeating: [], count: images.count)
        // What each image's verdict would be for each class the classifier could read: fixed by its
        // pixels, so worked out once, not once per round.
        let verdicts = stopping == nil ? [] : measured.map { Self.verdicts($0, checked: checked) }
        var active = Array(images.indices), fitted = 0, done = 0
        while !active.isEmpty {
            let upto = stopping.map { min(seeds.count, fitted == 0 ? $0.first : fitted + $0.round) } ?? seeds.count
            // This round's fits in one list, seed-major, fitted a few decoy batches at a time: a
            // single image's fits then share batches instead of running one small batch per seed.
            let fits = seeds[fitted..<upto].flatMap { s in active.map { (seed: s, image: $0) } }
            let planned = done + active.count * (seeds.count - fitted)
            // Chunks stay whole multiples of a batch, so sharing them over ranks changes no batch.
            let chunk = 8 * config.representation.batch * (cluster?.size ?? 1)
            for start in stride(from: 0, to: fits.count, by: chunk) {
                let part = fits[start..<min(fits.count, start + chunk)]
                let features = config.representation.make(
                    part.map { prepared[$0.image] }, seeds: part.map(\.seed), prepared: true,
                    progress: { progress?(done + start + $0, planned) }, cluster: cluster
                ).images
                let (p, e) = Self.predict(model, features)
                for (k, fit) in part.enumerated() { probs[fit.image].append(p[k]); eps[fit.image].append(e[k]) }
            }
            done += fits.count
            fitted = upto
            guard let stopping, fitted < seeds.count else { break }
            active = active.filter { i in
                !stopping.isSettled(
                    probs[i], scores: zip(probs[i], eps[i]).map { Self.score(probabilities: $0, epsilon: $1) },
                    verdicts: verdicts[i])
            }
        }
        progress?(done, done)
        return images.indices.map { i in
            Self.summary(
                probabilities: probs[i], epsilons: eps[i], measured: measured[i], checked: checked,
                fill: Double(images[i].reduce(0, +)) / Double(max(images[i].count, 1)))
        }
    }

    /// The class the classifier reads from its mean probabilities (the last of equal ones).
    static func leadingClass(_ mean: [Double]) -> Int { mean.indices.max { mean[$0] < mean[$1] }! }

    /// What an image's verdict would be for each class the classifier could read (the pixel rules'
    /// overruling applied where they apply), by class index.
    static func verdicts(_ measured: SymmetryGeometry.Orientation, checked: Bool) -> [Int] {
        SymmetryClass.allCases.map { c in
            checked ? (overruling(c, measured)?.verdict.rawValue ?? c.rawValue) : c.rawValue
        }
    }

    /// One image's score from its fits' class probabilities and ε̂, and what its pixels measured.
    static func summary(
        probabilities probs: [[Double]], epsilons eps: [Double], measured: SymmetryGeometry.Orientation,
        checked: Bool, fill: Double
    ) -> Score {
        let k = SymmetryClass.allCases.count, names = SymmetryClass.allCases.map(\.name),
            none = SymmetryClass.none.rawValue
        var mean = [Double](repeating: 0, count: k), spread = mean
        for c in 0..<k {
            let (m, s) = Statistics.meanAndSpread(probs.map { $0[c] })
            mean[c] = m; spread[c] = s
        }
        let classifierBest = leadingClass(mean)
        let overruled = checked ? overruling(SymmetryClass(rawValue: classifierBest)!, measured) : nil
        let best = overruled?.verdict.rawValue ?? classifierBest
        // An overruled class's probability counts as the new verdict's in the score too, so that the
        // score and the verdict agree.
        let scores = zip(probs, eps).map { p, e in
            var p = p
            if best != classifierBest { p[best] += p[classifierBest]; p[classifierBest] = 0 }
            return score(probabilities: p, epsilon: e)
        }
        let (scoreMean, scoreSpread) = Statistics.meanAndSpread(scores)
        let bestSymmetric = mean.indices.filter { $0 != none }.max { mean[$0] < mean[$1] }!
        var result = Score(
            image: nil, probabilities: Dictionary(uniqueKeysWithValues: zip(names, mean)),
            probabilitySpread: Dictionary(uniqueKeysWithValues: zip(names, spread)), mostLikely: names[best],
            symmetry: names[bestSymmetric], epsilon: Statistics.meanAndSpread(eps).mean, score: scoreMean,
            scoreSpread: scoreSpread, seeds: probs.count, seedScores: scores, fill: fill)
        if let v = overruled?.verdict, v != .none { result.symmetry = names[best] }
        result.describe(measured)
        result.overruled = overruled?.why
        return result
    }

    /// An image as the representation sees it (canonical form where the checkpoint asks for it).
    func canonical(_ pixels: [Float]) -> [Float] {
        config.representation.canonical == true
            ? SymmetryGeometry.canonical(pixels, width: size, height: size, size: size) : pixels
    }

    /// Otsu's threshold of grey levels in [0, 1] (256 bins): the level that maximises the
    /// between-class variance of the two sides.
    public static func otsu(_ grey: [Float]) -> Float {
        var hist = [Double](repeating: 0, count: 256)
        for g in grey where g.isFinite { hist[min(255, max(0, Int(g * 255)))] += 1 }
        let total = hist.reduce(0, +), sumAll = hist.enumerated().reduce(0.0) { $0 + Double($1.offset) * $1.element }
        var wB = 0.0, sumB = 0.0, best = -1.0, threshold = 0
        for t in 0..<256 {
            wB += hist[t]
            if wB == 0 { continue }
            let wF = total - wB
            if wF == 0 { break }
            sumB += Double(t) * hist[t]
            let mB = sumB / wB, mF = (sumAll - sumB) / wF
            let between = wB * wF * (mB - mF) * (mB - mF)
            if between > best { best = between; threshold = t }
        }
        // Bins 0…threshold are the dark side: the cut sits at the upper edge of that bin.
        return Float(threshold + 1) / 255
    }

    /// An image made two-colour for the detector. With `canonical` (new checkpoints): grey, cut at
    /// Otsu's threshold at full resolution, then brought to canonical form
    /// (`SymmetryGeometry.canonical`: the shape is the colour that covers less of the border, so
    /// the result does not depend on which colour is ink; centred on the shape, scaled to it, and
    /// with `upright` turned so that its best mirror axis is vertical).
    /// Without (older checkpoints): grey, centre-cropped, resized to size × size, 1 where darker
    /// than the Otsu threshold. Fails on a blank image (nothing to binarise).
    public static func binarise(
        _ image: Image, size: Int, canonical: Bool = false, upright: Bool = false, fillHoles: Bool = false,
        source: String
    ) throws -> (pixels: [Float], threshold: Float) {
        guard canonical else {
            let cut = try twoColour(
                image.shapeGrey().centreCropSquare().resized(width: size, height: size, method: .area), source: source)
            return (cut.binary, cut.threshold)
        }
        let cut = try twoColour(image.shapeGrey(), source: source, fillHoles: fillHoles)
        return (try canonicalForm(cut, size: size, upright: upright, source: source), cut.threshold)
    }

    /// An image file made ready for `score`, cut at Otsu's threshold once: the classifier's input
    /// (`binarise` as the checkpoint asks), and for canonical checkpoints the two-colour image as
    /// measured and shown (not turned upright) at the classifier's size and at `geometrySize`.
    public struct Prepared {
        public var pixels: [Float]
        public var threshold: Float
        public var shape: [Float]
        public var geometry: [Float]?
    }

    public func prepare(_ image: Image, source: String) throws -> Prepared {
        let rep = config.representation
        guard rep.canonical == true else {
            let (pixels, t) = try Self.binarise(image, size: size, source: source)
            return Prepared(pixels: pixels, threshold: t, shape: pixels, geometry: nil)
        }
        // Filled once here, not once per form.
        let cut = try Self.twoColour(image.shapeGrey(), source: source, fillHoles: fillsHoles)
        func form(_ size: Int, upright: Bool) throws -> [Float] {
            try Self.canonicalForm(cut, size: size, upright: upright, source: source)
        }
        return Prepared(
            pixels: try form(size, upright: rep.upright == true), threshold: cut.threshold,
            shape: try form(size, upright: false), geometry: try form(Self.geometrySize, upright: false))
    }

    /// A grey image cut at its Otsu threshold (1 where darker), refused when it is one colour; with
    /// `fillHoles`, turned shape-is-1 and its closed outlines filled (`SymmetryGeometry.filledShape`).
    static func twoColour(
        _ grey: Image, source: String, fillHoles: Bool = false
    ) throws -> (binary: [Float], threshold: Float, width: Int, height: Int) {
        // The centred square is what is judged: a sliver of a few pixels has no shape to read.
        guard min(grey.width, grey.height) >= 8 else {
            throw FormatError(
                source,
                "is \(grey.width)×\(grey.height): its centred square (\(min(grey.width, grey.height)) px a side) "
                    + "is too small to judge; the detector needs at least 8×8")
        }
        guard grey.pixels.allSatisfy(\.isFinite) else { throw FormatError(source, "has non-finite pixel values") }
        let t = otsu(grey.pixels)
        let binary = grey.pixels.map { $0 < t ? Float(1) : 0 }
        let ones = binary.reduce(0, +)
        guard ones > 0, ones < Float(binary.count) else {
            throw FormatError(
                source, "is a single colour after binarisation (threshold \(t)); there is no shape to judge")
        }
        guard fillHoles else { return (binary, t, grey.width, grey.height) }
        return (
            SymmetryGeometry.filledShape(binary, width: grey.width, height: grey.height), t, grey.width, grey.height
        )
    }

    static func canonicalForm(
        _ cut: (binary: [Float], threshold: Float, width: Int, height: Int), size: Int, upright: Bool,
        source: String
    ) throws -> [Float] {
        let pixels = SymmetryGeometry.canonical(
            cut.binary, width: cut.width, height: cut.height, size: size, upright: upright)
        guard pixels.contains(1), pixels.contains(0) else {
            throw FormatError(
                source,
                "is a single colour at \(size)×\(size) after binarisation (threshold \(cut.threshold)); its shape is "
                    + "too fine to judge"
            )
        }
        return pixels
    }

    /// A report picture: the input, the two-colour image (`binary`, as measured: not turned
    /// upright), and the first PCA images of one decoy fit (of the form the classifier reads),
    /// each panel titled; with a score, which way is drawn on the two-colour image (mirror axes,
    /// the spokes of a discrete rotation, the stripes' direction) and the verdict written under it.
    public func reportFigure(original: Image, binary: [Float], seed: UInt64, score: Score? = nil) -> PanelFigure {
        let n = size
        let shape = canonical(binary)
        var panels = [
            PanelFigure.Panel(
                title: "input",
                pixels: original.grey().centreCropSquare().resized(width: n, height: n, method: .area).pixels, side: n),
            PanelFigure.Panel(title: "two-colour image", pixels: shape.map { 1 - $0 }, side: n),
        ]
        var rep = config.representation
        if rep.input == .raw { rep.input = .pca }
        let pcs = rep.make([binary], seed: seed).images.scalars
        for c in 0..<rep.components {
            panels.append(
                PanelFigure.Panel(
                    title: "PCA image \(c + 1)",
                    pixels: pcs[(c * n * n)..<((c + 1) * n * n)].map { min(max(($0 + 2.5) / 5, 0), 1) }, side: n))
        }
        guard let score else { return PanelFigure(panels: panels, caption: "") }
        // Which way, on the two-colour panel, about the shape's centroid (angles counter-clockwise, y up).
        let (cx, cy) = SymmetryGeometry.centroid(shape, width: n, height: n) ?? (Double(n) / 2, Double(n) / 2)
        let reach = Double(n) / 2
        func ray(_ degrees: Double, from a: Double, to b: Double) {
            let (dx, dy) = (cos(degrees * .pi / 180), -sin(degrees * .pi / 180))
            panels[1].lines.append((cx + a * dx, cy + a * dy, cx + b * dx, cy + b * dy))
        }
        var caption = String(format: "symmetry score %.2f: ", score.score) + score.verdict
        // Which way belongs to a symmetry the verdict reports: for a none, nothing is drawn.
        guard score.mostLikely != SymmetryClass.none.name else { return PanelFigure(panels: panels, caption: caption) }
        if let axes = score.mirrorAxes, !axes.isEmpty {
            for a in axes { ray(a, from: -reach, to: reach) }
            caption += "; mirror axes at " + axes.map { String(format: "%.0f°", $0) }.joined(separator: ", ")
        } else if let order = score.order {
            for k in 0..<order { ray(90 + 360 * Double(k) / Double(order), from: 0, to: reach) }
        }
        if let order = score.order { caption += ", order \(order)" }
        if let d = score.translationDirection {
            ray(d, from: -reach, to: reach)
            caption += String(format: "; along %.0f°", d)
        }
        return PanelFigure(panels: panels, caption: caption)
    }

    /// Class probabilities and ε estimates of precomputed features, each the mean over the
    /// image's eight square symmetries (every class is closed under them, so the average is the
    /// classifier made exactly invariant to them; +2.4 points held-out on the shipped model).
    static func predict(_ model: SymmetryCNN, _ features: Tensor) -> (probabilities: [[Double]], epsilon: [Double]) {
        let k = model.config.classes, n = features.shape[0]
        var probs = [[Double]](repeating: [Double](repeating: 0, count: k), count: n),
            eps = [Double](repeating: 0, count: n)
        noGrad {
            for s in stride(from: 0, to: n, by: 256) {
                let chunk = features.slice(axis: 0, start: s, end: min(n, s + 256)).detach()
                for transform in 0..<8 {
                    let (logits, degree) = model.predict(SquareSymmetry.apply(chunk) { _ in transform })
                    let p = logits.softmax(axis: 1).scalars, e = degree.sigmoid().scalars
                    for i in 0..<chunk.shape[0] {
                        for c in 0..<k { probs[s + i][c] += Double(p[i * k + c]) / 8 }
                        eps[s + i] += Double(e[i]) / 8
                    }
                }
            }
        }
        return (probs, eps)
    }

    /// The symmetry score from class probabilities and the ε estimate: how likely the image has a
    /// symmetry at all, times how intact the symmetry is, (1 − P(none))·(1 − ε̂), in [0, 1].
    public static func score(probabilities p: [Double], epsilon: Double) -> Double {
        (1 - p[SymmetryClass.none.rawValue]) * (1 - min(max(epsilon, 0), 1))
    }
}
