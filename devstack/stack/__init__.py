"""`make run`: the whole stack on one machine, supervised from one terminal."""
