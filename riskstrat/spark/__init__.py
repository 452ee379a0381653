"""The Spark engine: the same feature and task SQL as DuckDB, on Apache Spark (docs/spark.md).

Modules: session (a local SparkSession), dialect (DuckDB SQL -> Spark SQL, sqlglot), tables
(registry tables from the Parquet export), tasks (index rows and labels), features (the feature
matrix). Importing this package does not import pyspark; each function imports it when called.
"""
