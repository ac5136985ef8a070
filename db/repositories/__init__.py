"""Async queries over one session. They flush at most; the calling service owns the commit."""
