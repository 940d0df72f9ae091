"""Cohorts at scale: the same grading kernels over patient shards, locally or on Spark."""
