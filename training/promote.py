"""Run the promotion gate for a task: python training/promote.py crisis (= `riskstrat promote`)."""

import sys

from riskstrat.cli import main

if __name__ == "__main__":
    # through riskstrat's own command line: its error boundary (one `Error:` line, exit codes),
    # its checks of the options; the click command alone printed tracebacks
    main(["promote", *sys.argv[1:]], prog_name="riskstrat")
