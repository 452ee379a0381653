"""Give a task's champion back to its previous champion: python training/rollback.py crisis."""

from riskstrat.models.cli import rollback

if __name__ == "__main__":
    rollback()
