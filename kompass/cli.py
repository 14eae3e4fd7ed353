"""The ``kompass`` console command: the same as ``manage.py``.

Sub-commands may be written with hyphens (``kompass demo-data``) or underscores.
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kompass.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv if argv is None else argv)
    position = 2 if len(argv) > 2 and argv[1] == "help" else 1
    if len(argv) > position and not argv[position].startswith("-"):
        argv[position] = argv[position].replace("-", "_")
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
