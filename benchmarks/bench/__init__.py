"""A tiny Django project: one view, the authentication system chosen by ``BENCH_AUTH``."""
