"""spark_plugin: PySpark SQL stages on the GPU (cudf-polars) or Polars on the CPU, no JVM jar."""
