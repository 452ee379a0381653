"""The `riskstrat` command as a file spark-submit can start (docs/scale.md, "Operating it"):

    spark-submit --master yarn ... riskstrat/spark/submit.py run --engine spark --as-of D

The run then uses the session spark-submit configured (riskstrat.spark.runtime.open_session).
"""

from __future__ import annotations

from riskstrat.cli import main

if __name__ == "__main__":
    main()
