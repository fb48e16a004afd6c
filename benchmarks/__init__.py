"""Side-by-side benchmarks of emostudio against FunASR's emotion2vec (`python -m benchmarks.run --suite smoke`)."""
