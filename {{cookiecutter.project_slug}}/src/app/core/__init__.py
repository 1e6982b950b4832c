"""Infrastructure shared by the auth core and every feature: db, security, events, mail, UI."""
