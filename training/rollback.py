"""Give a task's champion back to its previous champion: python training/rollback.py crisis
(= `riskstrat rollback`)."""

import sys

from riskstrat.cli import main

if __name__ == "__main__":
    # through riskstrat's own command line: its error boundary (one `Error:` line, exit codes),
    # its checks of the options; the click command alone printed tracebacks
    main(["rollback", *sys.argv[1:]], prog_name="riskstrat")
