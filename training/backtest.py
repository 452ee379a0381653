"""Rolling-origin backtest + stale-score check: python training/backtest.py crisis."""

from riskstrat.models.cli import backtest

if __name__ == "__main__":
    backtest()
