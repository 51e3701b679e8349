"""pixelfes.datasets."""
