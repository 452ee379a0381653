"""Rolling-origin backtest + stale-score check: python training/backtest.py crisis [--out DIR]
(= `riskstrat backtest`)."""

import sys

from riskstrat.cli import main

if __name__ == "__main__":
    # through riskstrat's own command line: its error boundary (one `Error:` line, exit codes),
    # its checks of the options; the click command alone printed tracebacks
    main(["backtest", *sys.argv[1:]], prog_name="riskstrat")
