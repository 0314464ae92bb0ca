"""The billing domain, pure and deterministic: no I/O, no clock (time enters as an argument)."""
