# Every target sets itself up: the virtual environment is made once, then reused.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
GRADER := $(VENV)/bin/grader
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | cksum | cut -d' ' -f1)
DEMO   ?= out/demo

.PHONY: setup test test-full mutation demo starter fixtures clean

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
	$(PY) -m pytest -q --durations=25

## make test-full: the release tier: also every mutant sandboxed against every check
test-full: $(STAMP)
	$(PY) -m pytest -q -m "full or not full"

## make mutation LAB=cnn [JOBS=2] [SAMPLE=200]: machine-made mutants (cosmic-ray)
## of the lab's solution blocks, each graded by the checks that reach it; prints
## the mutation score per lab and function, writes out/mutation/<lab>/survivors.txt.
## LAB=all measures every lab. A tier of its own: not part of `make test`.
LAB    ?= all
JOBS   ?= 1
mutation: $(STAMP)
	$(PY) -m pip install -q -r requirements-mutation.txt
	@for lab in $(if $(filter all,$(LAB)),$$(ls assignments),$(LAB)); do \
		$(PY) -m grader.quality.mutation $$lab -j $(JOBS) $(if $(SAMPLE),--sample $(SAMPLE)) || exit 1; done

## make demo: the release path. Build the CNN lab's bundles (gates included; a
## second run reuses the cached gate result), unpack them, then grade the
## reference, the starter from the student bundle and two mutants with the
## released autograder bundle: as a TA (`python -m grader grade` inside it,
## table per check) and as Gradescope would (`run_autograder` on one submission).
demo: $(STAMP)
	$(GRADER) release cnn -o $(DEMO)/dist --reuse-gates -j 2
	rm -rf $(DEMO)/student $(DEMO)/gradescope $(DEMO)/samples
	mkdir -p $(DEMO)/student $(DEMO)/gradescope/source $(DEMO)/gradescope/submission $(DEMO)/samples/starter
	$(PY) -m zipfile -e $(DEMO)/dist/cnn/cnn-student.zip $(DEMO)/student
	$(PY) -m zipfile -e $(DEMO)/dist/cnn/cnn-autograder.zip $(DEMO)/gradescope/source
	cp -r solutions/cnn $(DEMO)/samples/reference
	cp $(DEMO)/student/cnn/cnn.py $(DEMO)/samples/starter/
	$(GRADER) mutants cnn --write $(DEMO)/mutants
	cp -r $(DEMO)/mutants/maxpool_grad_to_all $(DEMO)/mutants/batchnorm_batch_stats_at_inference $(DEMO)/samples/
	cd $(DEMO)/gradescope/source && "$(CURDIR)/$(PY)" -m grader grade cnn "$(CURDIR)/$(DEMO)/samples/reference" \
		"$(CURDIR)/$(DEMO)/samples/starter" "$(CURDIR)/$(DEMO)/samples/maxpool_grad_to_all" \
		"$(CURDIR)/$(DEMO)/samples/batchnorm_batch_stats_at_inference" -o "$(CURDIR)/$(DEMO)/results" --regrade
	cp $(DEMO)/samples/maxpool_grad_to_all/cnn.py $(DEMO)/gradescope/submission/
	DLKIT_AUTOGRADER_DIR="$(CURDIR)/$(DEMO)/gradescope" DLKIT_PYTHON="$(CURDIR)/$(PY)" bash $(DEMO)/gradescope/source/run_autograder
	@echo "Gradescope results.json of the maxpool_grad_to_all mutant: $(DEMO)/gradescope/results/results.json"

starter: $(STAMP)
	$(GRADER) starter

fixtures: $(STAMP)
	$(GRADER) fixtures

clean:
	rm -rf out dist .pytest_cache
