"""Accounts: passwords, signed cookies and server-side sessions, account rows, login limits, auth routes."""
