#!/usr/bin/env python
"""Django's command-line utility; the ``kompass`` console command does the same."""

from kompass.cli import main

if __name__ == "__main__":
    main()
