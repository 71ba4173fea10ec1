# One command to run the app, one to run the tests. Both create .venv and install on first use.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test bench clean
run: $(STAMP)
	$(BIN)/python app.py

# Two pytest-xdist workers: the suite (~8 500 tests) takes ~11 min on 2 cores this way, ~20 min in one process.
test: $(STAMP)
	$(BIN)/python -m pytest -n 2

bench: $(STAMP)
	$(BIN)/python -m bench

$(STAMP): requirements/base.txt requirements/local.txt requirements/dev.txt requirements/nodeps.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements/dev.txt
	$(BIN)/pip install -q --no-deps -r requirements/nodeps.txt
	touch $(STAMP)

clean:
	rm -rf $(VENV)
