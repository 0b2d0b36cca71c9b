"""`printscp print`: a Print SCU that sends DICOM images or built-in test films to any Print SCP.

A room beside the server: it talks to printers only through pynetdicom as a client and
never imports printscp.scp or printscp.model, so it can test a real laser imager too.
"""
