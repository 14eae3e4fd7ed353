"""The SLA engine is pure Python: importable without Django or settings, so it stays testable alone."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import kompass.cases.sla

SLA_DIR = Path(kompass.cases.sla.__file__).parent


def test_no_module_imports_django():
    for path in sorted(SLA_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            assert not [n for n in names if n.split(".")[0] == "django"], f"{path.name} imports Django"


def test_imports_without_django_settings():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    code = (
        "import sys, kompass.cases.sla as sla; "
        "assert not [m for m in sys.modules if m.split('.')[0] == 'django'], 'django was imported'; "
        "print(len(sla.__all__))"
    )
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == len(kompass.cases.sla.__all__)


def test_public_names_exist():
    assert all(hasattr(kompass.cases.sla, name) for name in kompass.cases.sla.__all__)
