"""Write a task's model card: python training/model_card.py crisis [--out DIR]."""

from riskstrat.models.cli import model_card

if __name__ == "__main__":
    model_card()
