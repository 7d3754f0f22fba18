"""Account self-service by mail: password reset, address verification, sessions, deletion, notices."""
