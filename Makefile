# The two commands of the README: `make run` and `make test`. Both set themselves up.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
TEST_WORKERS ?= 2

.PHONY: run test lint typecheck unit bench clean-db cluster

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed-run: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements.txt requirements-test.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-test.txt
	touch $@ $(VENV)/.installed-run

# Listens on this computer only unless EMPOWERMENT_BIND_ADDRESS says otherwise (see README, Security).
run: $(VENV)/.installed-run
	$(BIN)/python -m empowerment init
	$(BIN)/python -m empowerment demo --if-empty
	# The notification worker runs beside the app and stops with it.
	$(BIN)/python -m empowerment notify-worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	OPENBLAS_NUM_THREADS=1 $(BIN)/streamlit run app.py --server.port $(PORT) \
	  --server.address "$$($(BIN)/python -c 'from empowerment import settings; print(settings.current().bind_address)')"

test: $(VENV)/.installed-test
	$(BIN)/ruff check empowerment pages app.py tests benchmarks scripts migrations
	$(BIN)/mypy empowerment
	$(BIN)/lint-imports --no-cache
	# Two workers for the tests that do not time anything, then the timed ones alone (marker `serial`).
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not serial" --durations=20
	$(BIN)/python -m pytest -m serial

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/run_all.py

# N Streamlit replicas behind nginx on one PostgreSQL (docs/DEPLOYMENT.md); Ctrl-C stops it all.
N ?= 3
CLUSTER_PORT ?= 8500
cluster: $(VENV)/.installed-run
	$(BIN)/python scripts/cluster.py --replicas $(N) --port $(CLUSTER_PORT)

clean-db:
	rm -f data/empowerment.db data/empowerment.db-wal data/empowerment.db-shm
