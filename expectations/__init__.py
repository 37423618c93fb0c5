"""Great Expectations suites over the marts. Their failing rows become exception findings."""
