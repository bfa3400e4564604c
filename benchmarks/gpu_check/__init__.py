"""The prepared GPU check: plan (what a lease runs, on paper), pack (here), install and run
(there), stages (Spark's TPC-H stages captured here, replayed there). See ``__main__``."""
