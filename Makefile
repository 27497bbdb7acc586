# The two commands of README.md. Both install missing system packages first.
.PHONY: demo test deps build

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
