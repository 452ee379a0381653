"""Write a task's model card: python training/model_card.py crisis [--out DIR] [--alias A |
--model-version V] (= `riskstrat model-card`)."""

import sys

from riskstrat.cli import main

if __name__ == "__main__":
    # through riskstrat's own command line: its error boundary (one `Error:` line, exit codes),
    # its checks of the options; the click command alone printed tracebacks
    main(["model-card", *sys.argv[1:]], prog_name="riskstrat")
