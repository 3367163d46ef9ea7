# Every target sets itself up: the virtual environment is made once, then reused.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
GRADER := $(VENV)/bin/grader
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | cksum | cut -d' ' -f1)
DEMO   ?= out/demo

.PHONY: setup test test-full demo starter fixtures clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@

setup: $(STAMP)

## make test: the default tier (CI): framework, sandbox, every lab's reference,
## starter and mutants (mutants in-process, training checks only where targeted)
test: $(STAMP)
	$(PY) -m pytest -q

## make test-full: the release tier: also every mutant sandboxed against every check
test-full: $(STAMP)
	$(PY) -m pytest -q -m "full or not full"

## make demo: grade the CNN reference, the starter and two mutants; print the table
demo: $(STAMP)
	$(GRADER) mutants cnn --write $(DEMO)/mutants
	$(GRADER) grade cnn solutions/cnn starter/cnn \
		$(DEMO)/mutants/maxpool_grad_to_all $(DEMO)/mutants/batchnorm_batch_stats_at_inference -o $(DEMO)/results

starter: $(STAMP)
	$(GRADER) starter

fixtures: $(STAMP)
	$(GRADER) fixtures

clean:
	rm -rf out dist .pytest_cache
