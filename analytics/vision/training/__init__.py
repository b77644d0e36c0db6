"""Training scripts for the learned vision heads (not imported at run time)."""
