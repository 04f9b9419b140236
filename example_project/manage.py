#!/usr/bin/env python
"""Run the example site: ``python example_project/manage.py runserver`` from the repository root."""

import os
import sys
from pathlib import Path


def main() -> None:
    # The repository root, so that both ``auth_token`` and ``example_project`` import without install.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
