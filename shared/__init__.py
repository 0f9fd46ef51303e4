"""Building blocks every Cloudivize service uses; no business rules of one service."""
