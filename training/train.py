"""Train a task's model (thin over riskstrat): python training/train.py crisis [--truth DIR]
[--max-rows N] [--no-register]: the same options and one-line errors as `riskstrat train`."""

import sys

from riskstrat.cli import main

if __name__ == "__main__":
    # through riskstrat's own command line: its error boundary (one `Error:` line, exit codes),
    # its checks of the options; the click command alone printed tracebacks
    main(["train", *sys.argv[1:]], prog_name="riskstrat")
