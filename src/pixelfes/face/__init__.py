"""pixelfes.face."""
