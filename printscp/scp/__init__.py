"""pynetdicom-facing layer: the AE, its contexts and the DIMSE handlers."""
