# Sourced by scripts/*: find Python 3.11+ and make sure .venv exists.
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  PYTHON=""
  for candidate in ${PYTHON_BIN:-} python3 python3.13 python3.12 python3.11; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      PYTHON=$candidate
      break
    fi
  done
  if [ -z "$PYTHON" ]; then
    echo "error: Footfall needs Python 3.11 or newer (set PYTHON_BIN to its path)" >&2
    exit 1
  fi
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --upgrade pip
fi
