"""Optional integrations with other packages; each imports its package only when used."""
