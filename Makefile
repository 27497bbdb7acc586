# The two commands of README.md. Both install missing system packages first.
.PHONY: demo test deps build fuzz badinputs format lint

deps:
	@scripts/deps.sh
	@scripts/fid_weights.sh --quiet-offline

build: deps
	swift build -c release --product genlab

# The main job on the bundled data (trains a VAE and a GAN on faces, scores jets for anomalies).
demo: build
	.build/release/genlab demo

# Every test, in release mode (the numeric kernels are too slow unoptimised), then the latent
# explorer's page in headless Chromium.
test: deps
	swift test -c release
	GENLAB_BIN=.build/release/genlab scripts/browser_test.sh

# Coverage-guided fuzzing of every reader under AddressSanitizer (30 CPU-minutes a reader).
fuzz: deps
	scripts/fuzz.sh 1800

# The CLI against the crafted bad-input corpus and the hostile surfaces (exports, reports, run folders, output
# paths): no crash, hang, memory bomb, injection, followed link or lost file.
badinputs: build
	python3 scripts/check_bad_inputs.py
	python3 scripts/check_bad_surfaces.py

# The code's layout: swift-format with .swift-format (4-space indent, lines of at most 120).
format:
	swift format format --configuration .swift-format --recursive --in-place Sources Tests

# Layout and the 120-character limit checked, nothing changed.
lint:
	swift format lint --configuration .swift-format --recursive Sources Tests
	@! grep -rnP '^.{121,}$$' --include='*.swift' Sources Tests || (echo "lines over 120 characters above"; false)
