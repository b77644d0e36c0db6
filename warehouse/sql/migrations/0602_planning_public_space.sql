-- Planning: parks and public spaces (RPTRA, facilities kind public_space) as a demand layer; its gain per site.
ALTER TABLE placement_candidates ADD COLUMN gain_public_space DOUBLE;
