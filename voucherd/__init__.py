"""voucherd: a self-hostable, Voucherify-compatible promotion and redemption engine."""

__version__ = "0.1.0"
