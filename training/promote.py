"""Run the promotion gate for a task: python training/promote.py crisis."""

from riskstrat.models.cli import promote

if __name__ == "__main__":
    promote()
