# The two set-up commands: `make demo` and `make test`. Both install what they need first (idempotent).
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install demo test test-all lint bench clean

install:
	@bash tools/install.sh

demo: install
	@$(PY) tools/demo.py

test: install
	@$(PY) -m pytest -q -m "not slow"

test-all: install
	@$(PY) -m pytest -q

lint: install
	@$(PY) -m ruff check omnicodec tests tools datasets

bench: install
	@$(PY) tools/bench_octree.py
	@$(PY) tools/bench_lossless.py
	@$(PY) tools/bench_image.py
	@$(PY) tools/bench_erp.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
