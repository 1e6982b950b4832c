"""The auth core, always on: users, accounts, sessions, passwords, verification and reset."""
