# The two commands of README.md. Both install missing system packages first.
.PHONY: demo test deps build fuzz badinputs

deps:
	@scripts/deps.sh

build: deps
	swift build -c release --product genlab

# The main job on the bundled data (trains a VAE and a GAN on faces, scores jets for anomalies).
demo: build
	.build/release/genlab demo

# Every test, in release mode (the numeric kernels are too slow unoptimised).
test: deps
	swift test -c release

# Coverage-guided fuzzing of every reader under AddressSanitizer (30 CPU-minutes a reader).
fuzz: deps
	scripts/fuzz.sh 1800

# The CLI against the crafted bad-input corpus: no crash, hang, memory bomb or lost file.
badinputs: build
	python3 scripts/check_bad_inputs.py
