# Quick start:  make run   (train the default claim, print metrics, write the report)
#               make test  (run the test suite)
# Both create .venv if missing and install torch (CPU wheel) before the package.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install run test test-slow lint bench site reproduce snapshot clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev,ray,causal-discovery,similarity,docs]"
	@# DirectLiNGAM (the exchangeable-causal baseline): lingam pins scipy<=1.13.1 and pygam
	@# scipy<1.17, which would downgrade scipy/numpy for everything; both import and run with the
	@# current ones (tests/causal/test_causal_de_finetti.py), so they go in without their pins
	$(PY) -m pip install -q "statsmodels>=0.14" "networkx>=3" "progressbar2>=4.2,<5" numdifftools sympy autograd graphviz
	$(PY) -m pip install -q --no-deps "lingam>=1.8" "pygam>=0.9" "psy>=0.0.1" "semopy>=2.3"
	@# VGGSounder's labels: the package's only dependency (datasets) is for video downloads
	$(PY) -m pip install -q --no-deps "vggsounder>=1.0"
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/identifiable run contrastive
	$(VENV)/bin/identifiable report contrastive

test: $(STAMP)
	$(PY) -m pytest -q

# the documentation site into site/ (the reproduction page from ./runs when it holds claim runs,
# else the committed snapshot docs/reproduction.md)
site: $(STAMP)
	$(VENV)/bin/identifiable report --site site --store runs

# every claim into the committed store reproduction/store, resumably (hours on 2 cores: stop it
# any time, run it again to go on; finished runs are skipped), then `make snapshot`
reproduce: $(STAMP)
	$(VENV)/bin/identifiable reproduce --all --store reproduction/store

# regenerate the committed snapshot docs/reproduction.md (+ configs, figures) from that store
snapshot: $(STAMP)
	$(VENV)/bin/identifiable report --reproduction docs --store reproduction/store

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks

bench: $(STAMP)
	$(PY) benchmarks/contrastive_speed.py

# Mutation testing of the science modules (slow, not part of `make test`; docs/testing.md):
#   make mutation                                      every module of worlds/, losses, metrics/, causal/
#   MODULE=src/identifiable/losses/contrastive.py make mutation    one module
#   MUTATION_ARGS="--show --budget 20" make mutation   print surviving mutants, minutes per module
.PHONY: mutation
mutation: $(STAMP)
	$(PY) scripts/mutation.py $(MODULE) $(MUTATION_ARGS)

clean:
	rm -rf $(VENV) runs reports .pytest_cache
