"""Train a task's model (thin over riskstrat): python training/train.py crisis [--truth DIR]."""

from riskstrat.models.cli import train

if __name__ == "__main__":
    train()
