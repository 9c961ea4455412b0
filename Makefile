# Two commands: `make run` sets everything up and answers a sample question; `make test` runs the tests.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
QUESTION ?= When did ASEAN and New Zealand become Comprehensive Strategic Partners?

.PHONY: install models browser index run serve test test-fast test-ui eval bench lint

$(BIN)/rag: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	CMAKE_BUILD_PARALLEL_LEVEL=2 $(BIN)/pip install -q -e '.[test]'
	touch $(BIN)/rag

install: $(BIN)/rag models browser

browser:
	command -v chromium >/dev/null && fc-list | grep -qi 'noto.*cjk' || (apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk >/dev/null)

models:
	$(BIN)/python models/fetch.py

index: install
	$(BIN)/rag index

run: index
	$(BIN)/rag ask "$(QUESTION)"
	@echo "Chat UI and API: make serve   (then open http://127.0.0.1:7860; OpenAI-compatible API at http://127.0.0.1:7860/v1)"

serve: index
	$(BIN)/rag serve

test: install
	$(BIN)/ruff check rag models tests bench app.py
	$(BIN)/python -m pytest -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow and not browser"

test-ui: install
	$(BIN)/python -m pytest -q tests/test_app.py tests/test_ui_browser.py

eval: index
	$(BIN)/rag eval --gold eval/gold.jsonl --out eval/results.jsonl --report eval/REPORT.md --ablations

lint:
	$(BIN)/ruff check rag models tests bench app.py
