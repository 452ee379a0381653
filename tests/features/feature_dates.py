"""The feature tests' dates (imported by name: `from conftest import` picks whichever test folder's
conftest was imported first)."""

import pandas as pd

D = pd.Timestamp
AS_OF = D("2024-06-01")
