"""Differential fuzzing of the plugin against plain Spark: seeded data, random queries, a runner."""
