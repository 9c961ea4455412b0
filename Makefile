# Two commands: `make run` sets everything up and answers a sample question; `make test` runs the tests.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
QUESTION ?= When did ASEAN and New Zealand become Comprehensive Strategic Partners?

LLAMA_VERSION := 0.3.36
# Portable CPU build of llama.cpp: an AVX2/FMA/F16C baseline (x86-64 CPUs since 2013/2015), no -march=native,
# no AVX-512 and no AMX (a VM may advertise AMX and still refuse to run it). Override for other CPUs, e.g.
# `make install LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=OFF -DGGML_FMA=OFF -DGGML_F16C=OFF -DGGML_BMI2=OFF"`.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_BMI2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AVX_VNNI=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF
# Built wheels are kept per flag set, so a wheel built with other flags (a native one in pip's cache) is never reused.
LLAMA_WHEELHOUSE := $(HOME)/.cache/rag-wheels/llama-cpp-python-$(LLAMA_VERSION)-$(shell printf '%s' '$(LLAMA_CMAKE_ARGS)' | sha256sum | cut -c1-12)

$(LLAMA_WHEELHOUSE):
	rm -rf $@.tmp
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(PY) -m pip wheel -q --no-cache-dir --no-deps \
		--no-binary llama-cpp-python -w $@.tmp llama-cpp-python==$(LLAMA_VERSION)
	mv $@.tmp $@

.PHONY: install models browser ocr check reinstall-llama index run serve test test-fast test-ui screenshot eval-index eval eval-models eval-ablations bench lint

$(BIN)/rag: pyproject.toml | $(LLAMA_WHEELHOUSE)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q --no-deps --force-reinstall $(LLAMA_WHEELHOUSE)/llama_cpp_python-$(LLAMA_VERSION)-*.whl
	$(BIN)/pip install -q -e '.[test]'
	touch $(BIN)/rag

install: $(BIN)/rag models browser ocr check

# Builds the engine again (after a change of LLAMA_CMAKE_ARGS, or when `rag check` asks for it).
reinstall-llama:
	rm -rf $(LLAMA_WHEELHOUSE)
	$(MAKE) $(LLAMA_WHEELHOUSE)
	$(BIN)/pip install -q --no-deps --force-reinstall $(LLAMA_WHEELHOUSE)/llama_cpp_python-$(LLAMA_VERSION)-*.whl
	$(BIN)/rag check

# Generates a few tokens in a child process: a CPU that cannot run the engine stops here with one clear line.
check: $(BIN)/rag models
	$(BIN)/rag check

# Chromium for the browser tests; the fonts also set the multilingual PDFs that the PDF tests build.
browser:
	command -v chromium >/dev/null && fc-list | grep -qi 'noto.*cjk' && fc-list | grep -qi dejavu || (apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk fonts-dejavu-core >/dev/null)

# Tesseract reads scanned PDF pages and images (English, Vietnamese, Simplified Chinese); Debian 12's versions.
OCR_PACKAGES := tesseract-ocr=5.3.0-2 tesseract-ocr-eng=1:4.1.0-2 tesseract-ocr-vie=1:4.1.0-2 tesseract-ocr-chi-sim=1:4.1.0-2
ocr:
	command -v tesseract >/dev/null && tesseract --list-langs 2>/dev/null | grep -q chi_sim && tesseract --list-langs 2>/dev/null | grep -q vie || (apt-get update -qq && apt-get install -y -qq $(OCR_PACKAGES) >/dev/null)

models:
	$(BIN)/python models/fetch.py

index: install
	$(BIN)/rag index

run: index
	$(BIN)/rag ask "$(QUESTION)"
	@echo "Chat UI and API: make serve   (then open http://127.0.0.1:7860; OpenAI-compatible API at http://127.0.0.1:7860/v1)"

serve: index
	$(BIN)/rag serve

test: $(BIN)/rag models browser ocr check
	$(BIN)/ruff check rag models tests bench app.py
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n 2 -m "not slow and not browser"
	$(BIN)/python -m pytest -q -m "slow or browser" --durations=15

# The unit and pipeline layers (fake models), on two workers.
test-fast: $(BIN)/rag ocr
	$(BIN)/python -m pytest -q -n 2 -m "not slow and not browser"

test-ui: $(BIN)/rag models
	$(BIN)/python -m pytest -q tests/pipeline/test_web.py tests/browser tests/models/test_ui_load.py

screenshot: $(BIN)/rag models
	$(BIN)/python -m pytest -q tests/browser --screenshot docs/ui.png

# Four corpora (the news seeds, with two gold sets; an English manual as a PDF, eval/manual/; a licence, eval/licence/;
# a manual page as plain text, eval/config/) in one evaluation index, each gold set reported on its own;
# `make eval-models` adds the two smaller bundled generators, `make eval-ablations` every ablation.
EVAL_INDEX := data/eval-index
EVAL := $(BIN)/rag --index-dir $(EVAL_INDEX) eval --gold eval/gold.jsonl eval/gold_reader.jsonl eval/gold_manual.jsonl eval/gold_licence.jsonl eval/gold_config.jsonl eval/gold_guide.jsonl eval/gold_edu.jsonl --out eval/results.jsonl --report eval/REPORT.md

eval-index: install
	$(BIN)/rag --index-dir $(EVAL_INDEX) index seeds eval/manual/*.pdf eval/licence/*.pdf eval/config/*.txt eval/guide/*.pdf eval/edu/*.pdf --quiet

eval: eval-index
	$(EVAL)

eval-models: eval-index
	$(EVAL) --models models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf models/gemma-3-270m-q4_k_m.gguf

eval-ablations: eval-index
	$(EVAL) --ablations

lint:
	$(BIN)/ruff check rag models tests bench app.py
	$(BIN)/mypy
