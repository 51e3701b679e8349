"""pixelfes.evaluate."""
