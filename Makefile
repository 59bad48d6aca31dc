# Two commands on a fresh machine: `make run` (today's call list from the demo portfolio on
# SQLite) and `make test` (the whole suite; PostgreSQL too when TEST_DATABASE_URL is set).
# `make lint` runs ruff and mypy.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint install bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/arbot db upgrade
	$(BIN)/arbot demo
	$(BIN)/arbot calllist

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

# The rules the machine checks: ruff on all the code (migrations aside), mypy --strict as
# pyproject.toml's [tool.mypy] says (commands/, storage/, scheduler/, demo/).
lint: $(STAMP)
	$(BIN)/ruff check bot commands storage scheduler demo bench tests
	$(BIN)/ruff format --check bot commands storage scheduler demo bench tests
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) arbot.db arbot.db-wal arbot.db-shm
