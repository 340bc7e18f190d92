"""Control books, the visit report, sealing and verification, personal-data retention."""
