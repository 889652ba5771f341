"""lure-report: what lure's sensors saw, from aggregations on Elasticsearch/OpenSearch (see cli.py)."""
__version__ = "0.1.0"
