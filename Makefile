# The README's commands. `make run` serves the demo plant (on PORT, 5000 unless given: `make run PORT=8080`);
# `make demo-reset` rebuilds the demo database from nothing; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 5000
export FLASK_APP := app

.PHONY: run demo-reset test test-postgres test-sqlite lint install translations translations-update bench bench-ws bench-plant bench-hot bench-planning clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

translations: $(STAMP)
	$(BIN)/pybabel compile -d translations > /dev/null

translations-update: $(STAMP)
	$(BIN)/flask translate update

run: $(STAMP) translations
	$(BIN)/flask db upgrade
	$(BIN)/flask seed
	$(BIN)/flask demo
	@echo "服务地址 / Serving at: http://127.0.0.1:$(PORT)"
	$(BIN)/gunicorn -k gthread --workers 1 --threads 32 --bind 127.0.0.1:$(PORT) \
		--no-control-socket --graceful-timeout 1 --access-logfile - 'app:create_app()'

# The demo database (DATABASE_URL, else instance/workorders.db) dropped and built again; .venv is left alone
# (not even brought up to date: it must exist).
demo-reset:
	@test -x $(BIN)/flask || { echo "先运行 make install / run make install first"; exit 1; }
	$(BIN)/flask demo --reset

# The whole suite: on PostgreSQL (a throwaway cluster from the local binaries, or
# TEST_DATABASE_URL), then again on SQLite.
test: $(STAMP) translations
	bash scripts/test.sh

# The lint gate (pyproject.toml [tool.ruff]: pyflakes, pycodestyle, import order, bugbear, pyupgrade, simplify);
# .ci/run runs it before the tests. ruff format is not adopted, so only `ruff check`.
lint: $(STAMP)
	$(BIN)/ruff check .

test-postgres: $(STAMP) translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-sqlite: $(STAMP) translations
	TEST_DB=sqlite $(BIN)/python -m pytest $(PYTEST_ARGS)

# Benchmarks print numbers: approval with 100 drafts, /kiosk and /tasks at 50,000 tasks, then the
# HTTP load (locust, 100 users for 60 s three times, once more beside the WebSocket fan-out, then a ramp to
# saturation) on gunicorn with `flask demo --scale 1`; its summary goes to bench-results/. Only the load's SLA
# on the median run (0 errors, p95 < 150 ms, average < 50 ms) can fail it.
bench: $(STAMP)
	$(BIN)/python scripts/bench.py

# WebSocket fan-out: 300 sockets over 2 gunicorn workers on PostgreSQL; delivery latency and memory.
bench-ws: $(STAMP)
	$(BIN)/python bench/ws_bench.py

# The live plant: 300 kiosks, 30 主管看板, 10 TV boards, 30 desk pages re-fetching what live.js would, while
# actions run at R per second (bench/plant_bench.py; PLANT_ARGS="--quick" or "--servers 2" for nginx + 2 gunicorns).
bench-plant: $(STAMP)
	$(BIN)/python bench/plant_bench.py $(PLANT_ARGS)

# CPU per request of the hottest pages, in-process on the scaled plant (bench/hot_requests_bench.py).
bench-hot: $(STAMP)
	$(BIN)/python bench/hot_requests_bench.py

# Planning (排产): replanning one workshop and the whole plant of `flask demo --scale 1` on PostgreSQL
# (targets: p95 < 20 ms per department, < 100 ms for the plant).
bench-planning: $(STAMP)
	$(BIN)/python bench/planning_bench.py

clean:
	rm -rf $(VENV) instance/workorders.db test-artifacts .pytest_cache
