"""Domain services: the rules.  Each takes a session (or a fast read connection), returns
plain rows (dicts/dataclasses), and never prints."""
