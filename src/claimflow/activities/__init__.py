"""Thin activities: each calls one integration or one pure function, idempotently."""
