"""livyd's benchmarks (issue 7): ``python -m bench`` runs them all; see bench/RESULTS.md."""
