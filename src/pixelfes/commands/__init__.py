"""pixelfes.commands."""
