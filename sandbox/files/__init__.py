"""File and database feeds of the sandbox world: EDI 846 supplier files, CSV drops, a WMS
database export. Generators write into a folder the matching connector reads."""
